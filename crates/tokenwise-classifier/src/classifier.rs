//! The classifier used at run time: load weights, classify a prompt, explain the decision.

use serde::{Deserialize, Serialize};

use crate::correction::{correction_features, Correction, OverrideExample};
use crate::error::{ClassifierError, Result};
use crate::features::{extract, Dense, FeatureConfig, Features, DENSE_COUNT};
use crate::math::{argmax3, softmax3};
use crate::text::truncate_on_char_boundary;
use crate::weights::{WeightsFile, WEIGHTS_VERSION};
use crate::Difficulty;

/// The weights shipped with the crate.
const EMBEDDED_WEIGHTS: &str = include_str!("../weights/classifier-v1.json");

/// Only the first this-many bytes of a prompt are analysed, which bounds latency on huge
/// inputs. Every training prompt is far shorter, and the length features saturate well
/// before this.
pub const MAX_ANALYSED_BYTES: usize = 32 * 1024;

/// At most this many signals are reported per decision.
const MAX_SIGNALS: usize = 3;

/// A dense feature must move the chosen tier's logit by at least this much to be reported.
const MIN_SIGNAL_STRENGTH: f64 = 0.1;

/// A human-readable reason behind a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Stable identifier (the dense feature name, or `"wording"`).
    pub id: String,
    /// Short description, e.g. "summarize given text".
    pub description: String,
    /// How much it raised the chosen tier's logit relative to the average tier.
    pub strength: f32,
}

/// The result of classifying one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The cheapest tier expected to answer acceptably.
    pub difficulty: Difficulty,
    /// Calibrated probability of `tier`, in [0, 1].
    pub confidence: f32,
    /// Calibrated probabilities of simple, medium and complex.
    pub probabilities: [f32; 3],
    /// The main reasons, strongest first.
    pub signals: Vec<Signal>,
}

impl Classification {
    /// A one-line summary such as `"simple · summarize given text · 0.94"`.
    pub fn reason(&self) -> String {
        match self.signals.first() {
            Some(signal) => format!(
                "{} · {} · {:.2}",
                self.difficulty, signal.description, self.confidence
            ),
            None => format!("{} · {:.2}", self.difficulty, self.confidence),
        }
    }
}

/// A trained prompt-complexity classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    config: FeatureConfig,
    temperature: f64,
    dense: [[f64; 3]; DENSE_COUNT],
    /// One row per hash bucket (zero rows for buckets the model never uses).
    hashed: Vec<[f32; 3]>,
    trained_on_sha256: String,
    records: usize,
}

impl Classifier {
    /// The classifier with the weights compiled into the crate.
    pub fn embedded() -> Result<Self> {
        Self::from_json(EMBEDDED_WEIGHTS)
    }

    /// Loads a classifier from the JSON weights format.
    pub fn from_json(json: &str) -> Result<Self> {
        let file: WeightsFile = serde_json::from_str(json)?;
        Self::from_weights(&file)
    }

    /// Builds a classifier from parsed weights, validating their shape.
    pub fn from_weights(file: &WeightsFile) -> Result<Self> {
        let invalid = |message: String| Err(ClassifierError::InvalidWeights(message));
        if file.version != WEIGHTS_VERSION {
            return invalid(format!("unsupported version {}", file.version));
        }
        if file.classes != Difficulty::ALL {
            return invalid("classes must be [simple, medium, complex]".into());
        }
        let expected_names: Vec<&str> = Dense::ALL.iter().map(|f| f.name()).collect();
        if file.dense_names != expected_names {
            return invalid("dense feature names do not match this version of the code".into());
        }
        if file.dense_weights.len() != DENSE_COUNT {
            return invalid(format!(
                "expected {DENSE_COUNT} dense rows, found {}",
                file.dense_weights.len()
            ));
        }
        if !(1..=24).contains(&file.features.hash_bits) {
            return invalid(format!(
                "hash_bits {} out of range",
                file.features.hash_bits
            ));
        }
        if !(file.temperature.is_finite() && file.temperature > 0.0) {
            return invalid(format!("temperature {} must be positive", file.temperature));
        }
        let mut dense = [[0.0; 3]; DENSE_COUNT];
        dense.copy_from_slice(&file.dense_weights);
        let mut hashed = vec![[0.0f32; 3]; file.features.bucket_count()];
        for &[bucket, simple, medium, complex] in &file.hashed_weights {
            let Some(row) = usize::try_from(bucket).ok().and_then(|b| hashed.get_mut(b)) else {
                return invalid(format!("hash bucket {bucket} out of range"));
            };
            *row = [simple, medium, complex].map(|q| (f64::from(q) * file.hashed_quantum) as f32);
        }
        Ok(Self {
            config: file.features,
            temperature: file.temperature,
            dense,
            hashed,
            trained_on_sha256: file.trained_on_sha256.clone(),
            records: file.records,
        })
    }

