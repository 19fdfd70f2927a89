//! The head on top of the embeddings: a multinomial logistic regression (simple, medium,
//! complex) with a fitted temperature, trained by `train-encoder-head` and shipped as JSON.

use serde::{Deserialize, Serialize};
use tokenwise_classifier::math::softmax3;
use tokenwise_core::Difficulty;

use crate::error::{EncoderError, Result};

/// The head shipped with the crate.
const EMBEDDED_HEAD: &str = include_str!("../weights/encoder-head-v1.json");

/// Version of the JSON format.
pub const HEAD_VERSION: u32 = 1;

/// The head's file format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadFile {
    pub version: u32,
    /// The encoder the head was trained on (its folder name).
    pub encoder: String,
    pub classes: [Difficulty; 3],
    /// One row of `dimension` weights per class.
    pub weights: [Vec<f32>; 3],
    pub bias: [f32; 3],
    /// Divides the logits before the softmax (fitted on held-out predictions).
    pub temperature: f64,
    /// SHA-256 (hex) of the training data, and how many prompts it held.
    pub trained_on_sha256: String,
    pub records: usize,
}

/// A loaded head.
#[derive(Debug, Clone)]
pub struct EncoderHead {
    weights: [Vec<f32>; 3],
    bias: [f32; 3],
    temperature: f64,
}

impl EncoderHead {
    /// The head compiled into the crate.
    pub fn embedded() -> Result<Self> {
        Self::from_json(EMBEDDED_HEAD)
    }

    /// Parses and checks a head.
    pub fn from_json(json: &str) -> Result<Self> {
        let file: HeadFile =
            serde_json::from_str(json).map_err(|e| EncoderError::InvalidHead(e.to_string()))?;
        Self::from_file(&file)
    }

    /// Checks a parsed head.
    pub fn from_file(file: &HeadFile) -> Result<Self> {
        let invalid = |message: String| Err(EncoderError::InvalidHead(message));
        if file.version != HEAD_VERSION {
            return invalid(format!("unsupported version {}", file.version));
        }
        if file.classes != Difficulty::ALL {
            return invalid("classes must be [simple, medium, complex]".into());
        }
        let dimension = file.weights[0].len();
        if dimension == 0 || file.weights.iter().any(|row| row.len() != dimension) {
            return invalid("weight rows must be non-empty and of one length".into());
        }
        let finite = file.weights.iter().flatten().chain(&file.bias);
        if !finite.into_iter().all(|w| w.is_finite()) {
            return invalid("weights must be finite".into());
        }
        if !(file.temperature.is_finite() && file.temperature > 0.0) {
            return invalid(format!("temperature {} must be positive", file.temperature));
        }
        Ok(Self {
            weights: file.weights.clone(),
            bias: file.bias,
            temperature: file.temperature,
        })
    }

    /// Length of the embeddings the head reads.
    pub fn dimension(&self) -> usize {
        self.weights[0].len()
    }

    /// Calibrated probabilities of simple, medium and complex. An embedding of another length
    /// is an error (a head trained on another encoder).
    pub fn probabilities(&self, embedding: &[f32]) -> Result<[f64; 3]> {
        if embedding.len() != self.dimension() {
            return Err(EncoderError::InvalidHead(format!(
                "the head reads {} numbers, the encoder gave {}",
                self.dimension(),
                embedding.len()
            )));
        }
        let logits = [0, 1, 2].map(|k| {
            let dot: f64 = self.weights[k]
                .iter()
                .zip(embedding)
                .map(|(w, x)| f64::from(*w) * f64::from(*x))
                .sum();
            (dot + f64::from(self.bias[k])) / self.temperature
        });
        Ok(softmax3(logits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> HeadFile {
        HeadFile {
            version: HEAD_VERSION,
            encoder: "test".into(),
            classes: Difficulty::ALL,
            weights: [vec![1.0, 0.0], vec![0.0, 1.0], vec![0.0, 0.0]],
            bias: [0.0; 3],
            temperature: 1.0,
            trained_on_sha256: String::new(),
            records: 0,
        }
    }

    #[test]
    fn the_shipped_head_loads() {
        assert_eq!(EncoderHead::embedded().unwrap().dimension(), 384);
    }

    #[test]
    fn probabilities_follow_the_weights() {
        let head = EncoderHead::from_file(&file()).unwrap();
        let p = head.probabilities(&[3.0, 0.0]).unwrap();
        assert!(p[0] > p[1] && p[0] > p[2]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_heads_are_refused_in_words() {
        let mut ragged = file();
        ragged.weights[2] = vec![0.0];
        let mut hot = file();
        hot.temperature = 0.0;
        let mut nan = file();
        nan.bias[1] = f32::NAN;
        for bad in [ragged, hot, nan] {
            let error = EncoderHead::from_file(&bad).unwrap_err().to_string();
            assert!(error.starts_with("invalid encoder head weights"), "{error}");
        }
        assert!(EncoderHead::from_json("{").is_err());
        let head = EncoderHead::from_file(&file()).unwrap();
        assert!(head.probabilities(&[1.0, 2.0, 3.0]).is_err());
    }
}
