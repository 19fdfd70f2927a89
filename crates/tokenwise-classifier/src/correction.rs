//! A person's corrections to routing: a small, bounded layer on top of the shipped model.
//!
//! Each time someone says "Not good enough: ask a cloud tier" about a local answer, or "A local
//! answer would do" about a cloud pick, the app stores an [`OverrideExample`]: the prompt's
//! task cues (never its text), the shipped model's scores and the tier the person wanted.
//!
//! The correction moves prompts *like* the corrected ones: each example carries the smallest
//! score shift that would have given its prompt the wanted tier (plus [`MARGIN`]), and a new
//! prompt receives the similarity-weighted mean of the shifts of the examples whose task cues
//! are close to its own (cosine at least [`SIMILAR_FROM`]). Summaries a person keeps answering
//! locally move other summaries, not proofs. Measured on the shipped model, whose calibrated
//! scores of the three tiers are often within a tenth of each other, a linear layer over the
//! same cues moved up to a third of unrelated prompts on one click; this does not.
//!
//! Bounds, so that one click cannot flip everything:
//! * only prompts with similar task cues are moved (cue-less prompts never are);
//! * every score shift is capped at [`MAX_SHIFT`];
//! * the corrected tier is never more than one tier from the shipped model's.

use crate::features::{Dense, Features, DENSE_COUNT};
use crate::Difficulty;

/// The largest change of any tier's score (in calibrated logits) the corrections can make: just
/// above the widest spread of the shipped model's calibrated scores over a workplace prompt, so
/// one click can give its own prompt any neighbouring tier. That spread follows the model's
/// calibration: about 0.9 at temperature 7.4 (first training data), 2.97 at 2.9 (since the
/// rubric-written prompts joined, 2026-12-07; median 1.25). Recheck it when retraining.
pub const MAX_SHIFT: f64 = 3.0;

/// A correction gives its own prompt's wanted tier this much lead over the next (in calibrated
/// logits; 0.1 at the first model's temperature 7.4, scaled with it to 0.25 at 2.9).
pub const MARGIN: f64 = 0.25;

/// Examples whose task cues have at least this cosine with a prompt's move it.
pub const SIMILAR_FROM: f64 = 0.8;

/// One stored correction.
#[derive(Debug, Clone, PartialEq)]
pub struct OverrideExample {
    /// The prompt's correction features ([`correction_features`]).
    pub features: Vec<f32>,
    /// The shipped model's calibrated logits for the prompt when it was corrected.
    pub logits: [f32; 3],
    /// The tier the person wanted.
    pub wanted: Difficulty,
}

impl OverrideExample {
    /// The shipped model's tier for the prompt (the best of its scores).
    pub fn shipped(&self) -> Difficulty {
        Difficulty::from_index(crate::math::argmax3(self.logits.map(f64::from)))
    }
}

/// The features a correction compares: the task cues (not the length or script cues), scaled
/// to unit length (all zero for a prompt without cues).
pub fn correction_features(features: &Features) -> Vec<f32> {
    let mut values: Vec<f32> = Dense::ALL
        .iter()
        .map(|&feature| match feature {
            // Shape, not task: shared by unrelated prompts.
            Dense::LengthUnder60
            | Dense::Length600To1500
            | Dense::LengthOver1500
            | Dense::NonAsciiRatio => 0.0,
            _ if feature.signal().is_some() => features.dense[feature as usize].clamp(0.0, 1.0),
            _ => 0.0,
        })
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        values.iter_mut().for_each(|v| *v /= norm);
    }
    values
}

/// One example as the correction uses it: its cues and the shift it asks for.
#[derive(Debug, Clone, PartialEq)]
struct Anchor {
    features: Vec<f32>,
    shift: [f64; 3],
}

/// The fitted correction.
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    anchors: Vec<Anchor>,
    choices: usize,
}

impl Correction {
    /// No correction.
    pub fn none() -> Self {
        Self {
            anchors: Vec::new(),
            choices: 0,
        }
    }

    /// How many stored choices it was built from.
    pub fn choices(&self) -> usize {
        self.choices
    }

    /// Builds the correction from `examples` (examples of another feature layout, or with
    /// non-finite scores, are skipped).
    pub fn fit(examples: &[OverrideExample]) -> Self {
        let anchors: Vec<Anchor> = examples
            .iter()
            .filter(|e| {
                e.features.len() == DENSE_COUNT
                    && e.logits.iter().all(|l| l.is_finite())
                    && e.features.iter().all(|v| v.is_finite())
            })
            .map(|example| {
                let logits = example.logits.map(f64::from);
                let wanted = example.wanted.index();
                let best_other = (0..3)
                    .filter(|&k| k != wanted)
                    .map(|k| logits[k])
                    .fold(f64::NEG_INFINITY, f64::max);
                let lead = (best_other - logits[wanted] + MARGIN).clamp(0.0, MAX_SHIFT);
                let mut shift = [0.0; 3];
                shift[wanted] = lead;
                Anchor {
                    features: example.features.clone(),
                    shift,
                }
            })
            .collect();
        Self {
            choices: anchors.len(),
            anchors,
        }
    }

    /// The shift of the three tier scores for a prompt's correction features: the mean of the
    /// similar examples' shifts, weighted by similarity, capped at [`MAX_SHIFT`].
    pub fn shift(&self, features: &[f32]) -> [f64; 3] {
        let mut total = [0.0; 3];
        let mut weight_sum = 0.0;
        for anchor in &self.anchors {
            let cosine: f64 = anchor
                .features
                .iter()
                .zip(features)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            if cosine < SIMILAR_FROM {
                continue;
            }
            let weight = (cosine - SIMILAR_FROM) / (1.0 - SIMILAR_FROM) * 0.5 + 0.5;
            weight_sum += weight;
            for (sum, shift) in total.iter_mut().zip(anchor.shift) {
                *sum += weight * shift;
            }
        }
        if weight_sum == 0.0 {
            return [0.0; 3];
        }
        // A lone, less similar example moves a prompt less than an identical one.
        let denominator = weight_sum.max(1.0);
        total.map(|t| (t / denominator).clamp(-MAX_SHIFT, MAX_SHIFT))
    }

    /// The corrected tier and probabilities from the shipped model's calibrated `logits`: the
    /// shifted scores' choice, kept within one tier of `shipped`.
    pub fn apply(
        &self,
        logits: [f64; 3],
        features: &[f32],
        shipped: Difficulty,
    ) -> (Difficulty, [f64; 3]) {
        let shift = self.shift(features);
        let probabilities = crate::math::softmax3([0, 1, 2].map(|k| logits[k] + shift[k]));
        let lowest = shipped.index().saturating_sub(1);
        let highest = (shipped.index() + 1).min(2);
        let mut chosen = lowest;
        for index in lowest..=highest {
            if probabilities[index] > probabilities[chosen] {
                chosen = index;
            }
        }
        (Difficulty::from_index(chosen), probabilities)
    }
}
