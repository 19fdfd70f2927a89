//! Training and evaluating the second stage (feature `training`).
//!
//! Every figure is measured where the routing targets are stated: held-out sources
//! (leave-one-source-out, LOSO) scored on the prompts whose two labels agree, and the
//! workplace set (`data/routing/workplace_eval.jsonl`), never trained on. For each label set
//! the head could learn from (the per-source labels v1, the per-item labels v2, or only the
//! prompts where both agree) it reports the head alone and the cascade the app runs
//! ([`crate::cascade`]), beside the first stage alone.

use std::fmt::Write as _;
use std::path::Path;

use tokenwise_classifier::features::extract;
use tokenwise_classifier::training::calibration::fit_temperature;
use tokenwise_classifier::training::dataset::{sha256_hex, Record};
use tokenwise_classifier::training::lbfgs::{minimize, LbfgsSettings};
use tokenwise_classifier::training::loso::{evaluate_softmax, folds, sample_weights};
use tokenwise_classifier::training::metrics::ConfusionMatrix;
use tokenwise_classifier::training::{shipped_spec, Balance};
use tokenwise_classifier::Classifier;
use tokenwise_core::Difficulty;

use tokenwise_classifier::math::{argmax3, softmax3};

use crate::cascade::{combine, Combination, ASK_SECOND_BELOW, SHIPPED_COMBINATION};
use crate::error::{EncoderError, Result};
use crate::head::{HeadFile, HEAD_VERSION};
use crate::sentence::{SentenceEncoder, ENCODER_DIR};

/// L2 strength of the head (on the weights, not the bias), chosen with `--l2` on the
/// figures in `docs/classifier.md`.
pub const HEAD_L2: f64 = 1e-3;

/// Embeddings of `texts`, read from `cache` when it holds exactly these texts (the file is
/// keyed by their SHA-256), else computed and written there.
pub fn embed_all(encoder: &SentenceEncoder, texts: &[&str], cache: &Path) -> Result<Vec<Vec<f32>>> {
    // Keyed by the texts and the token window (which changes every embedding).
    let key = sha256_hex(
        format!(
            "{}+{}+{}",
            crate::sentence::HEAD_TOKENS,
            crate::sentence::TAIL_TOKENS,
            texts.join("\u{0}")
        )
        .as_bytes(),
    );
    let dimension = encoder.dimension();
    let expected = 64 + texts.len() * dimension * 4;
    if let Ok(bytes) = std::fs::read(cache) {
        if bytes.len() == expected && bytes[..64] == *key.as_bytes() {
            return Ok(bytes[64..]
                .chunks_exact(dimension * 4)
                .map(|row| {
                    row.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect()
                })
                .collect());
        }
    }
    let mut rows = Vec::with_capacity(texts.len());
    for (index, text) in texts.iter().enumerate() {
        rows.push(encoder.embed(text)?);
        if (index + 1) % 500 == 0 {
            eprintln!("embedded {} of {}", index + 1, texts.len());
        }
    }
    let mut bytes = Vec::with_capacity(expected);
    bytes.extend_from_slice(key.as_bytes());
    for value in rows.iter().flatten() {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    if let Some(parent) = cache.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(cache, bytes).map_err(|source| EncoderError::Io {
        path: cache.display().to_string(),
        source,
    })?;
    Ok(rows)
}

/// A fitted (uncalibrated) head: one weight row per class and a bias.
#[derive(Debug, Clone)]
pub struct Logistic {
    pub weights: [Vec<f64>; 3],
    pub bias: [f64; 3],
}

impl Logistic {
    /// Uncalibrated logits of an embedding.
    pub fn logits(&self, x: &[f32]) -> [f64; 3] {
        [0, 1, 2].map(|k| {
            self.weights[k]
                .iter()
                .zip(x)
                .map(|(w, v)| w * f64::from(*v))
                .sum::<f64>()
                + self.bias[k]
        })
    }
}

/// Fits a weighted, L2-regularised multinomial logistic regression on embeddings.
pub fn fit_head(rows: &[&[f32]], labels: &[usize], weights: &[f64], l2: f64) -> Logistic {
    let dimension = rows.first().map_or(0, |row| row.len());
    let stride = dimension + 1;
    let total_weight: f64 = weights.iter().sum::<f64>().max(1e-12);
    let mut parameters = vec![0.0; stride * 3];
    minimize(
        &mut parameters,
        LbfgsSettings::default(),
        |parameters, gradient| {
            gradient.iter_mut().for_each(|g| *g = 0.0);
            let mut loss = 0.0;
            for ((row, &label), &weight) in rows.iter().zip(labels).zip(weights) {
                let logits = [0, 1, 2].map(|k| {
                    let w = &parameters[k * stride..(k + 1) * stride];
                    w[..dimension]
                        .iter()
                        .zip(row.iter())
                        .map(|(w, x)| w * f64::from(*x))
                        .sum::<f64>()
                        + w[dimension]
                });
                let probabilities = softmax3(logits);
                loss -= weight * probabilities[label].max(1e-300).ln();
                let scale = weight / total_weight;
                for (k, probability) in probabilities.iter().enumerate() {
                    let delta = scale * (probability - if k == label { 1.0 } else { 0.0 });
                    let g = &mut gradient[k * stride..(k + 1) * stride];
                    for (g, x) in g[..dimension].iter_mut().zip(row.iter()) {
                        *g += delta * f64::from(*x);
                    }
                    g[dimension] += delta;
                }
            }
            loss /= total_weight;
            for k in 0..3 {
                for j in 0..dimension {
                    let w = parameters[k * stride + j];
                    loss += 0.5 * l2 * w * w;
                    gradient[k * stride + j] += l2 * w;
                }
            }
            loss
        },
    );
    let row = |k: usize| parameters[k * stride..k * stride + dimension].to_vec();
    Logistic {
        weights: [row(0), row(1), row(2)],
        bias: [0, 1, 2].map(|k| parameters[k * stride + dimension]),
    }
}

/// The three figures the routing targets are stated in, and how often the encoder ran.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub macro_f1: f64,
    /// Share of complex prompts predicted simple or medium.
    pub complex_under: f64,
    /// Share of simple prompts predicted medium or complex.
    pub simple_paid: f64,
    /// Share of prompts the second stage was asked about.
    pub asked: f64,
    pub prompts: usize,
}

