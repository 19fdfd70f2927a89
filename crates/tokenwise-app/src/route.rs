//! Where a prompt would go: the router's decision, before anything is sent.

use serde::{Deserialize, Serialize};
use tokenwise_core::{
    AllowedTiers, ChatMessage, MessageStatus, PromptMessage, Role, RouteDecision, UserChoice,
};
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::triage::RouteContext;

/// A front end's question "where would this prompt go?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RouteQuery {
    /// The conversation the prompt continues (its history is sent too); `None` for a new one.
    pub conversation_id: Option<String>,
    pub prompt: String,
    #[serde(default)]
    pub choice: UserChoice,
}

/// Roughly four characters a token: the estimate used when the local tokenizer is not loaded.
const CHARS_PER_TOKEN_ESTIMATE: usize = 4;

impl Tokenwise {
    /// The router's decision for a prompt: tier, model, estimated cost and a sentence saying
    /// why. Sends nothing and saves nothing.
    pub async fn route(&self, query: RouteQuery) -> Result<RouteDecision, AppError> {
        let history = self
            .history_prompt(query.conversation_id.as_deref())
            .await?;
        self.decide_route(&history, query.prompt.trim(), query.choice)
            .await
    }

    /// The conversation so far as the model reads it (failed and empty answers left out).
    pub(crate) async fn history_prompt(
        &self,
        conversation_id: Option<&str>,
    ) -> Result<Vec<PromptMessage>, AppError> {
        let Some(id) = conversation_id else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .messages(id)
            .await?
            .iter()
            .filter(|m| m.status != MessageStatus::Failed && !m.content.is_empty())
            .map(|m| PromptMessage::new(m.role, m.content.clone()))
            .collect())
    }

    /// The conversation's last question when it is `prompt` and has no answer yet (only
    /// failed ones): asking it again — "answer locally instead" after a failed cloud call —
    /// answers that question instead of saving it twice.
    pub(crate) async fn unanswered_question(
        &self,
        conversation_id: Option<&str>,
        prompt: &str,
    ) -> Result<Option<ChatMessage>, AppError> {
        let Some(id) = conversation_id else {
            return Ok(None);
        };
        let messages = self.store.messages(id).await?;
        Ok(messages
            .into_iter()
            .rev()
            .find(|m| m.status != MessageStatus::Failed)
            .filter(|m| m.role == Role::User && m.content == prompt))
    }

    pub(crate) async fn decide_route(
        &self,
        history: &[PromptMessage],
        prompt: &str,
        choice: UserChoice,
    ) -> Result<RouteDecision, AppError> {
        let prompt_tokens = self.prompt_tokens(history, prompt).await?;
        let headroom = self.headroom().await?;
        Ok(self.triage.route(
            prompt,
            RouteContext {
                prompt_tokens,
                choice,
                // Until managed policy lands: every tier allowed.
                allowed: AllowedTiers::all(),
                budget: &headroom,
                now_ms: self.budget_now(),
            },
        ))
    }

    /// Tokens of history plus prompt: counted by the local model's tokenizer when it is loaded,
    /// estimated from the length otherwise.
    async fn prompt_tokens(
        &self,
        history: &[PromptMessage],
        prompt: &str,
    ) -> Result<u32, AppError> {
        let mut messages = history.to_vec();
        messages.push(PromptMessage::new(Role::User, prompt));
        match self.engine() {
            Ok(engine) => Ok(engine.count_prompt_tokens(&messages).await?),
            Err(_) => {
                let chars: usize = messages.iter().map(|m| m.content.chars().count()).sum();
                Ok(u32::try_from(chars.div_ceil(CHARS_PER_TOKEN_ESTIMATE)).unwrap_or(u32::MAX))
            }
        }
    }
}
