//! For integration tests only (feature `test-support`, never on in a shipped build): the
//! ledger steps of a cloud answer, so a test can hold, settle and release money through the
//! facade without a cloud call; [`WordsEngine`], a local model that says the same words; and
//! [`open_with_policy`], the facade most integration tests start from.

use tokenwise_core::{
    CancellationToken, ChatEngine, Error, GenerationOutcome, GenerationRequest, GenerationStats,
    PromptMessage,
};
use tokenwise_core::{Money, RouteDecision};
use tokenwise_store::Reservation;

use crate::error::AppError;
use crate::facade::Tokenwise;

impl Tokenwise {
    /// See the cloud answer's reserve step.
    pub async fn test_reserve_cloud(
        &self,
        request_id: &str,
        conversation_id: Option<&str>,
        decision: &RouteDecision,
    ) -> Result<Reservation, AppError> {
        self.reserve_cloud(request_id, conversation_id, decision)
            .await
    }

    /// See the cloud answer's settle step.
    pub async fn test_settle_cloud(
        &self,
        request_id: &str,
        tokens_in: u32,
        tokens_out: u32,
        cost: Money,
    ) -> Result<Vec<String>, AppError> {
        self.settle_cloud(request_id, tokens_in, tokens_out, cost)
            .await
    }

    /// See the cloud answer's release step.
    pub async fn test_release_cloud(&self, request_id: &str) -> Result<(), AppError> {
        self.release_cloud(request_id).await
    }
}

/// A facade on `data` (database and files) reading the organization's policy from the folder
/// `policy`, the system clock, and a [`WordsEngine`] saying `words` as its loaded local model.
pub async fn open_with_policy(
    data: &std::path::Path,
    policy: &std::path::Path,
    words: &[&str],
) -> Tokenwise {
    let paths = crate::AppPaths {
        data_dir: data.to_path_buf(),
        models_dir: data.join("models"),
    };
    let app = Tokenwise::open(paths, std::sync::Arc::new(tokenwise_core::SystemClock))
        .await
        .expect("the facade opens on a fresh folder")
        .with_policy_dirs(tokenwise_policy::PolicyDirs {
            root: policy.to_path_buf(),
        });
    app.engine_ready(std::sync::Arc::new(WordsEngine::new(words)));
    app
}

/// The scripted engines' token count: one token a word, plus three for each message's chat
/// template.
pub fn words_as_tokens(messages: &[PromptMessage]) -> u32 {
    messages
        .iter()
        .map(|m| m.content.split_whitespace().count() as u32 + 3)
        .sum()
}

/// A local model that answers every prompt with the same words, one token each: for tests
/// that need an answer, not the real model.
pub struct WordsEngine {
    words: Vec<String>,
}

impl WordsEngine {
    pub fn new(words: &[&str]) -> WordsEngine {
        WordsEngine {
            words: words.iter().map(|w| w.to_string()).collect(),
        }
    }
}

#[async_trait::async_trait]
impl ChatEngine for WordsEngine {
    fn model_name(&self) -> String {
        "words".into()
    }

    fn context_tokens(&self) -> u32 {
        4096
    }

    async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error> {
        Ok(words_as_tokens(messages))
    }

    async fn generate(
        &self,
        request: GenerationRequest,
        tokens: tokio::sync::mpsc::UnboundedSender<String>,
        _cancel: CancellationToken,
    ) -> Result<GenerationOutcome, Error> {
        let tokens_in = self.count_prompt_tokens(&request.messages).await?;
        for word in &self.words {
            let _ = tokens.send(format!("{word} "));
        }
        Ok(GenerationOutcome {
            stats: GenerationStats {
                model: "words".into(),
                tokens_in,
                tokens_out: self.words.len() as u32,
                time_to_first_token_ms: 1,
                prefill_tokens_per_second: 0.0,
                decode_tokens_per_second: 0.0,
                total_ms: 1,
            },
            stopped: false,
        })
    }
}