/// Scores predictions against labels.
pub fn score(pairs: &[(Difficulty, Difficulty)], asked: usize) -> Scores {
    let confusion = ConfusionMatrix::from_pairs(pairs.iter().copied());
    let share = |row: usize, cols: [usize; 2]| {
        let total: usize = confusion.counts[row].iter().sum();
        (confusion.counts[row][cols[0]] + confusion.counts[row][cols[1]]) as f64
            / total.max(1) as f64
    };
    Scores {
        macro_f1: confusion.macro_f1(),
        complex_under: share(2, [0, 1]),
        simple_paid: share(0, [1, 2]),
        asked: asked as f64 / pairs.len().max(1) as f64,
        prompts: pairs.len(),
    }
}

/// Which labels the head learns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelSet {
    /// The per-source labels of `train.jsonl`.
    V1,
    /// The per-item labels of `labels_v2.jsonl`.
    V2,
    /// Only the prompts where both agree.
    Consensus,
}

impl LabelSet {
    pub const ALL: [LabelSet; 3] = [LabelSet::V1, LabelSet::V2, LabelSet::Consensus];

    pub fn name(self) -> &'static str {
        match self {
            LabelSet::V1 => "v1 (per source)",
            LabelSet::V2 => "v2 (per item)",
            LabelSet::Consensus => "consensus (both agree)",
        }
    }
}

/// The data the evaluation runs on.
pub struct Inputs<'a> {
    /// Training prompts with their v1 labels.
    pub records: &'a [Record],
    /// Their v2 labels, in the same order.
    pub v2: &'a [Difficulty],
    /// Their embeddings, in the same order.
    pub embeddings: &'a [Vec<f32>],
    /// The workplace set: prompt, label, embedding.
    pub workplace: &'a [(String, Difficulty, Vec<f32>)],
    /// The shipped first stage.
    pub first_stage: &'a Classifier,
    /// SHA-256 of the training data (for the head's provenance).
    pub data_sha256: &'a str,
    /// L2 strength of the head ([`HEAD_L2`] as shipped).
    pub l2: f64,
}

/// One row of the comparison.
#[derive(Debug, Clone)]
pub struct Row {
    pub method: String,
    pub loso: Scores,
    pub workplace: Scores,
}

/// The evaluation's result.
pub struct Outcome {
    pub rows: Vec<Row>,
    /// The head trained on all prompts of the chosen label set.
    pub head: HeadFile,
    pub chosen: LabelSet,
}

/// Calibrated probabilities of `logits` at `temperature`.
fn calibrated(logits: [f64; 3], temperature: f64) -> [f64; 3] {
    softmax3(logits.map(|z| z / temperature))
}

/// A way of running the two stages: ask the second below this first-stage confidence, and
/// merge the votes so.
pub type CascadeRule = (f32, Combination);

