//! A person's routing choices: "Not good enough: ask a cloud tier" on a local answer and "A
//! local answer would do" on a cloud pick. Each is stored (task cues and scores, never the
//! prompt; `tokenwise-store`), and the correction built from all of them
//! (`tokenwise_classifier::correction`) moves later prompts like those towards the person's
//! judgement. The policy key `learn_from_choices: false` turns both off.

use serde::Serialize;
use tokenwise_classifier::{Correction, OverrideExample};
use tokenwise_core::Difficulty;
use tokenwise_policy::EffectivePolicy;
use tokenwise_store::RoutingChoice;
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;

/// What the person's choices do to routing, for Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RoutingAdjustment {
    /// How many kept choices adjust routing (0 when learning is off).
    pub choices: u32,
    /// Whether choices are kept and used.
    pub enabled: bool,
    /// The organization set `learn_from_choices` (managed): the person cannot change it.
    pub locked: bool,
}

/// What a recorded choice leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FeedbackOutcome {
    pub adjustment: RoutingAdjustment,
    /// "Not good enough": the cloud catalog entry to ask now (its cost dialog comes first);
    /// `None` when no cloud entry serves the wanted tier or above, or for "A local answer
    /// would do".
    pub ask_entry: Option<String>,
}

/// What the person's choices do to one prompt's tier (`tokenwise classify --explain`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoicesVote {
    /// Whether choices are kept and used (the policy's `learn_from_choices`).
    pub enabled: bool,
    /// The organization decided it.
    pub locked: bool,
    /// How many kept choices the correction is built from.
    pub choices: u32,
    /// The choices changed the classifier's tier for this prompt.
    pub adjusted: bool,
    /// The tier after the choices (the classifier's when not adjusted).
    pub difficulty: Difficulty,
    pub confidence: f32,
}

/// Which way a person corrected a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum RoutingFeedback {
    /// "Not good enough: ask a cloud tier": the local answer was not acceptable.
    NeedsCloud,
    /// "A local answer would do": the cloud pick was more than needed.
    LocalWouldDo,
}

impl RoutingFeedback {
    /// The tier the person wanted, given the tier the prompt was routed at: one tier up
    /// (at least medium) or simple.
    pub fn wanted(self, routed: Difficulty) -> Difficulty {
        match self {
            RoutingFeedback::NeedsCloud => match routed {
                Difficulty::Simple => Difficulty::Medium,
                _ => Difficulty::Complex,
            },
            RoutingFeedback::LocalWouldDo => Difficulty::Simple,
        }
    }
}

fn to_row(example: &OverrideExample, now_ms: i64) -> RoutingChoice {
    RoutingChoice {
        created_at_ms: now_ms,
        wanted: example.wanted.to_string(),
        shipped: example.shipped().to_string(),
        features: example.features.clone(),
        scores: example.logits,
    }
}

fn from_row(row: &RoutingChoice) -> Option<OverrideExample> {
    Some(OverrideExample {
        features: row.features.clone(),
        logits: row.scores,
        wanted: Difficulty::parse(&row.wanted)?,
    })
}

/// Whether `policy` lets choices adjust routing, and whether the organization decided it.
fn learning(policy: &EffectivePolicy) -> (bool, bool) {
    let locked = policy
        .setting("learn_from_choices")
        .is_some_and(|setting| setting.locked);
    (policy.policy.learn_from_choices != Some(false), locked)
}

impl Tokenwise {
    /// Rebuilds the correction from every kept choice. Called at start and after every
    /// change; whether it applies is the policy's say at each use (a route, Settings), so a
    /// policy switched back on needs no reload.
    pub(crate) async fn reload_routing_choices(&self) -> Result<(), AppError> {
        let rows = self.store.routing_choices().await?;
        let examples: Vec<OverrideExample> = rows.iter().filter_map(from_row).collect();
        self.triage.set_correction(Correction::fit(&examples));
        Ok(())
    }

    /// What the choices do to routing now.
    pub fn routing_adjustment(&self) -> RoutingAdjustment {
        self.adjustment_under(&self.policy())
    }

    fn adjustment_under(&self, policy: &EffectivePolicy) -> RoutingAdjustment {
        let (enabled, locked) = learning(policy);
        RoutingAdjustment {
            choices: if enabled {
                u32::try_from(self.triage.correction_choices()).unwrap_or(u32::MAX)
            } else {
                0
            },
            enabled,
            locked,
        }
    }

    /// What the kept choices do to `prompt`'s tier.
    pub fn choices_vote(&self, prompt: &str) -> ChoicesVote {
        let adjustment = self.routing_adjustment();
        let (classification, adjusted) = self
            .triage
            .classify_with_choices(prompt, adjustment.enabled);
        ChoicesVote {
            enabled: adjustment.enabled,
            locked: adjustment.locked,
            choices: adjustment.choices,
            adjusted,
            difficulty: classification.difficulty,
            confidence: classification.confidence,
        }
    }

    /// Keeps the person's verdict on how `prompt` was routed (`routed`: the tier it was given)
    /// and adjusts routing (with learning off, nothing is kept), and says which cloud entry to
    /// ask when the local answer was not good enough.
    pub async fn record_routing_feedback(
        &self,
        prompt: &str,
        routed: Difficulty,
        feedback: RoutingFeedback,
    ) -> Result<FeedbackOutcome, AppError> {
        if prompt.trim().is_empty() {
            return Err(AppError::InvalidInput(
                "There is no prompt to learn from.".into(),
            ));
        }
        let policy = self.policy();
        let wanted = feedback.wanted(routed);
        if learning(&policy).0 {
            let example = self.triage.override_example(prompt, wanted);
            self.store
                .add_routing_choice(&to_row(&example, self.clock.now_ms()))
                .await?;
            self.reload_routing_choices().await?;
        }
        let ask_entry = match feedback {
            RoutingFeedback::NeedsCloud => self.cloud_entry_from(wanted, &policy),
            RoutingFeedback::LocalWouldDo => None,
        };
        Ok(FeedbackOutcome {
            adjustment: self.adjustment_under(&policy),
            ask_entry,
        })
    }

    /// The catalog's cloud entry for `tier`, else for the next harder tier; only entries the
    /// organization allows, and none while the cloud is blocked.
    fn cloud_entry_from(&self, tier: Difficulty, policy: &EffectivePolicy) -> Option<String> {
        if self.catalog_problem.is_some() || policy.cloud_blocked().is_some() {
            return None;
        }
        let catalog = self.triage.catalog();
        let allowed = crate::policy::allowed_tiers(policy, catalog);
        Difficulty::ALL[tier.index()..]
            .iter()
            .find_map(|&difficulty| {
                catalog
                    .for_tier(difficulty)
                    .filter(|entry| entry.kind == tokenwise_core::Placement::Cloud)
                    .filter(|entry| allowed.as_ref().is_none_or(|ids| ids.contains(&entry.id)))
                    .map(|entry| entry.id.clone())
            })
    }

    /// Forgets every choice: routing is the shipped model's again.
    pub async fn reset_routing_choices(&self) -> Result<RoutingAdjustment, AppError> {
        self.store.clear_routing_choices().await?;
        self.reload_routing_choices().await?;
        Ok(self.routing_adjustment())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_asks_for_one_tier_up_or_the_local_model() {
        use Difficulty::*;
        assert_eq!(RoutingFeedback::NeedsCloud.wanted(Simple), Medium);
        assert_eq!(RoutingFeedback::NeedsCloud.wanted(Medium), Complex);
        assert_eq!(RoutingFeedback::LocalWouldDo.wanted(Complex), Simple);
    }
}
