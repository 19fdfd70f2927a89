//! The Tokenwise facade: the use cases a person has, composed from the headless crates.
//!
//! The desktop shell (`src-tauri`) and the CLI (`tokenwise-cli`) call [`Tokenwise`] and nothing
//! below it, so the rules live here once and both front ends behave the same.
//!
//! Modules depend one way: use cases ([`ask`], [`plan`], [`budgets`], [`keys`]) build on
//! the steps below them ([`local_answer`], [`cloud_answer`] → [`answer_log`], [`ledger`];
//! [`route`] → [`triage`]), and everything on [`facade`], which owns the state
//! ([`budget_file`], the store, the engine slot) and calls none of them.
//!
//! - [`paths`]: where the database and models live (the platform's app-data folder unless
//!   overridden by `TOKENWISE_DATA_DIR` / `TOKENWISE_MODELS_DIR`).
//! - [`facade`]: [`Tokenwise`] itself: engine slot, history, status.
//! - [`plan`]: where a prompt would go, its cost preview and the [`NextStep`] a front end
//!   renders (answer locally, confirm, send under auto-approve, refused).
//! - [`ask`]: one question to one answer: validate, route, hand over.
//! - [`local_answer`]: the local model's answer, fitted into its context window
//!   ([`context`]).
//! - [`cloud_answer`]: the approved cloud answer (reserve → stream → settle).
//! - [`answer_log`]: saving the question and whatever arrived of the answer.
//! - `draft`: the answer's text written as it streams, and the recovery of answers a killed
//!   process left behind (stopped; a killed cloud call charged for what streamed).
//! - [`ledger`]: reserve, settle and release cloud spend; ledger rows for `tokenwise usage`.
//! - [`budget_file`]: the budget file as last read, "now" for the ledger, the notifier.
//! - [`budgets`]: the meter's windows, the ledger row of each local answer, threshold alerts,
//!   and the spend view.
//! - [`company`]: the company's quota server: connect, pull the snapshot, hold a cloud
//!   call's money there first, and the outbox of settlements and usage records;
//!   `company_litellm`: the same link to a LiteLLM proxy (the virtual key's budget, read).
//! - `offline_allowance`: cloud spend allowed while the company's server cannot be reached
//!   (`offline_allowance_usd`), and the cost preview of such a call.
//! - [`policy`]: the organization's managed policy, applied to routing and previews.
//! - [`summarize`]: quick summarize: a copied text's gist by the local model, in parts when
//!   it is long (map-reduce), saved as a conversation with a local answer's ledger row.
//! - [`quick_summarize`]: its settings (on/off, shortcut, selection fallback): the policy over
//!   the person's own, kept in `desktop-settings.json`.
//! - [`local_model`]: which local model answers (the person's choice among downloaded catalog
//!   models), the Models screen (fit verdicts, what the organization allows) and the one
//!   download in progress.
//! - [`keys`]: provider API keys in the OS keyring, for the settings screen.
//! - [`route`]: the conversation a prompt continues and the router's decision on it.
//! - [`triage`]: the classifier's verdict on a prompt and the router over the tier catalog.
//! - [`error`]: [`AppError`] and the `{code, message}` shape of the IPC boundary.

pub mod answer_log;
pub mod ask;
pub mod budget_file;
pub mod budgets;
pub mod cloud_answer;
pub mod company;
mod company_litellm;
pub mod context;
mod draft;
pub mod error;
pub mod facade;
pub mod keys;
pub mod ledger;
pub mod local_answer;
pub mod local_model;
mod offline_allowance;
pub mod paths;
pub mod plan;
pub mod policy;
pub mod quick_summarize;
pub mod route;
pub mod routing_choices;
pub mod summarize;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod triage;

pub use ask::{AskInput, ASK_MAX_PROMPT_CHARS};
pub use budgets::{
    BudgetOverview, ConversationCost, DaySpend, ModelSaving, SpendOverview, TierSpend,
};
pub use company::{CompanyProject, CompanyServerKind, CompanyStatus};
pub use error::{AppError, ErrorPayload};
pub use facade::{AppStatus, Tokenwise};
pub use keys::ProviderKeyStatus;
pub use local_model::{DownloadPhase, ModelDownload, ModelOffer, ModelsScreen, NotAllowedModel};
pub use paths::AppPaths;
pub use plan::{AskPlan, CloudApproval, NextStep};
pub use policy::{PolicyOverview, PolicySetting};
pub use quick_summarize::{QuickSummarizeSettings, QuickSummarizeStatus};
pub use route::RouteQuery;
pub use routing_choices::{ChoicesVote, FeedbackOutcome, RoutingAdjustment, RoutingFeedback};
pub use summarize::{
    CopiedText, OpenInChat, SummarizeInput, SummaryEvent, SummaryOrigin, SummaryPlan,
    ASK_CLOUD_PROMPT,
};
pub use tokenwise_cloud::Timeouts;
pub use tokenwise_core as core;
pub use tokenwise_core::Secret;
pub use tokenwise_models as models;
pub use tokenwise_quota::CostPreview;
pub use tokenwise_store::{LedgerRow, LedgerStatus, ScopeFilter, StoreError};
pub use triage::{PromptClass, RouteContext, Triage};
