//! Turning trained weights into the compact, deterministic weights file.

use crate::error::Result;
use crate::features::Dense;
use crate::math::round_to;
use crate::training::softmax_regression::SoftmaxWeights;
use crate::training::ModelSpec;
use crate::weights::{WeightsFile, WEIGHTS_VERSION};
use crate::Difficulty;

/// Largest quantised magnitude (16-bit signed).
const QUANTISATION_LEVELS: f64 = 32767.0;

/// Where the weights came from.
#[derive(Debug, Clone)]
pub struct Provenance<'a> {
    /// SHA-256 of the training file.
    pub sha256: &'a str,
    /// Number of training records.
    pub records: usize,
}

/// Builds the weights file: dense rows rounded to 6 decimals, hashed rows quantised to 16 bits
/// (rows that quantise to zero are dropped).
pub fn weights_file(
    weights: &SoftmaxWeights,
    spec: &ModelSpec,
    temperature: f64,
    provenance: &Provenance,
) -> WeightsFile {
    let largest = weights
        .hashed
        .values()
        .flatten()
        .fold(0.0f64, |max, w| max.max(w.abs()));
    // Round the quantum itself so the file is short and stable.
    let quantum = if largest > 0.0 {
        let raw = largest / QUANTISATION_LEVELS;
        let digits = 6 - raw.log10().floor() as i32;
        round_to(raw, digits)
    } else {
        1.0
    };
    let hashed_weights = weights
        .hashed
        .iter()
        .filter_map(|(&bucket, row)| {
            let quantised = row.map(|w| {
                (w / quantum)
                    .round()
                    .clamp(-QUANTISATION_LEVELS, QUANTISATION_LEVELS) as i32
            });
            (quantised != [0, 0, 0]).then_some([
                bucket as i32,
                quantised[0],
                quantised[1],
                quantised[2],
            ])
        })
        .collect();
    WeightsFile {
        version: WEIGHTS_VERSION,
        trained_on_sha256: provenance.sha256.to_string(),
        records: provenance.records,
        classes: Difficulty::ALL.to_vec(),
        features: spec.features,
        l2: spec.l2,
        temperature: round_to(temperature, 4),
        dense_names: Dense::ALL.iter().map(|f| f.name().to_string()).collect(),
        dense_weights: weights
            .dense
            .iter()
            .map(|row| row.map(|w| round_to(w, 6)))
            .collect(),
        hashed_quantum: quantum,
        hashed_weights,
    }
}

/// Serialises the weights file as compact JSON with a trailing newline.
pub fn to_json(file: &WeightsFile) -> Result<String> {
    let mut json = serde_json::to_string(file)?;
    json.push('\n');
    Ok(json)
}
