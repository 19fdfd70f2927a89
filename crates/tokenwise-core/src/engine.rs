//! The contract between the app facade and a chat model engine.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::Error;
use crate::generation::{GenerationRequest, GenerationStats, PromptMessage};

/// A model that answers chat prompts, streaming.
///
/// Implemented by `tokenwise-local` over mistral.rs; tests of the facade use small fakes.
#[async_trait]
pub trait ChatEngine: Send + Sync {
    /// Human-readable model name, e.g. "SmolLM2-135M-Instruct Q4_1".
    fn model_name(&self) -> String;

    /// The model's context window in tokens (prompt plus answer).
    fn context_tokens(&self) -> u32;

    /// Exact number of prompt tokens these messages take after the chat template is applied.
    async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error>;

    /// Produces one answer, sending each piece of text to `tokens` as it arrives.
    ///
    /// Returns when the model finishes or `cancel` fires; a cancelled generation returns `Ok`
    /// with the figures so far and [`GenerationOutcome::stopped`] set. While one generation
    /// runs, another call returns [`Error::EngineBusy`] at once.
    async fn generate(
        &self,
        request: GenerationRequest,
        tokens: UnboundedSender<String>,
        cancel: CancellationToken,
    ) -> Result<GenerationOutcome, Error>;
}

/// How a generation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationOutcome {
    pub stats: GenerationStats,
    /// True when the cancel token ended it.
    pub stopped: bool,
}

/// Whether the local model can answer, for the status line of a user interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum EngineStatus {
    /// The model file is being checked and loaded.
    Loading { model: String },
    /// Ready to answer.
    #[serde(rename_all = "camelCase")]
    Ready { model: String, context_tokens: u32 },
    /// The model cannot be used; `message` names the file and what to do.
    Unavailable { message: String },
}
