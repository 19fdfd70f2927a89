//! The one error type of the store crate.

use std::path::PathBuf;
use tokenwise_core::ErrorCode;

use tokenwise_core::{Money, WindowKind};

use crate::ledger::ScopeKind;

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

    #[error(
        "The disk is full: the chat history database {path} could not be written ({detail}). \
         Free some space; nothing already saved was lost."
    )]
    DiskFull { path: PathBuf, detail: String },

    #[error("No conversation with id {0}.")]
    ConversationNotFound(String),

    #[error("The chat history database {path} failed: {detail}")]
    Database { path: PathBuf, detail: String },

    /// A hard budget window has no room for this request; nothing was reserved. The facts
    /// only: the facade phrases them for people (`tokenwise-app`'s ledger module).
    #[error(
        "The {window_kind} window of {scope_kind:?} {scope_id} has {committed} of {limit} spent \
         or reserved; a request of up to {requested} does not fit.",
        committed = Money::from_micros(*.committed_micros),
        limit = Money::from_micros(*.limit_micros),
        requested = Money::from_micros(*.requested_micros),
    )]
    BudgetExceeded {
        scope_kind: ScopeKind,
        scope_id: String,
        window_kind: WindowKind,
        limit_micros: i64,
        committed_micros: i64,
        requested_micros: i64,
    },

    /// The request id is already in the ledger: it is counted once, never twice.
    #[error(
        "Request {0} is already in the ledger; it is counted once. Send a new request with a \
         new id."
    )]
    DuplicateRequest(String),

    #[error("No request with id {0} in the ledger: nothing to settle or release.")]
    RequestNotFound(String),

    /// Settle or release of a request that is no longer (or never was) an open reservation.
    #[error(
        "Request {request_id} is {status}, not an open reservation: nothing to settle or release \
         (its cost is recorded once)."
    )]
    NotReserved { request_id: String, status: String },

    /// The caller passed values the ledger cannot record (a bug in the caller, not the data).
    #[error("Tokenwise could not record this request: {0}")]
    InvalidInput(String),
}

// SQLite primary result codes (https://sqlite.org/rescode.html).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_NOTADB: i64 = 26;
// Extended I/O error codes SQLite raises when a file cannot grow: a write or sync that came up
// short, or the WAL index (-shm) that could not be extended. On a full disk (or a file size
// limit) these come instead of SQLITE_FULL whenever the short write happens outside the
// database file itself.
const SQLITE_IOERR_WRITE: i64 = 778;
const SQLITE_IOERR_FSYNC: i64 = 1034;
const SQLITE_IOERR_DIR_FSYNC: i64 = 1290;
const SQLITE_IOERR_TRUNCATE: i64 = 1546;
const SQLITE_IOERR_SHMSIZE: i64 = 4874;

impl StoreError {
    /// Classifies a sqlx error by SQLite's primary result code.
    pub(crate) fn from_sqlx(path: &std::path::Path, error: sqlx::Error) -> Self {
        let path = path.to_path_buf();
        let extended_code = match &error {
            sqlx::Error::Database(db) => db.code().and_then(|code| code.parse::<i64>().ok()),
            _ => None,
        };
        if let Some(
            SQLITE_IOERR_WRITE
            | SQLITE_IOERR_FSYNC
            | SQLITE_IOERR_DIR_FSYNC
            | SQLITE_IOERR_TRUNCATE
            | SQLITE_IOERR_SHMSIZE,
        ) = extended_code
        {
            return StoreError::DiskFull {
                path,
                detail: error.to_string(),
            };
        }
        match extended_code.map(|code| code & 0xff) {
            Some(SQLITE_BUSY | SQLITE_LOCKED) => StoreError::Locked { path },
            Some(SQLITE_CORRUPT | SQLITE_NOTADB) => StoreError::Corrupt {
                path,
                detail: error.to_string(),
            },
            Some(SQLITE_FULL) => StoreError::DiskFull {
                path,
                detail: error.to_string(),
            },
            _ => StoreError::Database {
                path,
                detail: error.to_string(),
            },
        }
    }

    /// A stable code for the IPC boundary.
    pub fn code(&self) -> ErrorCode {
        match self {
            StoreError::Locked { .. } => ErrorCode::DatabaseLocked,
            StoreError::Corrupt { .. } => ErrorCode::DatabaseCorrupt,
            StoreError::Folder { .. } => ErrorCode::DatabaseFolder,
            StoreError::DiskFull { .. } => ErrorCode::DiskFull,
            StoreError::ConversationNotFound(_) => ErrorCode::ConversationNotFound,
            StoreError::Database { .. } => ErrorCode::DatabaseError,
            StoreError::BudgetExceeded { .. } => ErrorCode::BudgetExceeded,
            StoreError::DuplicateRequest(_) => ErrorCode::DuplicateRequest,
            StoreError::RequestNotFound(_) => ErrorCode::RequestNotFound,
            StoreError::NotReserved { .. } => ErrorCode::NotReserved,
            StoreError::InvalidInput(_) => ErrorCode::InvalidInput,
        }
    }
}
