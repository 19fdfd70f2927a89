//! What a chat model is asked and what it reports back.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::chat::Role;

/// One message of the prompt given to a model (history plus the new question).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptMessage {
    pub role: Role,
    pub content: String,
}

impl PromptMessage {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// A request for one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub messages: Vec<PromptMessage>,
    /// Upper bound on the answer's length in tokens.
    pub max_new_tokens: u32,
    /// Greedy decoding (always the most likely token): reproducible answers for tests and
    /// benchmarks. Otherwise the model's default sampling.
    pub greedy: bool,
}

/// Figures of one generation, shown under each answer and recorded with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GenerationStats {
    /// The model that answered, e.g. "SmolLM2-135M-Instruct Q4_1".
    pub model: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    /// From sending the request to the first token of the answer.
    pub time_to_first_token_ms: u32,
    /// Prompt processing speed.
    pub prefill_tokens_per_second: f32,
    /// Answer generation speed.
    pub decode_tokens_per_second: f32,
    /// From sending the request to the last token.
    pub total_ms: u32,
}

impl GenerationStats {
    /// This generation and a `later` one for the same answer (the part summaries and then the
    /// summary of a long text): tokens and total time added, the first token's time this
    /// one's, the speeds `later`'s.
    pub fn followed_by(self, later: GenerationStats) -> GenerationStats {
        GenerationStats {
            tokens_in: self.tokens_in.saturating_add(later.tokens_in),
            tokens_out: self.tokens_out.saturating_add(later.tokens_out),
            time_to_first_token_ms: self.time_to_first_token_ms,
            total_ms: self.total_ms.saturating_add(later.total_ms),
            ..later
        }
    }
}
