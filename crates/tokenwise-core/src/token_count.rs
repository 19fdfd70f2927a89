//! A prompt's size in tokens, and how it was measured.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How many tokens a prompt is, and whether that was counted or estimated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TokenCount {
    pub tokens: u32,
    /// Counted with the target model's own tokenizer (else estimated).
    pub exact: bool,
    /// E.g. "o200k_base (gpt-4o)" or "estimate: 1 token per 3 characters".
    pub method: String,
}
