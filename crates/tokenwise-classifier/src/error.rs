//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong while loading weights, reading data or training.
#[derive(Debug, Error)]
pub enum ClassifierError {
    /// The weights file is not valid JSON or does not have the expected shape.
    #[error("invalid classifier weights: {0}")]
    InvalidWeights(String),

    /// A JSON document (weights or a dataset line) could not be parsed.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),

    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A dataset record is malformed (unknown tier, empty prompt, ...).
    #[error("invalid dataset record at line {line}: {message}")]
    InvalidRecord {
        /// 1-based line number in the JSONL file.
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// Training could not run (for example, a fold has no examples).
    #[error("training failed: {0}")]
    Training(String),
}

impl ClassifierError {
    /// Wraps an I/O error together with the path it concerns.
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, ClassifierError>;
