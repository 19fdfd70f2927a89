//! The Tokenwise facade: the use cases a person has, composed from the headless crates.
//!
//! The desktop shell (`src-tauri`) and the CLI (`tokenwise-cli`) call [`Tokenwise`] and nothing
//! below it, so the rules live here once and both front ends behave the same.
//!
//! - [`paths`]: where the database and models live (the platform's app-data folder unless
//!   overridden by `TOKENWISE_DATA_DIR` / `TOKENWISE_MODELS_DIR`).
//! - [`context`]: fitting a conversation into the model's context window.
//! - [`ask`]: one question to one answer, streamed, saved, stoppable.
//! - [`cloud`]: the cost preview and the approved cloud answer (reserve → stream → settle).
//! - [`keys`]: provider API keys in the OS keyring, for the settings screen.
//! - [`budgets`]: the budget file, the meter's windows, the ledger row of each local answer,
//!   threshold alerts, and the spend view.
//! - [`triage`]: the classifier's verdict on a prompt and the router over the tier catalog.
//! - [`route`]: where a prompt would go, before anything is sent.
//! - [`facade`]: [`Tokenwise`] itself: engine slot, history, status.
//! - [`error`]: [`AppError`] and the `{code, message, details}` shape of the IPC boundary.

pub mod ask;
pub mod budgets;
pub mod cloud;
pub mod context;
pub mod error;
pub mod facade;
pub mod keys;
pub mod paths;
pub mod route;
pub mod triage;

pub use ask::{AskInput, ASK_MAX_PROMPT_CHARS};
pub use budgets::{BudgetOverview, ConversationCost, DaySpend, SpendOverview, TierSpend};
pub use cloud::{AskPlan, CloudApproval};
pub use error::{AppError, ErrorPayload};
pub use facade::{AppStatus, Tokenwise};
pub use keys::ProviderKeyStatus;
pub use paths::AppPaths;
pub use route::RouteQuery;
pub use tokenwise_cloud::Timeouts;
pub use tokenwise_core::Secret;
pub use tokenwise_core as core;
pub use tokenwise_quota::CostPreview;
pub use tokenwise_store::{LedgerRow, LedgerStatus, ScopeFilter};
pub use triage::{PromptClass, RouteContext, Triage};
