//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong while loading the encoder or its head, or embedding.
#[derive(Debug, Error)]
pub enum EncoderError {
    /// A model file is missing: the encoder has not been fetched (`scripts/fetch-model.sh`).
    #[error(
        "the sentence encoder is not installed: {path} is missing (run scripts/fetch-model.sh)"
    )]
    Missing {
        /// The file that was looked for.
        path: String,
    },

    /// A model file exists but is not what the encoder needs (corrupt, truncated, wrong model).
    #[error("the sentence encoder file {path} is unusable: {message}")]
    Corrupt {
        /// The file involved.
        path: String,
        /// What is wrong with it.
        message: String,
    },

    /// The head's weights are not valid JSON or do not have the expected shape.
    #[error("invalid encoder head weights: {0}")]
    InvalidHead(String),

    /// The tensor library failed while running the model.
    #[error("the sentence encoder failed: {0}")]
    Inference(String),

    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },

    /// Training the head could not run.
    #[error("training the encoder head failed: {0}")]
    Training(String),
}

impl From<candle_core::Error> for EncoderError {
    fn from(error: candle_core::Error) -> Self {
        Self::Inference(error.to_string())
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, EncoderError>;
