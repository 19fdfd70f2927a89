//! Tokenwise vocabulary: the plain types every other crate speaks.
//!
//! - [`budget_window`]: [`BudgetWindow`] and [`WindowKind`], one budget window as the budget
//!   rules, the ledger and the facade all see it.
//! - [`chat`]: conversations, messages and their statuses.
//! - [`clipboard`]: [`ClipboardContent`], what a clipboard read found (text, image, files…).
//! - [`generation`]: what a model is asked ([`GenerationRequest`]) and what it reports back
//!   ([`GenerationStats`]).
//! - [`host`]: facts about this machine for benchmark reports (CPU model).
//! - [`engine`]: the [`ChatEngine`] contract that the local mistral.rs engine implements and the
//!   app facade consumes, so the facade builds and tests without the engine's heavy dependencies.
//! - [`events`]: what streams to a user interface while an answer is produced.
//! - [`config_file`]: [`config_file::read_config_text`], the one bounded, regular-file-only
//!   read of every configuration file.
//! - [`clock`]: time, passed in ([`Clock`]), so logic that depends on "now" is testable.
//! - [`tier`]: the three routing tiers ([`Difficulty`]) the classifier predicts.
//! - [`money`]: [`Money`] in integer micro-dollars and per-million-token [`Price`]s.
//! - [`tiers`]: the tier catalog ([`TierCatalog`], default `crates/tokenwise-core/catalog/tiers.toml`): which model
//!   serves each tier, local or cloud, at what price; loaded from TOML and validated.
//! - [`router`]: [`route`], the pure decision of which catalog entry answers a prompt, from the
//!   classifier's verdict, the policy, the budget's headroom and the user's choice.
//! - [`secret`]: [`Secret`], an API key that never prints.
//! - [`error`]: the crate's one error type, [`Error`].
//! - [`error_code`]: [`ErrorCode`], the closed set of failure codes every crate maps into.
//!
//! Types that cross the IPC boundary derive `ts_rs::TS`; `cargo test` regenerates
//! `ui/src/bindings/` from them, so the TypeScript side is never hand-copied.

pub mod budget_window;
pub mod chat;
pub mod clipboard;
pub mod clock;
pub mod config_file;
pub mod difficulty;
pub mod engine;
pub mod error;
pub mod error_code;
pub mod events;
pub mod generation;
pub mod host;
pub mod money;
pub mod providers;
pub mod router;
pub mod scope;
pub mod secret;
pub mod tiers;
pub mod token_count;

pub use budget_window::{BudgetWindow, WindowKind};
pub use chat::{ChatMessage, ConversationSummary, MessageStatus, Role, RouteBadge};
pub use clipboard::ClipboardContent;
pub use clock::{Clock, FixedClock, SystemClock};
pub use difficulty::Difficulty;
pub use engine::{ChatEngine, EngineStatus, GenerationOutcome};
pub use error::Error;
pub use error_code::ErrorCode;
pub use events::ChatEvent;
pub use generation::{GenerationRequest, GenerationStats, PromptMessage};
pub use money::{Money, Price};
pub use providers::{Provider, ProviderApi};
pub use router::{
    route, AllowedTiers, BudgetHeadroom, FixedHeadroom, NoBudget, RouteDecision, RouteInput,
    RouteReason, SkipCause, SkippedTier, UserChoice,
};
pub use scope::{ScopeKind, Scopes};
pub use secret::Secret;
pub use tiers::{Placement, TierCatalog, TierEntry};
pub use token_count::TokenCount;
pub use tokio_util::sync::CancellationToken;
