//! Triage: how hard a prompt is, and which tier should answer it.
//!
//! Wraps the shipped classifier and the tier catalog: [`Triage::classify`] gives the small,
//! serialisable verdict the CLI prints; [`Triage::route`] feeds that verdict to the pure router
//! in `tokenwise-core` with the budget and the user's choice.

use std::sync::RwLock;

use serde::Serialize;
use tokenwise_classifier::{Classification, Classifier, Correction, OverrideExample};
use tokenwise_core::{
    route, AllowedTiers, BudgetHeadroom, Difficulty, RouteDecision, RouteInput, TierCatalog,
    UserChoice,
};

use crate::error::AppError;

/// The classifier's verdict on one prompt, as the CLI prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptClass {
    /// `simple`, `medium` or `complex`.
    pub difficulty: Difficulty,
    /// Calibrated probability of `tier`, rounded to two decimals.
    pub confidence: f32,
    /// The strongest signals behind the verdict, e.g. "short factoid question".
    pub reason: String,
}

impl PromptClass {
    pub fn from_classification(classification: &Classification) -> Self {
        let reason = if classification.signals.is_empty() {
            "no strong signal".to_string()
        } else {
            classification
                .signals
                .iter()
                .map(|signal| signal.description.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        };
        Self {
            difficulty: classification.difficulty,
            confidence: (classification.confidence * 100.0).round() / 100.0,
            reason,
        }
    }
}

/// What the router needs to know about a prompt besides its text.
pub struct RouteContext<'a> {
    /// Tokens of the prompt as it would be sent (history included).
    pub prompt_tokens: u32,
    pub choice: UserChoice,
    pub allowed: AllowedTiers,
    pub budget: &'a dyn BudgetHeadroom,
    pub now_ms: i64,
    /// The hardest tier the loaded local model answers acceptably.
    pub local_reach: Difficulty,
    /// The tier catalog with the loaded local model in its local entry; `None`: as shipped.
    pub tiers: Option<&'a TierCatalog>,
    /// Apply the person's routing choices (`crate::routing_choices`).
    pub use_choices: bool,
}

/// The shipped classifier and the tier catalog, loaded once.
pub struct Triage {
    classifier: Classifier,
    catalog: TierCatalog,
    /// Built from the person's routing choices; none until they make one.
    correction: RwLock<Correction>,
}

/// The copy of the last tier catalog file that validated, kept in the data folder.
pub const LAST_GOOD_CATALOG_FILE: &str = "tiers.last-good.toml";

impl Triage {
    /// The classifier weights and the tier catalog compiled into the binary
    /// (`tokenwise-classifier/weights/`, `tokenwise-core/catalog/tiers.toml`).
    pub fn embedded() -> Result<Self, AppError> {
        let classifier = Classifier::embedded()
            .map_err(|error| AppError::InvalidInput(format!("classifier weights: {error}")))?;
        let catalog = TierCatalog::builtin();
        Ok(Self::new(classifier, catalog))
    }

