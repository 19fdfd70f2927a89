//! Where a prompt would go: the router's decision, before anything is sent.

use serde::{Deserialize, Serialize};
use tokenwise_core::{
    AllowedTiers, ChatMessage, MessageStatus, PromptMessage, Role, RouteDecision, UserChoice,
};
use tokenwise_policy::EffectivePolicy;
use ts_rs::TS;

use crate::budgets::BudgetSnapshot;
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

/// A conversation as the next answer reads it.
pub(crate) struct Conversation {
    /// The messages so far (failed and empty answers left out), without `pending`.
    pub history: Vec<PromptMessage>,
    /// The conversation's last question when it is the prompt being asked and has no answer
    /// yet (only failed ones): asking it again — "answer locally instead" after a failed cloud
    /// call — answers that question instead of saving it twice.
    pub pending: Option<ChatMessage>,
}

/// A routing decision and the budget windows it was made against (so a cloud preview that
/// follows uses the same figures without reading them again).
pub(crate) struct Routed {
    pub decision: RouteDecision,
    pub budget: BudgetSnapshot,
    /// The organization's policy, read once for this decision.
    pub policy: EffectivePolicy,
    /// Why cloud answers are blocked right now (a broken tier catalog or budget file); the
    /// decision is then local-only.
    pub cloud_blocked: Option<String>,
}

impl Tokenwise {
    /// The classifier's own verdict on `prompt`, before the router's rules (for audits).
    pub fn classify(&self, prompt: &str) -> crate::triage::PromptClass {
        self.triage.classify(prompt)
    }

    /// The conversation `prompt` continues, read once (see [`Conversation`]).
    pub(crate) async fn conversation(
        &self,
        conversation_id: Option<&str>,
        prompt: &str,
    ) -> Result<Conversation, AppError> {
        let Some(id) = conversation_id else {
            return Ok(Conversation {
                history: Vec::new(),
                pending: None,
            });
        };
        let mut messages = self.store.messages(id).await?;
        messages.retain(|m| m.status != MessageStatus::Failed);
        let pending = messages
            .last()
            .filter(|m| m.role == Role::User && m.content == prompt)
            .cloned();
        if pending.is_some() {
            messages.pop();
        }
        Ok(Conversation {
            history: messages
                .into_iter()
                .filter(|m| !m.content.is_empty())
                .map(|m| PromptMessage::new(m.role, m.content))
                .collect(),
            pending,
        })
    }

    pub(crate) async fn decide_route(
        &self,
        history: &[PromptMessage],
        prompt: &str,
        choice: UserChoice,
    ) -> Result<Routed, AppError> {
        let prompt_tokens = self.prompt_tokens(history, prompt).await?;
        let policy = self.policy();
        let budget = self.budget_snapshot(&policy).await?;
        let cloud_blocked = self
            .catalog_problem
            .clone()
            .or_else(|| policy.cloud_blocked())
            .or_else(|| {
                self.cloud_paused()
                    .then(|| crate::facade::CLOUD_PAUSED.to_string())
            })
            .or(budget.problem.clone());
        // The policy's tiers and the company's list for the user's team (its server refuses
        // other tiers' holds), both.
        let by_policy = crate::policy::allowed_tiers(&policy, self.triage.catalog());
        let allowed = match (&cloud_blocked, by_policy, &budget.allowed_tiers) {
            (Some(_), _, _) => AllowedTiers::cloud_forbidden(),
            (None, Some(ours), Some(company)) => {
                AllowedTiers::only(ours.into_iter().filter(|id| company.contains(id)))
            }
            (None, Some(ids), None) => AllowedTiers::only(ids),
            (None, None, Some(ids)) => AllowedTiers::only(ids.iter().cloned()),
            (None, None, None) => AllowedTiers::all(),
        };
        let local = self.local_model_state();
        let decision = self.triage.route(
            prompt,
            RouteContext {
                prompt_tokens,
                choice,
                allowed,
                budget: &budget.headroom(),
                now_ms: self.budget_now(),
                local_reach: local.reach,
                tiers: local.tiers.as_ref(),
                use_choices: policy.policy.learn_from_choices != Some(false),
            },
        );
        Ok(Routed {
            decision,
            budget,
            policy,
            cloud_blocked,
        })
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