/// The rule the app runs.
pub const SHIPPED_RULE: CascadeRule = (ASK_SECOND_BELOW, SHIPPED_COMBINATION);

/// Trains and evaluates; `chosen` is the label set the shipped head learns from; each label
/// set's two-stage rows use each of `rules`.
pub fn run(
    inputs: &Inputs,
    chosen: LabelSet,
    rules: &[CascadeRule],
    workers: usize,
) -> Result<Outcome> {
    let records = inputs.records;
    let consensus: Vec<bool> = records
        .iter()
        .zip(inputs.v2)
        .map(|(r, v2)| r.difficulty == *v2)
        .collect();
    let label_of = |set: LabelSet, i: usize| match set {
        LabelSet::V1 | LabelSet::Consensus => records[i].difficulty,
        LabelSet::V2 => inputs.v2[i],
    };
    let in_set = |set: LabelSet, i: usize| set != LabelSet::Consensus || consensus[i];

    // The first stage, held out by source, as shipped (v1 labels, LOSO-fitted temperature).
    let spec = shipped_spec();
    let features: Vec<_> = records
        .iter()
        .map(|r| extract(&r.prompt, &spec.features))
        .collect();
    let first_loso = evaluate_softmax(records, &features, &spec, workers)
        .logits
        .ok_or_else(|| EncoderError::Training("no held-out logits".into()))?;
    let v1_labels: Vec<usize> = records.iter().map(|r| r.difficulty.index()).collect();
    let first_temperature = fit_temperature(&first_loso, &v1_labels);
    let first_probabilities: Vec<[f64; 3]> = first_loso
        .iter()
        .map(|l| calibrated(*l, first_temperature))
        .collect();
    let first_workplace: Vec<[f64; 3]> = inputs
        .workplace
        .iter()
        .map(|(prompt, _, _)| {
            inputs
                .first_stage
                .classify(prompt)
                .probabilities
                .map(f64::from)
        })
        .collect();

    let evaluate_with = |first: &[[f64; 3]],
                         second: Option<&[[f64; 3]]>,
                         labels: &[Difficulty],
                         (ask_below, combination): CascadeRule| {
        let mut asked = 0;
        let pairs: Vec<(Difficulty, Difficulty)> = (0..first.len())
            .map(|i| {
                let confidence = first[i][argmax3(first[i])] as f32;
                let probabilities = match second {
                    Some(second) if crate::cascade::is_unsure(confidence, ask_below) => {
                        asked += 1;
                        combine(first[i], second[i], combination)
                    }
                    _ => first[i],
                };
                (labels[i], Difficulty::from_index(argmax3(probabilities)))
            })
            .collect();
        score(&pairs, asked)
    };
    let evaluate = |first: &[[f64; 3]], second: Option<&[[f64; 3]]>, labels: &[Difficulty]| {
        evaluate_with(first, second, labels, SHIPPED_RULE)
    };
    let consensus_indices: Vec<usize> = (0..records.len()).filter(|&i| consensus[i]).collect();
    let pick = |values: &[[f64; 3]]| -> Vec<[f64; 3]> {
        consensus_indices.iter().map(|&i| values[i]).collect()
    };
    let consensus_labels: Vec<Difficulty> = consensus_indices
        .iter()
        .map(|&i| records[i].difficulty)
        .collect();
    let workplace_labels: Vec<Difficulty> = inputs.workplace.iter().map(|w| w.1).collect();

    let mut rows = vec![Row {
        method: "first stage alone (shipped feature model)".into(),
        loso: evaluate(&pick(&first_probabilities), None, &consensus_labels),
        workplace: evaluate(&first_workplace, None, &workplace_labels),
    }];
    let mut shipped_head = None;
    for set in LabelSet::ALL {
        // Held out by source.
        let mut held_out = vec![[0.0; 3]; records.len()];
        for fold in folds(records) {
            let train: Vec<usize> = fold
                .train
                .iter()
                .copied()
                .filter(|&i| in_set(set, i))
                .collect();
            let head = fit_set(inputs, &train, |i| label_of(set, i));
            for &i in &fold.test {
                held_out[i] = head.logits(&inputs.embeddings[i]);
            }
        }
        let calibration_indices: Vec<usize> =
            (0..records.len()).filter(|&i| in_set(set, i)).collect();
        let temperature = fit_temperature(
            &calibration_indices
                .iter()
                .map(|&i| held_out[i])
                .collect::<Vec<_>>(),
            &calibration_indices
                .iter()
                .map(|&i| label_of(set, i).index())
                .collect::<Vec<_>>(),
        );
        let held_out: Vec<[f64; 3]> = held_out
            .iter()
            .map(|l| calibrated(*l, temperature))
            .collect();
        // Trained on everything, for the workplace set (and shipped if chosen).
        let all: Vec<usize> = calibration_indices;
        let head = fit_set(inputs, &all, |i| label_of(set, i));
        let workplace: Vec<[f64; 3]> = inputs
            .workplace
            .iter()
            .map(|(_, _, x)| calibrated(head.logits(x), temperature))
            .collect();
        let held_out_consensus = pick(&held_out);
        rows.push(Row {
            method: format!("encoder head alone, trained on {}", set.name()),
            loso: evaluate(&held_out_consensus, None, &consensus_labels),
            workplace: evaluate(&workplace, None, &workplace_labels),
        });
        for &rule in rules {
            let shipped = if rule == SHIPPED_RULE { "**" } else { "" };
            rows.push(Row {
                method: format!(
                    "{shipped}two stages{shipped}, head trained on {}, asked below {:.2}, {:?}",
                    set.name(),
                    rule.0,
                    rule.1
                ),
                loso: evaluate_with(
                    &pick(&first_probabilities),
                    Some(&held_out_consensus),
                    &consensus_labels,
                    rule,
                ),
                workplace: evaluate_with(
                    &first_workplace,
                    Some(&workplace),
                    &workplace_labels,
                    rule,
                ),
            });
        }
        if set == chosen {
            shipped_head = Some(HeadFile {
                version: HEAD_VERSION,
                encoder: ENCODER_DIR.into(),
                classes: Difficulty::ALL,
                weights: head
                    .weights
                    .clone()
                    .map(|row| row.iter().map(|w| *w as f32).collect::<Vec<f32>>()),
                bias: head.bias.map(|b| b as f32),
                temperature,
                trained_on_sha256: inputs.data_sha256.to_string(),
                records: all.len(),
            });
        }
    }
    let head = shipped_head.ok_or_else(|| EncoderError::Training("no head trained".into()))?;
    Ok(Outcome { rows, head, chosen })
}