    /// The embedded classifier with the catalog at `tiers_file` when that file exists (or is
    /// `required`). A file that validates is copied to [`LAST_GOOD_CATALOG_FILE`] in
    /// `data_dir`. A file that cannot be read or does not validate, or a required one that
    /// does not exist, leaves the last good copy (else the built-in catalog) for the local
    /// model and the window's lists, and returns the problem: the facade then blocks every cloud answer (fail closed), so tiers the company
    /// removed do not come back and no key goes to a default endpoint instead of the
    /// company's.
    pub fn with_catalog_file(
        tiers_file: &std::path::Path,
        required: bool,
        data_dir: &std::path::Path,
    ) -> Result<(Self, Option<String>), AppError> {
        use tokenwise_core::config_file::{read_config_text, MAX_CONFIG_BYTES};
        let mut triage = Self::embedded()?;
        let exists = std::fs::symlink_metadata(tiers_file).is_ok();
        if !exists && !required {
            return Ok((triage, None));
        }
        let last_good = data_dir.join(LAST_GOOD_CATALOG_FILE);
        match TierCatalog::load(tiers_file) {
            Ok(catalog) => {
                triage.catalog = catalog;
                // Kept for a later process that finds the file broken (best effort).
                if let Ok(text) = read_config_text(tiers_file, MAX_CONFIG_BYTES) {
                    if std::fs::read_to_string(&last_good).ok().as_deref() != Some(&text) {
                        if let Err(error) = crate::paths::write_private(&last_good, &text) {
                            eprintln!("tokenwise: could not keep the last good catalog: {error}");
                        }
                    }
                }
                Ok((triage, None))
            }
            Err(error) => {
                // The company's last good catalog (not the built-in one) is what the window
                // lists; the cloud stays blocked either way.
                let name = format!("{} (last good copy)", tiers_file.display());
                let kept = read_config_text(&last_good, MAX_CONFIG_BYTES)
                    .ok()
                    .and_then(|text| TierCatalog::from_toml_str(&text, &name).ok());
                let shown = match kept {
                    Some(catalog) => {
                        triage.catalog = catalog;
                        " The last good catalog is shown."
                    }
                    None => "",
                };
                Ok((
                    triage,
                    Some(format!(
                        "{error} Cloud answers are off until it is fixed; the local model \
                         answers.{shown}"
                    )),
                ))
            }
        }
    }

    pub fn new(classifier: Classifier, catalog: TierCatalog) -> Self {
        Self {
            classifier,
            catalog,
            correction: RwLock::new(Correction::none()),
        }
    }

    /// Replaces the correction built from the person's choices.
    pub fn set_correction(&self, correction: Correction) {
        *self.correction.write().unwrap_or_else(|e| e.into_inner()) = correction;
    }

    /// How many choices the current correction was built from.
    pub fn correction_choices(&self) -> usize {
        self.correction
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .choices()
    }

    /// What to keep of `prompt` when the person wanted `wanted` for it.
    pub fn override_example(&self, prompt: &str, wanted: Difficulty) -> OverrideExample {
        self.classifier.override_example(prompt, wanted)
    }

    pub fn catalog(&self) -> &TierCatalog {
        &self.catalog
    }

    /// Classifies one prompt. Never fails: any text, of any length, gets a verdict.
    pub fn classify(&self, prompt: &str) -> PromptClass {
        PromptClass::from_classification(&self.classifier.classify(prompt))
    }

    /// The classifier's verdict with the person's choices applied when `use_choices`, and
    /// whether they changed the tier.
    pub fn classify_with_choices(&self, prompt: &str, use_choices: bool) -> (Classification, bool) {
        if use_choices {
            let correction = self.correction.read().unwrap_or_else(|e| e.into_inner());
            self.classifier.classify_corrected(prompt, &correction)
        } else {
            (self.classifier.classify(prompt), false)
        }
    }

