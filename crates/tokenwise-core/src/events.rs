//! What streams to a user interface while an answer is produced.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::chat::{ChatMessage, RouteBadge};
use crate::error_code::ErrorCode;

/// One event of an answer in progress, in order: `Started`, any number of `Token`s, then
/// exactly one of `Finished` or `Failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum ChatEvent {
    /// The question is saved; the answer is on its way.
    #[serde(rename_all = "camelCase")]
    Started {
        conversation_id: String,
        user_message: ChatMessage,
        /// Messages dropped from the front of the history to fit the model's context.
        dropped_history_messages: u32,
        /// Where the router sent the question.
        route: RouteBadge,
    },
    /// A piece of the answer's text.
    Token { text: String },
    /// The answer is complete (or was stopped) and saved.
    Finished { message: ChatMessage },
    /// The answer could not be produced; `message` says why and what to do.
    #[serde(rename_all = "camelCase")]
    Failed {
        code: ErrorCode,
        message: String,
        /// The partial answer, saved, if any text had arrived.
        partial: Option<ChatMessage>,
        /// A cloud call failed without charge: offer the local model for the same question.
        offer_local_answer: bool,
    },
}
