//! The one error type of the local engine crate.

use std::path::PathBuf;

use crate::catalog::FETCH_COMMAND;

/// Why the local model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("The local model file {path} is missing. To get it, {refetch}.")]
    ModelMissing { path: PathBuf, refetch: String },

    #[error(
        "The local model file {path} is damaged or incomplete ({detail}). Delete it; to get it \
         again, {refetch}."
    )]
    ModelCorrupt {
        path: PathBuf,
        detail: String,
        refetch: String,
    },

    #[error("Could not read the local model file {path}: {cause}")]
    ModelUnreadable {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("Could not write the faster copy of the model's weights to {path}: {cause}")]
    WeightsCopy {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error(
        "mistral.rs could not load the local model file {path}: {detail}. If the file was \
         replaced by hand, delete it and run `{FETCH_COMMAND}`."
    )]
    ModelLoad { path: PathBuf, detail: String },

    #[error("Could not measure this machine's speed: {0}")]
    Probe(String),
}

impl From<LocalError> for tokenwise_core::Error {
    fn from(error: LocalError) -> Self {
        tokenwise_core::Error::EngineUnavailable(error.to_string())
    }
}
