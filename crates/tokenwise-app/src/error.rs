//! The one error type of the facade, and its shape at the IPC boundary.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Why a use case failed. Messages are for people; codes are for programs.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Core(#[from] tokenwise_core::Error),

    #[error(transparent)]
    Store(#[from] tokenwise_store::StoreError),

    #[error(transparent)]
    Budget(#[from] tokenwise_quota::QuotaError),

    #[error("{0}")]
    InvalidInput(String),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Core(error) => error.code(),
            AppError::Store(error) => error.code(),
            AppError::Budget(error) => error.code(),
            AppError::InvalidInput(_) => "invalid_input",
        }
    }

    pub fn to_payload(&self) -> ErrorPayload {
        ErrorPayload {
            code: self.code().to_string(),
            message: self.to_string(),
            details: None,
        }
    }
}

/// What a failed command returns to the user interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ErrorPayload {
    pub code: String,
    pub message: String,
    pub details: Option<String>,
}

impl From<AppError> for ErrorPayload {
    fn from(error: AppError) -> Self {
        error.to_payload()
    }
}