    /// SHA-256 (hex) of the data the weights were trained on.
    pub fn trained_on_sha256(&self) -> &str {
        &self.trained_on_sha256
    }

    /// Number of records the weights were trained on.
    pub fn training_records(&self) -> usize {
        self.records
    }

    /// The feature configuration the weights expect.
    pub fn feature_config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Bytes of weights held in memory.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of_val(&self.dense) + std::mem::size_of_val(self.hashed.as_slice())
    }

    /// Classifies a prompt. Never panics, whatever the input.
    pub fn classify(&self, prompt: &str) -> Classification {
        let features = self.features(prompt);
        self.classify_features(&features).0
    }

    /// Classifies a prompt with a person's [`Correction`] applied (see [`crate::correction`]):
    /// the verdict, and whether the correction changed the tier.
    pub fn classify_corrected(
        &self,
        prompt: &str,
        correction: &Correction,
    ) -> (Classification, bool) {
        let features = self.features(prompt);
        let (shipped, logits, hashed_logits) = self.classify_features(&features);
        if correction.choices() == 0 {
            return (shipped, false);
        }
        let (difficulty, probabilities) =
            correction.apply(logits, &correction_features(&features), shipped.difficulty);
        let adjusted = difficulty != shipped.difficulty;
        let chosen = difficulty.index();
        let classification = Classification {
            difficulty,
            confidence: probabilities[chosen] as f32,
            probabilities: probabilities.map(|p| p as f32),
            signals: if adjusted {
                self.signals(&features, chosen, hashed_logits)
            } else {
                shipped.signals
            },
        };
        (classification, adjusted)
    }

    /// What to store when a person says `prompt` needed the `wanted` tier: its task features
    /// and the model's scores, not its text.
    pub fn override_example(&self, prompt: &str, wanted: Difficulty) -> OverrideExample {
        let features = self.features(prompt);
        let (_, logits, _) = self.classify_features(&features);
        OverrideExample {
            features: correction_features(&features),
            logits: logits.map(|l| l as f32),
            wanted,
        }
    }

    fn features(&self, prompt: &str) -> Features {
        extract(
            truncate_on_char_boundary(prompt, MAX_ANALYSED_BYTES),
            &self.config,
        )
    }

    /// The verdict, the calibrated logits and the hashed part of the raw logits.
    fn classify_features(&self, features: &Features) -> (Classification, [f64; 3], [f64; 3]) {
        let (dense_logits, hashed_logits) = self.logits(features);
        let logits = [0, 1, 2].map(|k| (dense_logits[k] + hashed_logits[k]) / self.temperature);
        let probabilities = softmax3(logits);
        let chosen = argmax3(probabilities);
        let classification = Classification {
            difficulty: Difficulty::from_index(chosen),
            confidence: probabilities[chosen] as f32,
            probabilities: probabilities.map(|p| p as f32),
            signals: self.signals(features, chosen, hashed_logits),
        };
        (classification, logits, hashed_logits)
    }

    /// Uncalibrated logits, split into the dense part and the hashed part.
    fn logits(&self, features: &Features) -> ([f64; 3], [f64; 3]) {
        let mut dense_logits = [0.0; 3];
        for (value, row) in features.dense.iter().zip(&self.dense) {
            for k in 0..3 {
                dense_logits[k] += f64::from(*value) * row[k];
            }
        }
        let mut hashed_logits = [0.0; 3];
        for &(bucket, value) in &features.hashed {
            if let Some(row) = self.hashed.get(bucket as usize) {
                for k in 0..3 {
                    hashed_logits[k] += f64::from(value * row[k]);
                }
            }
        }
        (dense_logits, hashed_logits)
    }

    /// The dense features (and, if it dominates, the wording) that pushed towards `chosen`.
    fn signals(&self, features: &Features, chosen: usize, hashed_logits: [f64; 3]) -> Vec<Signal> {
        let lift = |logits: [f64; 3]| logits[chosen] - logits.iter().sum::<f64>() / 3.0;
        let mut signals: Vec<Signal> = Dense::ALL
            .iter()
            .filter_map(|&feature| {
                let description = feature.signal()?;
                let value = f64::from(features.dense[feature as usize]);
                let strength = lift(self.dense[feature as usize].map(|w| w * value));
                (strength >= MIN_SIGNAL_STRENGTH).then(|| Signal {
                    id: feature.name().to_string(),
                    description: description.to_string(),
                    strength: strength as f32,
                })
            })
            .collect();
        let wording = lift(hashed_logits);
        if wording >= MIN_SIGNAL_STRENGTH {
            signals.push(Signal {
                id: "wording".to_string(),
                description: format!(
                    "wording typical of {} prompts",
                    Difficulty::from_index(chosen)
                ),
                strength: wording as f32,
            });
        }
        // Strongest first; the stable sort keeps feature order on ties.
        signals.sort_by(|a, b| b.strength.total_cmp(&a.strength));
        signals.truncate(MAX_SIGNALS);
        signals
    }
}