/// Fits a head on `indices` with source-and-class balancing.
fn fit_set(inputs: &Inputs, indices: &[usize], label: impl Fn(usize) -> Difficulty) -> Logistic {
    let relabelled: Vec<Record> = inputs
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            difficulty: label(i),
            ..r.clone()
        })
        .collect();
    let weights = sample_weights(&relabelled, indices, Balance::SourceAndClass);
    let rows: Vec<&[f32]> = indices
        .iter()
        .map(|&i| inputs.embeddings[i].as_slice())
        .collect();
    let labels: Vec<usize> = indices.iter().map(|&i| label(i).index()).collect();
    fit_head(&rows, &labels, &weights, inputs.l2)
}

/// The comparison as a markdown table.
pub fn table(outcome: &Outcome) -> String {
    let pct = |x: f64| format!("{:.1}", x * 100.0);
    let mut out = String::from(
        "| method | LOSO macro-F1 | complex → below | simple → paid | encoder asked | \
         workplace macro-F1 | complex → below | simple → paid | encoder asked |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in &outcome.rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.method,
            pct(row.loso.macro_f1),
            pct(row.loso.complex_under),
            pct(row.loso.simple_paid),
            pct(row.loso.asked),
            pct(row.workplace.macro_f1),
            pct(row.workplace.complex_under),
            pct(row.workplace.simple_paid),
            pct(row.workplace.asked),
        );
    }
    out
}

/// The folder holding the encoder, under `models_dir`.
pub fn encoder_dir(models_dir: &Path) -> std::path::PathBuf {
    models_dir.join(ENCODER_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_learns_a_separable_problem() {
        let rows: Vec<Vec<f32>> = (0..60)
            .map(|i| {
                let class = i % 3;
                let mut x = vec![0.1f32; 4];
                x[class] = 1.0;
                x
            })
            .collect();
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let head = fit_head(&refs, &labels, &[1.0; 60], 1e-3);
        for (row, label) in rows.iter().zip(&labels) {
            assert_eq!(argmax3(head.logits(row)), *label);
        }
    }

    #[test]
    fn scores_count_under_routing_and_paid_simple_work() {
        use Difficulty::*;
        let pairs = [
            (Complex, Medium),
            (Complex, Complex),
            (Simple, Simple),
            (Simple, Complex),
            (Medium, Medium),
        ];
        let scores = score(&pairs, 2);
        assert_eq!(scores.complex_under, 0.5);
        assert_eq!(scores.simple_paid, 0.5);
        assert_eq!(scores.asked, 0.4);
    }
}
