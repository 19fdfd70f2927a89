//! The one error type of the store crate.

use std::path::PathBuf;

/// A database failure, phrased for the person who has to act on it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "The chat history database {path} is locked by another program (another Tokenwise \
         window?). Close it and try again."
    )]
    Locked { path: PathBuf },

    #[error(
        "The chat history database {path} is damaged ({detail}). Tokenwise left it untouched; \
         move it aside (or restore a backup) and restart to begin a new history."
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error("Could not create the folder {path} for the chat history: {cause}")]
    Folder {
        path: PathBuf,
        cause: std::io::Error,
    },

    #[error("The disk is full: the chat history database {path} could not be written.")]
    DiskFull { path: PathBuf },

    #[error("No conversation with id {0}.")]
    ConversationNotFound(String),

    #[error("The chat history database {path} failed: {detail}")]
    Database { path: PathBuf, detail: String },
}

// SQLite primary result codes (https://sqlite.org/rescode.html).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_NOTADB: i64 = 26;

impl StoreError {
    /// Classifies a sqlx error by SQLite's primary result code.
    pub(crate) fn from_sqlx(path: &std::path::Path, error: sqlx::Error) -> Self {
        let path = path.to_path_buf();
        let primary_code = match &error {
            sqlx::Error::Database(db) => db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .map(|code| code & 0xff),
            _ => None,
        };
        match primary_code {
            Some(SQLITE_BUSY | SQLITE_LOCKED) => StoreError::Locked { path },
            Some(SQLITE_CORRUPT | SQLITE_NOTADB) => StoreError::Corrupt {
                path,
                detail: error.to_string(),
            },
            Some(SQLITE_FULL) => StoreError::DiskFull { path },
            _ => StoreError::Database {
                path,
                detail: error.to_string(),
            },
        }
    }

    /// A stable code for the IPC boundary.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Locked { .. } => "database_locked",
            StoreError::Corrupt { .. } => "database_corrupt",
            StoreError::Folder { .. } => "database_folder",
            StoreError::DiskFull { .. } => "disk_full",
            StoreError::ConversationNotFound(_) => "conversation_not_found",
            StoreError::Database { .. } => "database_error",
        }
    }
}
