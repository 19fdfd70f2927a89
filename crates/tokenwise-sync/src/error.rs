//! [`SyncError`]: why a call to the quota server did not give an answer the app can use.

/// Why a call to the company quota server failed. Every message names the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The address is not one the app will send a device token to.
    #[error("{url:?} is not a usable quota server address: {reason}")]
    BadUrl { url: String, reason: String },

    /// No connection (nothing listening, DNS, TLS, the network is down).
    #[error("The company quota server {server} cannot be reached: {detail}")]
    Unreachable { server: String, detail: String },

    /// Connected, but no whole answer in time.
    #[error("The company quota server {server} did not answer in time.")]
    TimedOut { server: String },

    /// A wrong, revoked or expired token or enrollment code.
    #[error("The company quota server {server} refused this device: {message}")]
    Unauthorized { server: String, message: String },

    /// A hard company budget has no room for the call; nothing was reserved.
    #[error("{message}")]
    OverBudget { message: String },

    /// The server understood and said no (a tier the team may not use, a project that is not
    /// the user's, a malformed request).
    #[error("The company quota server {server} refused the request ({code}): {message}")]
    Refused {
        server: String,
        status: u16,
        code: String,
        message: String,
    },

    /// Too many requests from this device.
    #[error("The company quota server {server} asks to wait {retry_after_s} s.")]
    RateLimited { server: String, retry_after_s: u64 },

    /// The server failed (5xx).
    #[error("The company quota server {server} failed (HTTP {status}): {message}")]
    ServerFailed {
        server: String,
        status: u16,
        message: String,
    },

    /// This laptop's clock is far from the server's (its `Date`): budget windows would be
    /// read against the wrong day, so the figures are not used until the clock is right.
    #[error(
        "This computer's clock is {minutes} minutes {direction} the company quota server \
         {server}'s; set it to the right time (automatic time) and sync again"
    )]
    ClockOff {
        server: String,
        minutes: i64,
        direction: &'static str,
    },

    /// An answer that is not what the API sends (a captive portal, a proxy's error page, a
    /// truncated body).
    #[error("The company quota server {server} sent an answer that is not its API's: {detail}")]
    Garbage { server: String, detail: String },
}

impl SyncError {
    /// Whether the same request may succeed later unchanged: the network, a timeout, a busy or
    /// failing server, a garbled answer. The outbox keeps such records and retries them; the
    /// rest are answers, not outages.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SyncError::Unreachable { .. }
                | SyncError::TimedOut { .. }
                | SyncError::RateLimited { .. }
                | SyncError::ServerFailed { .. }
                | SyncError::Garbage { .. }
                | SyncError::ClockOff { .. }
        )
    }
}