    /// Classifies `prompt` (with the person's choices applied when `use_choices`) and decides
    /// which catalog entry answers it.
    pub fn route(&self, prompt: &str, context: RouteContext<'_>) -> RouteDecision {
        let (classification, adjusted) = self.classify_with_choices(prompt, context.use_choices);
        let input = RouteInput {
            difficulty: classification.difficulty,
            // The person's own choices settled the doubt: the "unsure, so try local" rule
            // must not undo a "Not good enough: ask a cloud tier".
            confidence: if adjusted {
                classification
                    .confidence
                    .max(tokenwise_core::router::UNSURE_BELOW)
            } else {
                classification.confidence
            },
            reason: classification
                .signals
                .first()
                .map(|signal| signal.description.clone())
                .unwrap_or_default(),
            prompt_tokens: context.prompt_tokens,
            choice: context.choice,
            allowed: context.allowed,
            local_reach: context.local_reach,
            now_ms: context.now_ms,
        };
        let mut decision = route(
            &input,
            context.tiers.unwrap_or(&self.catalog),
            context.budget,
        );
        if adjusted {
            decision
                .explanation
                .push_str(" (Adjusted by your earlier routing choices.)");
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_core::{NoBudget, Placement, RouteReason};

    fn context(choice: UserChoice) -> RouteContext<'static> {
        RouteContext {
            prompt_tokens: 40,
            choice,
            allowed: AllowedTiers::all(),
            budget: &NoBudget,
            now_ms: 0,
            local_reach: Difficulty::Simple,
            tiers: None,
            use_choices: true,
        }
    }

    const HARD: &str = "Design a distributed rate limiter for a multi-region API: compare token \
        bucket and sliding window approaches, analyse the consistency trade-offs step by step, \
        prove the bound on over-admission, and write the Rust implementation with tests.";

    #[test]
    fn a_factoid_is_simple_with_a_reason() {
        let triage = Triage::embedded().unwrap();
        let class = triage.classify("What is the capital of France?");
        assert_eq!(class.difficulty, Difficulty::Simple);
        assert!(
            class.confidence > 0.34 && class.confidence <= 1.0,
            "{class:?}"
        );
        assert!(!class.reason.is_empty());
    }

    #[test]
    fn a_multi_step_engineering_task_is_not_simple() {
        let triage = Triage::embedded().unwrap();
        let class = triage.classify(HARD);
        assert_ne!(class.difficulty, Difficulty::Simple, "{class:?}");
    }

    #[test]
    fn confidence_is_rounded_for_people() {
        let triage = Triage::embedded().unwrap();
        let class = triage.classify("Summarize this: the meeting moved to Tuesday.");
        assert_eq!(class.confidence, (class.confidence * 100.0).round() / 100.0);
    }

    #[test]
    fn a_factoid_routes_to_the_free_local_model() {
        let triage = Triage::embedded().unwrap();
        let decision = triage.route("What is the capital of France?", context(UserChoice::Auto));
        assert_eq!(decision.kind, Placement::Local);
        assert!(decision.estimated_cost.is_zero());
        assert!(
            decision.explanation.contains("local"),
            "{}",
            decision.explanation
        );
    }

    #[test]
    fn a_hard_task_routes_to_the_cloud_unless_forced_local() {
        let triage = Triage::embedded().unwrap();
        let long = RouteContext {
            prompt_tokens: 600,
            ..context(UserChoice::Auto)
        };
        let decision = triage.route(HARD, long);
        assert_eq!(decision.kind, Placement::Cloud, "{}", decision.explanation);
        assert!(decision.needs_confirmation);
        assert!(!decision.estimated_cost.is_zero());
        let forced = triage.route(HARD, context(UserChoice::ForceLocal));
        assert_eq!(forced.kind, Placement::Local);
        assert_eq!(forced.reason, RouteReason::ForcedLocal);
    }

    /// A short prompt the shipped weights are unsure about (not simple, confidence 0.34):
    /// both preconditions are asserted, so a retrained model that changes them fails here
    /// loudly instead of testing the other branch.
    const UNSURE: &str = "What is the most successful go to market strategy for a managed \
        services business?";

    #[test]
    fn an_unsure_verdict_on_a_short_prompt_tries_local_first() {
        let triage = Triage::embedded().unwrap();
        let class = triage.classify(UNSURE);
        assert_ne!(class.difficulty, Difficulty::Simple, "{class:?}");
        assert!(
            class.confidence < tokenwise_core::router::UNSURE_BELOW,
            "{class:?}"
        );
        let decision = triage.route(UNSURE, context(UserChoice::Auto));
        assert_eq!(decision.reason, RouteReason::UnsureShortPrompt);
        assert_eq!(decision.kind, Placement::Local);
    }

    #[test]
    fn a_confident_verdict_on_a_short_prompt_goes_to_the_cloud() {
        let triage = Triage::embedded().unwrap();
        let class = triage.classify(HARD);
        assert!(
            class.confidence >= tokenwise_core::router::UNSURE_BELOW,
            "{class:?}"
        );
        let decision = triage.route(HARD, context(UserChoice::Auto));
        assert_eq!(decision.kind, Placement::Cloud, "{}", decision.explanation);
    }
}
