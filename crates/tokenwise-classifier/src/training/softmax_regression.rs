//! Fitting multinomial logistic regression (softmax, L2) on extracted features.
//!
//! Parameters are one `[simple, medium, complex]` row per dense feature and per hash bucket.
//! Only rows that occur in the training set are optimised (the others stay zero), which keeps
//! the problem small however many buckets there are.

use std::collections::BTreeMap;

use crate::features::{Features, DENSE_COUNT};
use crate::math::softmax3;
use crate::training::lbfgs::{minimize, LbfgsSettings};

/// A training example: features, class index and sample weight.
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    /// Extracted features.
    pub features: &'a Features,
    /// Class index (see [`crate::Difficulty::index`]).
    pub label: usize,
    /// Sample weight (for class / source balancing).
    pub weight: f64,
}

/// Trained weights: dense rows and the non-zero hashed rows.
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxWeights {
    /// One row per dense feature.
    pub dense: [[f64; 3]; DENSE_COUNT],
    /// Hashed rows by bucket (only buckets used in training).
    pub hashed: BTreeMap<u32, [f64; 3]>,
}

impl SoftmaxWeights {
    /// Uncalibrated logits of a feature vector.
    pub fn logits(&self, features: &Features) -> [f64; 3] {
        let mut logits = [0.0; 3];
        for (value, row) in features.dense.iter().zip(&self.dense) {
            for k in 0..3 {
                logits[k] += f64::from(*value) * row[k];
            }
        }
        for (bucket, value) in &features.hashed {
            if let Some(row) = self.hashed.get(bucket) {
                for k in 0..3 {
                    logits[k] += f64::from(*value) * row[k];
                }
            }
        }
        logits
    }
}

/// An example flattened onto compact parameter rows.
struct SparseRow {
    entries: Vec<(usize, f64)>,
    label: usize,
    weight: f64,
}

/// Fits the model. `allowed_bucket` decides which hash buckets may carry weight (the others
/// are ignored, exactly as a zero weight would be at inference). The bias (dense row 0) is
/// not regularised.
pub fn fit(examples: &[Example], l2: f64, allowed_bucket: impl Fn(u32) -> bool) -> SoftmaxWeights {
    // Compact row numbering: dense rows first, then used buckets in ascending order.
    let mut bucket_rows: BTreeMap<u32, usize> = BTreeMap::new();
    for example in examples {
        for &(bucket, _) in &example.features.hashed {
            if allowed_bucket(bucket) {
                bucket_rows.insert(bucket, 0);
            }
        }
    }
    for (offset, row) in bucket_rows.values_mut().enumerate() {
        *row = DENSE_COUNT + offset;
    }
    let row_count = DENSE_COUNT + bucket_rows.len();

    let rows: Vec<SparseRow> = examples
        .iter()
        .map(|example| {
            let mut entries: Vec<(usize, f64)> = example
                .features
                .dense
                .iter()
                .enumerate()
                .filter(|(_, value)| **value != 0.0)
                .map(|(row, value)| (row, f64::from(*value)))
                .collect();
            entries.extend(
                example
                    .features
                    .hashed
                    .iter()
                    .filter_map(|(bucket, value)| {
                        bucket_rows.get(bucket).map(|&row| (row, f64::from(*value)))
                    }),
            );
            SparseRow {
                entries,
                label: example.label,
                weight: example.weight,
            }
        })
        .collect();
    let total_weight: f64 = rows.iter().map(|row| row.weight).sum::<f64>().max(1e-12);

    let mut parameters = vec![0.0; row_count * 3];
    let settings = LbfgsSettings::default();
    minimize(&mut parameters, settings, |parameters, gradient| {
        gradient.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for row in &rows {
            let mut logits = [0.0; 3];
            for &(index, value) in &row.entries {
                for (k, logit) in logits.iter_mut().enumerate() {
                    *logit += value * parameters[index * 3 + k];
                }
            }
            let probabilities = softmax3(logits);
            loss -= row.weight * probabilities[row.label].max(1e-300).ln();
            let scale = row.weight / total_weight;
            for &(index, value) in &row.entries {
                for (k, probability) in probabilities.iter().enumerate() {
                    let target = if k == row.label { 1.0 } else { 0.0 };
                    gradient[index * 3 + k] += scale * (probability - target) * value;
                }
            }
        }
        loss /= total_weight;
        // L2 on everything but the bias row.
        for index in 3..parameters.len() {
            loss += 0.5 * l2 * parameters[index] * parameters[index];
            gradient[index] += l2 * parameters[index];
        }
        loss
    });

    let mut dense = [[0.0; 3]; DENSE_COUNT];
    for (row, weights) in dense.iter_mut().enumerate() {
        weights.copy_from_slice(&parameters[row * 3..row * 3 + 3]);
    }
    let hashed = bucket_rows
        .iter()
        .map(|(&bucket, &row)| {
            let mut weights = [0.0; 3];
            weights.copy_from_slice(&parameters[row * 3..row * 3 + 3]);
            (bucket, weights)
        })
        .collect();
    SoftmaxWeights { dense, hashed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{extract, FeatureConfig};
    use crate::math::argmax3;

    #[test]
    fn learns_a_separable_toy_problem() {
        let config = FeatureConfig {
            dense: false,
            unigrams: true,
            bigrams: false,
            hash_bits: 12,
            hashed_scale: 1.0,
        };
        let texts = [
            ("apple banana", 0),
            ("banana apple apple", 0),
            ("car truck", 1),
            ("truck car bus", 1),
            ("proof theorem", 2),
            ("theorem lemma proof", 2),
        ];
        let features: Vec<Features> = texts.iter().map(|(t, _)| extract(t, &config)).collect();
        let examples: Vec<Example> = features
            .iter()
            .zip(&texts)
            .map(|(features, (_, label))| Example {
                features,
                label: *label,
                weight: 1.0,
            })
            .collect();
        let weights = fit(&examples, 1e-3, |_| true);
        for (features, (_, label)) in features.iter().zip(&texts) {
            assert_eq!(argmax3(weights.logits(features)), *label);
        }
    }
}
