//! [`QuotaClient`]: the employee API of one quota server, over HTTPS (plain HTTP only to this
//! machine), with a time limit on every call and a size limit on every answer.

use std::time::Duration;

use reqwest::{header, Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::SyncError;
use crate::litellm::{KeyInfo, KeyInfoAnswer};
use crate::protocol::{
    DeviceCredentials, ErrorBody, QuotaSnapshot, ReservationView, ReserveBody, SettleBody,
    UsageReceipt, UsageRecord,
};

/// How long a call may take, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read from the server (a snapshot is a few kilobytes).
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// How far this laptop's clock may be from the server's before its figures are not used.
pub const MAX_CLOCK_OFF_MS: i64 = 5 * 60_000;

/// The result of a snapshot poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// `304`: the snapshot with the ETag sent is still current.
    Unchanged,
    Changed {
        snapshot: Box<QuotaSnapshot>,
        /// To send as `If-None-Match` next time.
        etag: Option<String>,
    },
}

/// One quota server.
#[derive(Clone, Debug)]
pub struct QuotaClient {
    base: Url,
    http: reqwest::Client,
}

impl QuotaClient {
    /// A client for the server at `server_url` (`https://quota.example.com`, or `http://` to
    /// this machine: a device token never crosses a network in the clear).
    pub fn new(server_url: &str, timeout: Duration) -> Result<QuotaClient, SyncError> {
        let bad = |reason: &str| SyncError::BadUrl {
            url: server_url.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = server_url.trim().trim_end_matches('/');
        let base = Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
        let loopback = match base.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(bad("it has no host")),
        };
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(bad(
                    "plain http would send the device token unencrypted; use https://",
                ))
            }
            _ => return Err(bad("it must start with https://")),
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad("it must not carry a user name or password"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(bad("it must not have a query or fragment"));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(QuotaClient { base, http })
    }

    /// The server's address, as given (without a trailing slash).
    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Exchanges a one-time enrollment code for this device's token.
    pub async fn enroll(
        &self,
        code: &str,
        device_name: &str,
    ) -> Result<DeviceCredentials, SyncError> {
        let body = serde_json::json!({"code": code.trim(), "device_name": device_name});
        let (_, bytes) = self
            .call(Method::POST, "v1/enroll", None, Some(&body), None)
            .await?;
        self.parse(&bytes)
    }

