//! Leave-one-source-out (LOSO) validation: hold out each source in turn, train on the rest,
//! predict the held-out source, and pool all held-out predictions.

use std::collections::BTreeMap;

use crate::baselines::rules::{score as rule_score, RuleThresholds};
use crate::features::Features;
use crate::math::argmax3;
use crate::training::dataset::Record;
use crate::training::metrics::ConfusionMatrix;
use crate::training::softmax_regression::{fit, Example, SoftmaxWeights};
use crate::training::{Balance, ModelSpec};
use crate::Difficulty;

/// Pooled held-out predictions of one method.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Method name.
    pub name: String,
    /// Held-out prediction for every record (file order).
    pub predictions: Vec<Difficulty>,
    /// Held-out uncalibrated logits (softmax models only).
    pub logits: Option<Vec<[f64; 3]>>,
}

impl Evaluation {
    /// Confusion matrix over all records.
    pub fn confusion(&self, records: &[Record]) -> ConfusionMatrix {
        ConfusionMatrix::from_pairs(
            records
                .iter()
                .map(|r| r.difficulty)
                .zip(self.predictions.clone()),
        )
    }

    /// Confusion matrix per held-out source.
    pub fn per_source(&self, records: &[Record]) -> BTreeMap<String, ConfusionMatrix> {
        let mut by_source: BTreeMap<String, Vec<(Difficulty, Difficulty)>> = BTreeMap::new();
        for (record, prediction) in records.iter().zip(&self.predictions) {
            by_source
                .entry(record.source.clone())
                .or_default()
                .push((record.difficulty, *prediction));
        }
        by_source
            .into_iter()
            .map(|(source, pairs)| (source, ConfusionMatrix::from_pairs(pairs)))
            .collect()
    }
}

/// One fold: the held-out source, training indices and held-out indices.
#[derive(Debug, Clone)]
pub struct Fold {
    /// The held-out source.
    pub source: String,
    /// Indices of training records.
    pub train: Vec<usize>,
    /// Indices of held-out records.
    pub test: Vec<usize>,
}

/// The LOSO folds, one per source, sorted by source name.
pub fn folds(records: &[Record]) -> Vec<Fold> {
    let mut sources: Vec<&str> = records.iter().map(|r| r.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    sources
        .into_iter()
        .map(|source| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..records.len()).partition(|&i| records[i].source == source);
            Fold {
                source: source.to_string(),
                train,
                test,
            }
        })
        .collect()
}

/// Sample weights for `indices`, summing to `indices.len()`.
pub fn sample_weights(records: &[Record], indices: &[usize], balance: Balance) -> Vec<f64> {
    let mut group_sizes: BTreeMap<(usize, &str), usize> = BTreeMap::new();
    let mut tier_sizes = [0usize; 3];
    for &i in indices {
        let record = &records[i];
        let source = match balance {
            Balance::Class => "",
            Balance::SourceAndClass => record.source.as_str(),
        };
        *group_sizes
            .entry((record.difficulty.index(), source))
            .or_default() += 1;
        tier_sizes[record.difficulty.index()] += 1;
    }
    let groups_per_tier = |tier: usize| group_sizes.keys().filter(|(t, _)| *t == tier).count();
    let tiers_present = tier_sizes.iter().filter(|&&n| n > 0).count().max(1);
    let per_tier_total = indices.len() as f64 / tiers_present as f64;
    indices
        .iter()
        .map(|&i| {
            let record = &records[i];
            let tier = record.difficulty.index();
            let source = match balance {
                Balance::Class => "",
                Balance::SourceAndClass => record.source.as_str(),
            };
            let group_size = group_sizes[&(tier, source)] as f64;
            per_tier_total / groups_per_tier(tier) as f64 / group_size
        })
        .collect()
}

/// Trains a softmax model on `indices` according to `spec`.
pub fn train(
    records: &[Record],
    features: &[Features],
    indices: &[usize],
    spec: &ModelSpec,
) -> SoftmaxWeights {
    let weights = sample_weights(records, indices, spec.balance);
    let examples: Vec<Example> = indices
        .iter()
        .zip(&weights)
        .map(|(&i, &weight)| Example {
            features: &features[i],
            label: records[i].difficulty.index(),
            weight,
        })
        .collect();
    let source_count = source_coverage(records, features, indices, spec.features.bucket_count());
    let min_sources = spec.min_sources as u32;
    fit(&examples, spec.l2, |bucket| {
        source_count[bucket as usize].count_ones() >= min_sources
    })
}

