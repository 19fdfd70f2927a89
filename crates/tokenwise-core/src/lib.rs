//! Tokenwise vocabulary: the plain types every other crate speaks.
//!
//! - [`chat`]: conversations, messages and their statuses.
//! - [`generation`]: what a model is asked ([`GenerationRequest`]) and what it reports back
//!   ([`GenerationStats`]).
//! - [`engine`]: the [`ChatEngine`] contract that the local mistral.rs engine implements and the
//!   app facade consumes, so the facade builds and tests without the engine's heavy dependencies.
//! - [`events`]: what streams to a user interface while an answer is produced.
//!
//! Types that cross the IPC boundary derive `ts_rs::TS`; `cargo test` regenerates
//! `ui/src/bindings/` from them, so the TypeScript side is never hand-copied.

pub mod chat;
pub mod engine;
pub mod error;
pub mod events;
pub mod generation;

pub use chat::{ChatMessage, ConversationSummary, MessageStatus, Role};
pub use engine::{ChatEngine, EngineStatus, GenerationOutcome};
pub use error::Error;
pub use events::ChatEvent;
pub use generation::{GenerationRequest, GenerationStats, PromptMessage};
pub use tokio_util::sync::CancellationToken;
pub mod clock;
pub use clock::{Clock, FixedClock, SystemClock};