    /// The user's quota snapshot; `Unchanged` when `etag` still matches. Refused
    /// ([`SyncError::ClockOff`]) when the server's `Date` is more than [`MAX_CLOCK_OFF_MS`]
    /// from `now_ms`, this laptop's time.
    pub async fn quota(
        &self,
        token: &str,
        etag: Option<&str>,
        now_ms: i64,
    ) -> Result<Fetched, SyncError> {
        let (headers, bytes) = self
            .call::<()>(Method::GET, "v1/quota", Some(token), None, etag)
            .await?;
        self.check_clock(&headers, now_ms)?;
        let Some(bytes) = bytes else {
            return Ok(Fetched::Unchanged);
        };
        let etag = headers
            .get(header::ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        Ok(Fetched::Changed {
            snapshot: Box::new(self.parse(&Some(bytes))?),
            etag,
        })
    }

    /// Holds `body.max_cost_micros` in every window of the user's scopes, or refuses
    /// ([`SyncError::OverBudget`] names the window that is short).
    pub async fn reserve(
        &self,
        token: &str,
        body: &ReserveBody,
    ) -> Result<ReservationView, SyncError> {
        let (_, bytes) = self
            .call(
                Method::POST,
                "v1/reservations",
                Some(token),
                Some(body),
                None,
            )
            .await?;
        self.parse(&bytes)
    }

    /// Records what the call cost (a retry with the same cost is a no-op on the server).
    pub async fn settle(
        &self,
        token: &str,
        id: &str,
        body: &SettleBody,
    ) -> Result<ReservationView, SyncError> {
        let path = format!("v1/reservations/{}/settle", encode(id));
        let (_, bytes) = self
            .call(Method::POST, &path, Some(token), Some(body), None)
            .await?;
        self.parse(&bytes)
    }

    /// Gives a hold back (the call failed and cost nothing).
    pub async fn release(&self, token: &str, id: &str) -> Result<ReservationView, SyncError> {
        let path = format!("v1/reservations/{}/release", encode(id));
        let (_, bytes) = self
            .call(
                Method::POST,
                &path,
                Some(token),
                Some(&serde_json::json!({})),
                None,
            )
            .await?;
        self.parse(&bytes)
    }

    /// Sends a batch of usage records; records the server already has are not counted again.
    pub async fn push_usage(
        &self,
        token: &str,
        records: &[UsageRecord],
    ) -> Result<UsageReceipt, SyncError> {
        let body = serde_json::json!({ "records": records });
        let (_, bytes) = self
            .call(Method::POST, "v1/usage", Some(token), Some(&body), None)
            .await?;
        self.parse(&bytes)
    }

    /// A LiteLLM proxy's `GET /key/info` for the virtual key `key` ([`crate::litellm`]).
    pub async fn litellm_key_info(&self, key: &str) -> Result<KeyInfo, SyncError> {
        let (_, bytes) = self
            .call::<()>(Method::GET, "key/info", Some(key), None, None)
            .await?;
        self.parse::<KeyInfoAnswer>(&bytes)
            .map(|answer| answer.info)
    }

    /// One call: the answer's headers and body (`None` for `304`), or the error it means.
    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&B>,
        etag: Option<&str>,
    ) -> Result<(header::HeaderMap, Option<Vec<u8>>), SyncError> {
        let url = self
            .base
            .join(&format!(
                "{}/{path}",
                self.base.path().trim_end_matches('/')
            ))
            .map_err(|e| SyncError::BadUrl {
                url: self.server().to_string(),
                reason: e.to_string(),
            })?;
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        if status == StatusCode::NOT_MODIFIED {
            return Ok((headers, None));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(self.garbage(format!(
                    "the answer is larger than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok((headers, Some(bytes)));
        }
        Err(self.refusal(status, &headers, &bytes))
    }

    /// The server's `Date` against this laptop's time (a missing or unreadable one is let
    /// pass: a proxy may strip it). The `Date` is whole seconds and `now_ms` was read before
    /// the request left, so the measured gap runs short by up to a second plus the round trip:
    /// the message rounds it to the nearest minute (an hour fast reads "60 minutes", not 59).
    fn check_clock(&self, headers: &header::HeaderMap, now_ms: i64) -> Result<(), SyncError> {
        let Some(server_ms) = headers
            .get(header::DATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| chrono::DateTime::parse_from_rfc2822(text).ok())
            .map(|time| time.timestamp_millis())
        else {
            return Ok(());
        };
        let off_ms = now_ms.saturating_sub(server_ms);
        if off_ms.abs() <= MAX_CLOCK_OFF_MS {
            return Ok(());
        }
        Err(SyncError::ClockOff {
            server: self.server().to_string(),
            minutes: (off_ms.abs() + 30_000) / 60_000,
            direction: if off_ms > 0 { "ahead of" } else { "behind" },
        })
    }

    fn parse<T: DeserializeOwned>(&self, bytes: &Option<Vec<u8>>) -> Result<T, SyncError> {
        let bytes = bytes.as_deref().unwrap_or_default();
        serde_json::from_slice(bytes).map_err(|e| self.garbage(format!("{e}")))
    }

    fn garbage(&self, detail: String) -> SyncError {
        SyncError::Garbage {
            server: self.server().to_string(),
            detail,
        }
    }

    fn transport(&self, error: reqwest::Error) -> SyncError {
        let server = self.server().to_string();
        if error.is_timeout() {
            return SyncError::TimedOut { server };
        }
        if error.is_body() || error.is_decode() {
            return SyncError::Garbage {
                server,
                detail: "the answer was cut off".into(),
            };
        }
        // The innermost cause says the most ("Connection refused", a certificate problem).
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail = cause.to_string();
            source = cause.source();
        }
        SyncError::Unreachable { server, detail }
    }

    fn refusal(&self, status: StatusCode, headers: &header::HeaderMap, bytes: &[u8]) -> SyncError {
        let server = self.server().to_string();
        let parsed: Option<ErrorBody> = serde_json::from_slice(bytes).ok();
        let Some(ErrorBody { error }) = parsed else {
            if status.is_server_error() {
                return SyncError::ServerFailed {
                    server,
                    status: status.as_u16(),
                    message: "no error details".into(),
                };
            }
            return self.garbage(format!("HTTP {status} with a body that is not the API's"));
        };
        match status {
            StatusCode::UNAUTHORIZED => SyncError::Unauthorized {
                server,
                message: error.message,
            },
            StatusCode::TOO_MANY_REQUESTS => SyncError::RateLimited {
                server,
                retry_after_s: headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(60),
            },
            _ if error.code == "budget_exceeded" => SyncError::OverBudget {
                message: error.message,
            },
            _ if status.is_server_error() => SyncError::ServerFailed {
                server,
                status: status.as_u16(),
                message: error.message,
            },
            _ => SyncError::Refused {
                server,
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            },
        }
    }
}

/// A client-made id as one path segment.
fn encode(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_this_machine_gets_a_token() {
        for good in [
            "https://quota.example.com",
            "https://quota.example.com/",
            "https://example.com/tokenwise",
            "http://127.0.0.1:8787",
            "http://localhost:8787",
            "http://[::1]:8787",
        ] {
            assert!(QuotaClient::new(good, DEFAULT_TIMEOUT).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("http://quota.example.com", "unencrypted"),
            ("ftp://quota.example.com", "https://"),
            ("quota.example.com", "relative URL"),
            ("https://user:pw@quota.example.com", "password"),
            ("https://quota.example.com/?x=1", "query"),
            ("", "relative URL"),
        ] {
            let error = QuotaClient::new(bad, DEFAULT_TIMEOUT).unwrap_err();
            assert!(error.to_string().contains(why), "{bad}: {error}");
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn a_path_prefix_is_kept() {
        let client = QuotaClient::new("https://example.com/tokenwise/", DEFAULT_TIMEOUT).unwrap();
        assert_eq!(client.server(), "https://example.com/tokenwise");
    }

    fn clock_check(now_ms: i64, date: &str) -> Result<(), SyncError> {
        let client = QuotaClient::new("http://127.0.0.1:8787", DEFAULT_TIMEOUT).unwrap();
        let mut headers = header::HeaderMap::new();
        headers.insert(header::DATE, header::HeaderValue::from_str(date).unwrap());
        client.check_clock(&headers, now_ms)
    }

    #[test]
    fn a_clock_gap_is_told_in_whole_minutes_rounded() {
        // 2026-12-07 07:00:00 UTC.
        let date = "Mon, 07 Dec 2026 07:00:00 GMT";
        let server_ms = chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp_millis();
        // An hour fast, read 1.5 s before the server stamped its reply: still "60 minutes".
        let error = clock_check(server_ms + 3_600_000 - 1_500, date).unwrap_err();
        assert!(error.to_string().contains("60 minutes ahead of"), "{error}");
        let error = clock_check(server_ms - 3_600_000 + 1_500, date).unwrap_err();
        assert!(error.to_string().contains("60 minutes behind"), "{error}");
        // Within five minutes either way, and no Date at all, pass.
        assert!(clock_check(server_ms + MAX_CLOCK_OFF_MS, date).is_ok());
        assert!(clock_check(server_ms - MAX_CLOCK_OFF_MS, date).is_ok());
        assert!(clock_check(server_ms + MAX_CLOCK_OFF_MS + 1, date).is_err());
        let client = QuotaClient::new("http://127.0.0.1:8787", DEFAULT_TIMEOUT).unwrap();
        assert!(client.check_clock(&header::HeaderMap::new(), 0).is_ok());
        // An unreadable Date is let pass too (a proxy may rewrite it).
        assert!(clock_check(0, "yesterday").is_ok());
    }

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(encode("a1-b_c~"), "a1-b_c~");
        // Dots too: ".." must not climb out of the reservation's path.
        assert_eq!(encode("../x y"), "%2E%2E%2Fx%20y");
    }
}