/// For each hash bucket, a bit set of the training sources it occurs in.
fn source_coverage(
    records: &[Record],
    features: &[Features],
    indices: &[usize],
    bucket_count: usize,
) -> Vec<u64> {
    let mut source_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for &i in indices {
        let next = source_ids.len();
        source_ids.entry(records[i].source.as_str()).or_insert(next);
    }
    let mut coverage = vec![0u64; bucket_count];
    for &i in indices {
        let bit = 1u64 << (source_ids[records[i].source.as_str()] % 64);
        for &(bucket, _) in &features[i].hashed {
            coverage[bucket as usize] |= bit;
        }
    }
    coverage
}

/// Runs `per_fold` on every fold using up to `workers` threads; results in fold order.
fn map_folds<T: Send>(
    folds: &[Fold],
    workers: usize,
    per_fold: impl Fn(&Fold) -> T + Sync,
) -> Vec<T> {
    let workers = workers.clamp(1, folds.len().max(1));
    let mut results: Vec<Option<T>> = folds.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let per_fold = &per_fold;
                scope.spawn(move || {
                    folds
                        .iter()
                        .enumerate()
                        .skip(worker)
                        .step_by(workers)
                        .map(|(index, fold)| (index, per_fold(fold)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            // A panicking worker is a bug in this crate; surface it rather than hide it.
            let finished = handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (index, result) in finished {
                results[index] = Some(result);
            }
        }
    });
    results.into_iter().flatten().collect()
}

/// LOSO evaluation of a softmax-regression variant.
pub fn evaluate_softmax(
    records: &[Record],
    features: &[Features],
    spec: &ModelSpec,
    workers: usize,
) -> Evaluation {
    let folds = folds(records);
    let fold_logits = map_folds(&folds, workers, |fold| {
        let weights = train(records, features, &fold.train, spec);
        fold.test
            .iter()
            .map(|&i| (i, weights.logits(&features[i])))
            .collect::<Vec<_>>()
    });
    let mut logits = vec![[0.0; 3]; records.len()];
    for (i, logit) in fold_logits.into_iter().flatten() {
        logits[i] = logit;
    }
    Evaluation {
        name: spec.name.to_string(),
        predictions: logits
            .iter()
            .map(|l| Difficulty::from_index(argmax3(*l)))
            .collect(),
        logits: Some(logits),
    }
}

/// LOSO evaluation of the rule-based baseline (thresholds tuned on each training fold).
pub fn evaluate_rules(records: &[Record]) -> (Evaluation, Vec<(String, RuleThresholds)>) {
    let scores: Vec<f64> = records.iter().map(|r| rule_score(&r.prompt)).collect();
    let mut predictions = vec![Difficulty::Simple; records.len()];
    let mut thresholds_per_fold = Vec::new();
    for fold in folds(records) {
        let train_scores: Vec<f64> = fold.train.iter().map(|&i| scores[i]).collect();
        let train_truths: Vec<Difficulty> =
            fold.train.iter().map(|&i| records[i].difficulty).collect();
        let thresholds = RuleThresholds::tune(&train_scores, &train_truths);
        for &i in &fold.test {
            predictions[i] = thresholds.tier(scores[i]);
        }
        thresholds_per_fold.push((fold.source, thresholds));
    }
    let evaluation = Evaluation {
        name: "baseline: rule-based gateway scorer".to_string(),
        predictions,
        logits: None,
    };
    (evaluation, thresholds_per_fold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(source: &str, tier: Difficulty) -> Record {
        Record {
            id: String::new(),
            prompt: String::new(),
            difficulty: tier,
            source: source.to_string(),
            category: String::new(),
            labelled_by_rubric: false,
        }
    }

    #[test]
    fn folds_hold_out_exactly_one_source() {
        let records = [
            record("b", Difficulty::Simple),
            record("a", Difficulty::Medium),
            record("b", Difficulty::Complex),
        ];
        let folds = folds(&records);
        assert_eq!(folds.len(), 2);
        assert_eq!(folds[0].source, "a");
        assert_eq!(folds[0].test, [1]);
        assert_eq!(folds[0].train, [0, 2]);
    }

    #[test]
    fn source_balancing_gives_each_group_equal_weight_within_a_tier() {
        let records = [
            record("big", Difficulty::Simple),
            record("big", Difficulty::Simple),
            record("big", Difficulty::Simple),
            record("small", Difficulty::Simple),
            record("other", Difficulty::Medium),
        ];
        let indices: Vec<usize> = (0..records.len()).collect();
        let weights = sample_weights(&records, &indices, Balance::SourceAndClass);
        let big: f64 = weights[..3].iter().sum();
        assert!((big - weights[3]).abs() < 1e-12);
        assert!((weights.iter().sum::<f64>() - 5.0).abs() < 1e-9);
    }
}
