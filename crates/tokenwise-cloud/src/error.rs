//! The one error type of the cloud client: every message says what happened and what to do.

use std::time::Duration;
use tokenwise_core::ErrorCode;

/// Why a cloud request failed. Messages never contain the API key: the key is never put into
/// one, and text a server sends back is passed through [`crate::Secret`]'s redaction and cut to
/// [`MAX_SERVER_MESSAGE_CHARS`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// The configured endpoint is not a usable `http(s)://` URL.
    #[error(
        "the cloud endpoint {url:?} is not a valid http(s) URL ({reason}); fix it in settings"
    )]
    InvalidBaseUrl { url: String, reason: String },

    /// No connection could be made (DNS, refused, TLS).
    #[error(
        "could not reach the cloud endpoint {url}: {detail}; check the address and your network"
    )]
    Connect { url: String, detail: String },

    /// The server went silent: no connection, no response or no next chunk in time.
    #[error("the cloud endpoint did not respond while {phase} (waited {}s); it may be overloaded or down, try again later", .after.as_secs_f32())]
    Timeout {
        phase: TimeoutPhase,
        after: Duration,
    },

    /// HTTP 429 from the provider or the gateway (not a budget refusal).
    #[error("the provider is rate-limiting requests{}: {message}", retry_hint(*.retry_after))]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },

    /// HTTP 401/403: the key is missing, wrong, revoked or lacks access to the model.
    #[error(
        "the provider refused the API key (HTTP {status}); check or replace the key in settings"
    )]
    Unauthorized { status: u16 },

    /// The gateway (e.g. the company's LiteLLM proxy) refused because a budget is used up.
    #[error("the company gateway refused the request because a budget is exhausted: {message}; ask your administrator or wait for the budget to reset")]
    GatewayBudgetExceeded { message: String },

    /// Another 4xx: the request itself was refused (unknown model, prompt too long, ...).
    #[error("the provider rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },

    /// 5xx, or an error object inside the stream: the provider behind the endpoint failed.
    /// `status` is the HTTP status, or for an error inside a 200 stream the error's numeric
    /// code if it has one, else 502.
    #[error("the provider failed (HTTP {status}): {message}; try again later")]
    Upstream { status: u16, message: String },

    /// The response is not an OpenAI-compatible chat-completion stream.
    #[error("the cloud endpoint sent something that is not a chat stream ({detail}); check that the address points at the provider's /v1 API and that its protocol (OpenAI-compatible or Anthropic) is set right")]
    MalformedResponse { detail: String },

    /// The connection broke or closed before the stream's end (`data: [DONE]`).
    #[error("the connection closed before the answer was complete ({detail}, {received_chars} characters received); try again")]
    Interrupted {
        detail: String,
        received_chars: usize,
    },
}

impl CloudError {
    /// A stable code for programs (the IPC boundary, `--json` output).
    pub fn code(&self) -> ErrorCode {
        match self {
            CloudError::InvalidBaseUrl { .. } => ErrorCode::CloudInvalidUrl,
            CloudError::Connect { .. } => ErrorCode::CloudUnreachable,
            CloudError::Timeout { .. } => ErrorCode::CloudTimeout,
            CloudError::RateLimited { .. } => ErrorCode::CloudRateLimited,
            CloudError::Unauthorized { .. } => ErrorCode::CloudUnauthorized,
            CloudError::GatewayBudgetExceeded { .. } => ErrorCode::GatewayBudgetExceeded,
            CloudError::Rejected { .. } => ErrorCode::CloudRejected,
            CloudError::Upstream { .. } => ErrorCode::CloudUpstreamFailed,
            CloudError::MalformedResponse { .. } => ErrorCode::CloudMalformedResponse,
            CloudError::Interrupted { .. } => ErrorCode::CloudInterrupted,
        }
    }
}

/// What the client was waiting for when a [`CloudError::Timeout`] struck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    Connecting,
    /// Request sent, waiting for the response headers.
    WaitingForResponse,
    /// Streaming, waiting for the next chunk.
    BetweenChunks,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connecting => "connecting",
            TimeoutPhase::WaitingForResponse => "waiting for the response",
            TimeoutPhase::BetweenChunks => "waiting for the next part of the answer",
        })
    }
}

/// Longest server-supplied text kept in an error message.
pub const MAX_SERVER_MESSAGE_CHARS: usize = 300;

fn retry_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(after) => format!(" (try again in {}s)", after.as_secs()),
        None => String::new(),
    }
}

/// Cuts server text to [`MAX_SERVER_MESSAGE_CHARS`], on a character boundary, single line.
pub(crate) fn shorten(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    if one_line.chars().count() <= MAX_SERVER_MESSAGE_CHARS {
        one_line.to_owned()
    } else {
        let cut: String = one_line.chars().take(MAX_SERVER_MESSAGE_CHARS).collect();
        format!("{cut}…")
    }
}
