//! The one error type of the facade, and its shape at the IPC boundary.

use serde::{Deserialize, Serialize};
use tokenwise_core::ErrorCode;
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

    #[error("{}", sentence(&.0.to_string()))]
    Cloud(#[from] tokenwise_cloud::CloudError),

    #[error("{}", sentence(&.0.to_string()))]
    Secrets(#[from] tokenwise_secrets::SecretsError),

    /// A hard budget has less left than the request's maximum cost; nothing was sent.
    #[error("{0}")]
    CloudNotAffordable(String),

    /// Cloud answers are blocked (a broken tier catalog or budget file); nothing was sent.
    #[error("{0}")]
    CloudBlocked(String),

    /// The ledger refused the reservation: a hard window filled up (perhaps by a request
    /// running at the same time) between the preview and the send; nothing was sent.
    #[error("{0}")]
    OverBudget(String),

    /// The answer was generated (and shown) but could not be saved, typically on a full disk.
    /// It carries the answer, so a front end can still show, print or copy it.
    #[error("The answer could not be saved. {cause}")]
    NotSaved {
        answer: Box<tokenwise_core::ChatMessage>,
        cause: tokenwise_store::StoreError,
    },

    /// The company quota server could not be reached, or refused.
    #[error("{}", sentence(&.0.to_string()))]
    Company(#[from] tokenwise_sync::SyncError),

    /// There is nothing to summarize (nothing copied, an image, files, binary data, too
    /// little text); the message says which.
    #[error("{0}")]
    NothingToSummarize(String),

    /// A summary that takes minutes, not started without the person's yes.
    #[error("{0}")]
    LongSummary(String),

    /// A text too long for the local model to summarize, even in parts.
    #[error("{0}")]
    SummaryTooLong(String),

    /// The model catalog, a download, or a model file that cannot be used.
    #[error("{}", sentence(&.0.to_string()))]
    Models(#[from] tokenwise_models::ModelsError),

    /// A cloud request without the user's approval of its cost; nothing was sent.
    #[error("Sending this to {model} needs your confirmation first ({summary}).")]
    ConfirmationRequired { model: String, summary: String },
}

/// A message from a lower layer as a sentence: capital first letter, full stop at the end.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

fn models_code(error: &tokenwise_models::ModelsError) -> ErrorCode {
    use tokenwise_models::ModelsError;
    match error {
        ModelsError::Catalog { .. } => ErrorCode::InvalidCatalog,
        ModelsError::DiskFull { .. } => ErrorCode::DiskFull,
        ModelsError::HttpStatus { .. }
        | ModelsError::Interrupted { .. }
        | ModelsError::LengthMismatch { .. }
        | ModelsError::ChecksumMismatch { .. }
        | ModelsError::Cancelled { .. }
        | ModelsError::Network { .. }
        | ModelsError::Io { .. } => ErrorCode::ModelDownloadFailed,
        ModelsError::UnknownModel { .. }
        | ModelsError::NotDownloadable { .. }
        | ModelsError::NotDownloaded { .. }
        | ModelsError::Unverifiable { .. }
        | ModelsError::Bundled { .. } => ErrorCode::InvalidInput,
    }
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Core(error) => error.code(),
            AppError::Store(error) => error.code(),
            AppError::Budget(error) => error.code(),
            AppError::InvalidInput(_) => ErrorCode::InvalidInput,
            AppError::Cloud(error) => error.code(),
            AppError::Secrets(error) => error.code(),
            AppError::CloudNotAffordable(_) => ErrorCode::BudgetTooLow,
            AppError::OverBudget(_) => ErrorCode::BudgetExceeded,
            AppError::CloudBlocked(_) => ErrorCode::CloudBlocked,
            AppError::ConfirmationRequired { .. } => ErrorCode::ConfirmationRequired,
            AppError::NotSaved { cause, .. } => cause.code(),
            AppError::Company(error) => company_code(error),
            AppError::NothingToSummarize(_) => ErrorCode::NothingToSummarize,
            AppError::LongSummary(_) => ErrorCode::SummaryNeedsConfirmation,
            AppError::SummaryTooLong(_) => ErrorCode::PromptTooLarge,
            AppError::Models(error) => models_code(error),
        }
    }

    pub fn to_payload(&self) -> ErrorPayload {
        ErrorPayload {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

fn company_code(error: &tokenwise_sync::SyncError) -> ErrorCode {
    use tokenwise_sync::SyncError;
    match error {
        SyncError::BadUrl { .. } => ErrorCode::InvalidInput,
        SyncError::Unauthorized { .. } => ErrorCode::CompanyUnauthorized,
        SyncError::OverBudget { .. } => ErrorCode::BudgetExceeded,
        SyncError::Refused { .. } => ErrorCode::CompanyRefused,
        SyncError::Unreachable { .. }
        | SyncError::TimedOut { .. }
        | SyncError::RateLimited { .. }
        | SyncError::ServerFailed { .. }
        | SyncError::Garbage { .. }
        | SyncError::ClockOff { .. } => ErrorCode::CompanyUnreachable,
    }
}

/// What a failed command returns to the user interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
}

impl From<AppError> for ErrorPayload {
    fn from(error: AppError) -> Self {
        error.to_payload()
    }
}
