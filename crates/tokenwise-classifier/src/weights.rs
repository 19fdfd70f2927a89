//! The on-disk weights format (`crates/tokenwise-classifier/weights/classifier-v1.json`).
//!
//! Dense weights are plain rounded floats. Hashed n-gram weights are sparse: only buckets
//! with a non-zero weight are stored, as `[bucket, q_simple, q_medium, q_complex]` integers
//! that are multiplied by `hashed_quantum` when loaded (16-bit quantisation).

use serde::{Deserialize, Serialize};

use crate::features::FeatureConfig;
use crate::Difficulty;

/// Version of the format written by this crate.
pub const WEIGHTS_VERSION: u32 = 1;

/// The weights file, exactly as serialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsFile {
    /// Format version ([`WEIGHTS_VERSION`]).
    pub version: u32,
    /// SHA-256 of the training data file, hex.
    pub trained_on_sha256: String,
    /// Number of training records.
    pub records: usize,
    /// Output classes, in column order.
    pub classes: Vec<Difficulty>,
    /// Which features the weights expect.
    pub features: FeatureConfig,
    /// L2 strength the model was trained with (for the record).
    pub l2: f64,
    /// Softmax temperature fitted on leave-one-source-out predictions.
    pub temperature: f64,
    /// Names of the dense features, in row order; checked against the code at load time.
    pub dense_names: Vec<String>,
    /// One `[simple, medium, complex]` row per dense feature.
    pub dense_weights: Vec<[f64; 3]>,
    /// Multiply stored hashed integers by this to get weights.
    pub hashed_quantum: f64,
    /// Sparse hashed rows `[bucket, q_simple, q_medium, q_complex]`, sorted by bucket.
    pub hashed_weights: Vec<[i32; 4]>,
}
