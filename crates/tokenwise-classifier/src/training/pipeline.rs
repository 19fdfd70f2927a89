//! The whole training run: LOSO for the shipped model, its variants and both baselines;
//! temperature calibration; the final fit on all data; export and report data.

use std::collections::BTreeMap;
use std::path::Path;

use crate::baselines::rules::RuleThresholds;
use crate::classifier::Classifier;
use crate::error::{ClassifierError, Result};
use crate::features::{extract, FeatureConfig, Features};
use crate::training::calibration::{
    expected_calibration_error, fit_temperature, negative_log_likelihood,
};
use crate::training::dataset::{Dataset, Record};
use crate::training::export::{to_json, weights_file, Provenance};
use crate::training::loso::{evaluate_rules, evaluate_softmax, train, Evaluation};
use crate::training::{bag_of_words_spec, shipped_spec, variant_specs, ModelSpec};

/// Options of a training run.
#[derive(Debug, Clone)]
pub struct TrainingOptions {
    /// Threads used for LOSO folds (results do not depend on it).
    pub workers: usize,
    /// Also evaluate the exploration variants (slower; needed for the full report).
    pub variants: bool,
}

/// Calibration figures of the shipped model on pooled LOSO predictions.
#[derive(Debug, Clone, Copy)]
pub struct CalibrationSummary {
    /// Fitted temperature.
    pub temperature: f64,
    /// Held-out negative log-likelihood before / after scaling.
    pub nll: (f64, f64),
    /// Held-out expected calibration error (10 bins) before / after scaling.
    pub ece: (f64, f64),
}

/// Everything a training run produces.
#[derive(Debug, Clone)]
pub struct TrainingOutcome {
    /// The dataset trained on.
    pub dataset: Dataset,
    /// Configuration of the shipped model.
    pub spec: ModelSpec,
    /// LOSO evaluation of the shipped model.
    pub shipped: Evaluation,
    /// LOSO evaluation of the rule-based baseline.
    pub rules: Evaluation,
    /// Rule thresholds tuned on each training fold (by held-out source).
    pub rule_thresholds: Vec<(String, RuleThresholds)>,
    /// LOSO evaluation of the bag-of-words baseline.
    pub bag_of_words: Evaluation,
    /// LOSO evaluations of the exploration variants, with their specs.
    pub variants: Vec<(ModelSpec, Evaluation)>,
    /// Calibration of the shipped model.
    pub calibration: CalibrationSummary,
    /// The weights file (JSON text) of the final model trained on all records.
    pub weights_json: String,
    /// Number of non-zero hashed rows stored.
    pub hashed_rows: usize,
    /// Bytes the loaded classifier holds in memory.
    pub memory_bytes: usize,
}

/// Features of every record for each feature configuration, computed once.
struct FeatureCache<'a> {
    records: &'a [Record],
    entries: Vec<(FeatureConfig, Vec<Features>)>,
}

impl<'a> FeatureCache<'a> {
    fn get(&mut self, config: FeatureConfig) -> &[Features] {
        let position = match self.entries.iter().position(|(c, _)| *c == config) {
            Some(position) => position,
            None => {
                let features = self
                    .records
                    .iter()
                    .map(|r| extract(&r.prompt, &config))
                    .collect();
                self.entries.push((config, features));
                self.entries.len() - 1
            }
        };
        &self.entries[position].1
    }
}

/// Runs training and evaluation on the JSONL file at `data`.
pub fn run(data: &Path, options: &TrainingOptions) -> Result<TrainingOutcome> {
    run_on(&Dataset::load(data)?, options)
}

/// Runs training and evaluation on a loaded (perhaps relabelled) dataset.
pub fn run_on(dataset: &Dataset, options: &TrainingOptions) -> Result<TrainingOutcome> {
    let records = &dataset.records;
    if dataset.sources().len() < 2 {
        return Err(ClassifierError::Training(
            "leave-one-source-out needs at least two sources".into(),
        ));
    }
    let mut cache = FeatureCache {
        records,
        entries: Vec::new(),
    };

    let spec = shipped_spec();
    let shipped = evaluate_softmax(records, cache.get(spec.features), &spec, options.workers);
    let bag_spec = bag_of_words_spec();
    let bag_of_words = evaluate_softmax(
        records,
        cache.get(bag_spec.features),
        &bag_spec,
        options.workers,
    );
    let (rules, rule_thresholds) = evaluate_rules(records);

    let mut variants = Vec::new();
    if options.variants {
        for variant in variant_specs() {
            let evaluation = if variant == spec {
                shipped.clone()
            } else {
                let features = cache.get(variant.features);
                evaluate_softmax(records, features, &variant, options.workers)
            };
            variants.push((variant, evaluation));
        }
    }

    let held_out_logits = shipped.logits.clone().unwrap_or_default();
    let labels: Vec<usize> = records.iter().map(|r| r.difficulty.index()).collect();
    let temperature = fit_temperature(&held_out_logits, &labels);
    let calibration = CalibrationSummary {
        temperature,
        nll: (
            negative_log_likelihood(&held_out_logits, &labels, 1.0),
            negative_log_likelihood(&held_out_logits, &labels, temperature),
        ),
        ece: (
            expected_calibration_error(&held_out_logits, &labels, 1.0, 10),
            expected_calibration_error(&held_out_logits, &labels, temperature, 10),
        ),
    };

    let all: Vec<usize> = (0..records.len()).collect();
    let final_weights = train(records, cache.get(spec.features), &all, &spec);
    let provenance = Provenance {
        sha256: &dataset.sha256,
        records: records.len(),
    };
    let file = weights_file(&final_weights, &spec, temperature, &provenance);
    let weights_json = to_json(&file)?;
    let classifier = Classifier::from_weights(&file)?;

    Ok(TrainingOutcome {
        spec,
        shipped,
        rules,
        rule_thresholds,
        bag_of_words,
        variants,
        calibration,
        hashed_rows: file.hashed_weights.len(),
        memory_bytes: classifier.memory_bytes(),
        weights_json,
        dataset: dataset.clone(),
    })
}

/// Number of records per source and tier, sorted by source.
pub fn source_tier_counts(records: &[Record]) -> BTreeMap<String, [usize; 3]> {
    let mut counts: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for record in records {
        counts.entry(record.source.clone()).or_default()[record.difficulty.index()] += 1;
    }
    counts
}
