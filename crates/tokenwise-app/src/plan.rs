//! The plan for a prompt, before anything is sent or saved: where it would go, what a cloud
//! answer would cost, and what the front end does next ([`NextStep`]). The window and the CLI
//! only render the plan; the decision (answer locally, ask for a yes, send under the
//! auto-approve rule, or refuse) is made here once.

use serde::{Deserialize, Serialize};
use tokenwise_cloud::count_prompt_tokens;
use tokenwise_core::{Placement, PromptMessage, Provider, Role, RouteDecision, TierEntry};
use tokenwise_quota::CostPreview;
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::route::{RouteQuery, Routed};

/// The user's "yes" to a cloud request: this entry, at most this much.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CloudApproval {
    pub tier_id: String,
    /// The maximum cost shown in the preview the user confirmed.
    pub max_cost: tokenwise_core::Money,
}

impl From<&CostPreview> for CloudApproval {
    fn from(preview: &CostPreview) -> Self {
        CloudApproval {
            tier_id: preview.tier_id.clone(),
            max_cost: preview.max_cost,
        }
    }
}

/// What a front end does with a planned prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum NextStep {
    /// The local model answers: ask at once (no approval).
    AnswerLocally,
    /// A cloud pick that waits for the person's yes to the preview's cost. On yes, ask with
    /// `approval`; the alternatives are "answer locally instead" and "cancel".
    #[serde(rename_all = "camelCase")]
    Confirm { approval: CloudApproval },
    /// A cloud pick under the budget file's auto-approve limit: ask at once with `approval`
    /// and show `notice` so the person knows it went out without a question.
    #[serde(rename_all = "camelCase")]
    SendApproved {
        approval: CloudApproval,
        notice: String,
    },
    /// A cloud pick that must not be sent (a hard budget has less left than its maximum
    /// cost): `reason` says so; only the local model is offered.
    #[serde(rename_all = "camelCase")]
    Refused { reason: String },
}

/// Where a prompt would go and, for a cloud pick, what it would cost and what comes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AskPlan {
    pub decision: RouteDecision,
    /// Set for cloud picks: the confirmation dialog's numbers.
    pub preview: Option<CostPreview>,
    pub next: NextStep,
    /// Why no cloud tier was considered (a broken tier catalog or budget file): shown so the
    /// person knows the local answer is not the router's choice.
    pub cloud_blocked: Option<String>,
}

impl NextStep {
    /// The one rule from a route and its preview to what happens next.
    pub fn from_preview(preview: Option<&CostPreview>) -> NextStep {
        let Some(preview) = preview else {
            return NextStep::AnswerLocally;
        };
        let approval = CloudApproval::from(preview);
        if let Some(reason) = &preview.blocked_reason {
            NextStep::Refused {
                reason: reason.clone(),
            }
        } else if preview.auto_approved {
            NextStep::SendApproved {
                notice: format!(
                    "Sent to {} without asking: {} (under your auto-approve limit).",
                    preview.model_name, preview.summary
                ),
                approval,
            }
        } else {
            NextStep::Confirm { approval }
        }
    }
}

impl Tokenwise {
    /// Where a prompt would go, with the cost preview and the next step when it would go to
    /// the cloud. Sends nothing and saves nothing.
    pub async fn plan(&self, query: RouteQuery) -> Result<AskPlan, AppError> {
        let prompt = query.prompt.trim();
        let conversation = self
            .conversation(query.conversation_id.as_deref(), prompt)
            .await?;
        let routed = self
            .decide_route(&conversation.history, prompt, query.choice)
            .await?;
        let preview = match routed.decision.kind {
            Placement::Local => None,
            Placement::Cloud => {
                let messages = with_question(&conversation.history, prompt);
                Some(self.cloud_preview(&routed, &messages)?.0)
            }
        };
        Ok(AskPlan {
            next: NextStep::from_preview(preview.as_ref()),
            decision: routed.decision,
            preview,
            cloud_blocked: routed.cloud_blocked,
        })
    }

    /// The preview of sending `messages` to the routed entry (against the budget windows
    /// the route was decided on), with that entry and its provider.
    pub(crate) fn cloud_preview(
        &self,
        routed: &Routed,
        messages: &[PromptMessage],
    ) -> Result<(CostPreview, TierEntry, Provider), AppError> {
        let catalog = self.triage.catalog();
        let tier_id = &routed.decision.tier_id;
        let Some((entry, provider)) = catalog
            .get(tier_id)
            .and_then(|entry| Some((entry, catalog.provider_of(entry)?)))
        else {
            return Err(AppError::InvalidInput(format!(
                "The catalog has no cloud entry \"{tier_id}\" with a provider."
            )));
        };
        let tokens = count_prompt_tokens(provider.api, &entry.model, messages);
        let budget = &routed.budget;
        let mut preview =
            CostPreview::new(entry, tokens, &budget.statuses, budget.auto_approve_below);
        crate::policy::cap_request(&mut preview, &routed.policy);
        if let Some(left) = budget.offline_allowance_left {
            crate::offline_allowance::limit_to_allowance(&mut preview, left);
        }
        let provider = self.provider_under_policy(&routed.policy, provider);
        Ok((preview, entry.clone(), provider))
    }
}

/// The conversation so far plus the new question: what a cloud model is sent.
pub(crate) fn with_question(history: &[PromptMessage], prompt: &str) -> Vec<PromptMessage> {
    let mut messages = history.to_vec();
    messages.push(PromptMessage::new(Role::User, prompt));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_core::{Money, TierCatalog, TokenCount};

    fn preview() -> CostPreview {
        let catalog = TierCatalog::builtin();
        let frontier = catalog.get("frontier").unwrap();
        let tokens = TokenCount {
            tokens: 1200,
            exact: true,
            method: "test".into(),
        };
        CostPreview::new(frontier, tokens, &[], None)
    }

    #[test]
    fn a_local_pick_is_answered_at_once() {
        assert_eq!(NextStep::from_preview(None), NextStep::AnswerLocally);
    }

    #[test]
    fn a_cloud_pick_waits_for_a_yes_to_exactly_its_entry_and_maximum() {
        let preview = preview();
        let NextStep::Confirm { approval } = NextStep::from_preview(Some(&preview)) else {
            panic!("expected a confirmation");
        };
        assert_eq!(approval.tier_id, "frontier");
        assert_eq!(approval.max_cost, preview.max_cost);
        assert!(approval.max_cost > Money::ZERO);
    }

    #[test]
    fn auto_approved_picks_are_sent_with_a_notice() {
        let mut preview = preview();
        preview.auto_approved = true;
        let NextStep::SendApproved { approval, notice } = NextStep::from_preview(Some(&preview))
        else {
            panic!("expected an approved send");
        };
        assert_eq!(approval, CloudApproval::from(&preview));
        assert!(notice.contains("without asking"), "{notice}");
        assert!(notice.contains(&preview.model_name), "{notice}");
    }

    #[test]
    fn a_blocked_pick_is_refused_even_when_auto_approve_would_cover_it() {
        let mut preview = preview();
        preview.auto_approved = true;
        preview.blocked_reason = Some("today's budget has $0.02 left".into());
        assert_eq!(
            NextStep::from_preview(Some(&preview)),
            NextStep::Refused {
                reason: "today's budget has $0.02 left".into()
            }
        );
    }
}
