//! `tokenwise classify --explain`: each stage's vote on a prompt, and which one the router acts
//! on.
//!
//! The second stage is asked when the first is unsure. Measured held out by source it did not
//! beat the first stage alone (`docs/classifier.md`, "Second stage"), so the router acts on the
//! first stage; the encoder's vote and the two stages' average are shown so that both can be
//! audited on a person's own prompts.

use std::path::Path;

use serde::Serialize;
use tokenwise_classifier::{Classification, Classifier};

use crate::cascade::{SecondStage, SecondStageUse, Stage, StageVote, TwoStage};
use crate::sentence::{SentenceEncoder, ENCODER_DIR};

/// Both stages' view of one prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The verdict the router acts on (the first stage's).
    pub verdict: Classification,
    /// Each stage that voted, first stage first.
    pub stages: Vec<StageVote>,
    /// Whether the second stage was asked, and why not.
    pub second_stage: SecondStageUse,
    /// The average of both stages' probabilities, when the second was asked.
    pub both_stages: Option<StageVote>,
}

/// The two stages, loaded once.
pub struct Explainer {
    two: TwoStage,
}

impl Explainer {
    /// The shipped first stage, and the second from the first of `models_dirs` holding
    /// `all-MiniLM-L6-v2/` (else it is reported unavailable, with the reason).
    pub fn load(first: Classifier, models_dirs: &[&Path]) -> Self {
        let second = match SentenceEncoder::find(models_dirs) {
            Some(dir) => SecondStage::load(&dir).map_err(|error| error.to_string()),
            None => Err(format!(
                "the sentence encoder is not installed (no {ENCODER_DIR}/ in {}); \
                 scripts/fetch-model.sh fetches it",
                models_dirs
                    .iter()
                    .map(|dir| dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        };
        Self {
            two: TwoStage::new(first, second),
        }
    }

    /// Explains one prompt. Never fails.
    pub fn explain(&self, prompt: &str) -> Explanation {
        let verdict = self.two.classify(prompt);
        let both_stages = (verdict.second_stage == SecondStageUse::Asked).then_some(StageVote {
            stage: Stage::Encoder,
            difficulty: verdict.classification.difficulty,
            confidence: verdict.classification.confidence,
            probabilities: verdict.classification.probabilities,
        });
        Explanation {
            verdict: verdict.first,
            stages: verdict.votes,
            second_stage: verdict.second_stage,
            both_stages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_encoder_the_first_stage_explains_alone_and_says_why() {
        let empty = tempfile::tempdir().unwrap();
        let explainer = Explainer::load(Classifier::embedded().unwrap(), &[empty.path()]);
        let unsure = explainer.explain(
            "What is the most successful go to market strategy for a managed services business?",
        );
        assert_eq!(unsure.stages.len(), 1);
        assert!(unsure.both_stages.is_none());
        match &unsure.second_stage {
            SecondStageUse::Unavailable { reason } => {
                assert!(reason.contains("not installed"), "{reason}")
            }
            other => panic!("expected unavailable, got {other:?}"),
        }
        let confident = explainer.explain("What is the capital of France?");
        assert_eq!(confident.second_stage, SecondStageUse::NotNeeded);
    }
}
