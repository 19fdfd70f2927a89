//! The one error type of the models crate. Every message says what happened and what to do.

use std::path::PathBuf;

/// Why a catalog could not be read, a model not found, or a download not finished.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("The model catalog ({origin}) is not valid: {detail}")]
    Catalog { origin: String, detail: String },

    #[error("No model called `{id}` in the catalog. Known: {}.", known.join(", "))]
    UnknownModel { id: String, known: Vec<String> },

    #[error("`{id}` ships with Tokenwise and is not downloaded by the app: run `scripts/fetch-model.sh`.")]
    NotDownloadable { id: String },

    #[error(
        "Not enough free disk space for {file}: it needs {needed_mib} MiB more and {folder} has \
         {free_mib} MiB free. Free some space or set TOKENWISE_MODELS_DIR to a larger disk."
    )]
    DiskFull {
        file: String,
        folder: PathBuf,
        needed_mib: u64,
        free_mib: u64,
    },

    #[error("The server at {url} answered {status}{}", hint_for_status(*status))]
    HttpStatus { url: String, status: u16 },

    #[error(
        "The download of {file} was cut off ({detail}). What arrived is kept: run the same \
         pull again to resume."
    )]
    Interrupted { file: String, detail: String },

    #[error(
        "The server sent {file} with a length that does not add up ({detail}). Nothing was \
         kept; try again later or use another mirror."
    )]
    LengthMismatch { file: String, detail: String },

    #[error(
        "The downloaded {file} is not the published file: its sha256 is {actual}, expected \
         {expected}. It was deleted; try again, or ask IT whether the mirror is right."
    )]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },

    #[error("The download of {file} was cancelled. What arrived is kept for a resume.")]
    Cancelled { file: String },

    #[error("{name} is not downloaded yet: pull it first (Models screen, or `tokenwise models pull {id}`).")]
    NotDownloaded { name: String, id: String },

    #[error(
        "{file} is in the models folder but was not downloaded by Tokenwise and no checksum is \
         published or pinned for it, so it cannot be checked. Remove it and pull the model."
    )]
    Unverifiable { file: String },

    #[error("{name} is the default model Tokenwise runs; it is not removed.")]
    Bundled { name: String },

    #[error("Could not {action} {path}: {cause}")]
    Io {
        action: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("Could not reach {url}: {detail}")]
    Network { url: String, detail: String },
}

fn hint_for_status(status: u16) -> &'static str {
    match status {
        404 | 410 => ": the file is not there. The catalog's address may be out of date.",
        401 | 403 => ": access is refused. An internal mirror may need you on the company network.",
        429 => ": too many requests. Try again in a few minutes.",
        500..=599 => ": the server failed. Try again later.",
        _ => ".",
    }
}

impl ModelsError {
    /// Wraps an I/O error with what was being done and where.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        ModelsError::Io {
            action,
            path: path.into(),
            cause,
        }
    }
}
