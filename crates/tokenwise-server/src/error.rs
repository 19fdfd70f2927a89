//! The one error type of the server, and its HTTP shape: a status and
//! `{"error": {"code": "...", "message": "..."}}`, the message written for the person reading it.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why a request or an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No token, or a token that is wrong or revoked.
    #[error("{0}")]
    Unauthorized(String),

    /// Not there, or not the caller's (another user's reservation is "not found" too).
    #[error("{0}")]
    NotFound(String),

    /// The request cannot be understood or breaks a rule of the API.
    #[error("{0}")]
    BadRequest(String),

    /// The request body is larger than the server accepts.
    #[error("The request body is larger than {limit_bytes} bytes.")]
    PayloadTooLarge { limit_bytes: usize },

    /// The caller may not do this (a tier the team may not use, a project not theirs).
    #[error("{0}")]
    Forbidden(String),

    /// It contradicts what is stored (an id already used for something else, a reservation
    /// no longer open).
    #[error("{0}")]
    Conflict(String),

    /// A hard window has no room for the reservation; nothing was reserved.
    #[error(
        "Over budget: the {window} budget of {scope_kind} {scope_id} is {limit_micros} \
         micro-dollars, {committed_micros} are spent or reserved, and this request may cost up \
         to {requested_micros}."
    )]
    BudgetExceeded {
        scope_kind: String,
        scope_id: String,
        window: String,
        limit_micros: i64,
        committed_micros: i64,
        requested_micros: i64,
    },

    /// Too many requests with this token; try again after `retry_after_s`.
    #[error("Too many requests; try again in {retry_after_s} s.")]
    RateLimited { retry_after_s: u64 },

    /// The database failed (unreachable, full, a bug).
    #[error("The quota database failed: {0}")]
    Database(String),

    /// The server cannot start as configured (a missing admin token file, a bad address).
    #[error("{0}")]
    Config(String),
}

impl ServerError {
    /// A stable code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::Unauthorized(_) => "unauthorized",
            ServerError::NotFound(_) => "not_found",
            ServerError::BadRequest(_) => "bad_request",
            ServerError::PayloadTooLarge { .. } => "payload_too_large",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::Conflict(_) => "conflict",
            ServerError::BudgetExceeded { .. } => "budget_exceeded",
            ServerError::RateLimited { .. } => "rate_limited",
            ServerError::Database(_) => "database_error",
            ServerError::Config(_) => "config_error",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ServerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ServerError::NotFound(_) => StatusCode::NOT_FOUND,
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::Conflict(_) | ServerError::BudgetExceeded { .. } => StatusCode::CONFLICT,
            ServerError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Database(_) | ServerError::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<sqlx::Error> for ServerError {
    fn from(error: sqlx::Error) -> Self {
        ServerError::Database(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for ServerError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        ServerError::Database(format!("migrations failed: {error}"))
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        if let ServerError::Database(detail) = &self {
            tracing::error!(error = %detail, "database error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
            },
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let ServerError::RateLimited { retry_after_s } = self {
            if let Ok(value) = HeaderValue::from_str(&retry_after_s.to_string()) {
                response.headers_mut().insert("retry-after", value);
            }
        }
        response
    }
}
