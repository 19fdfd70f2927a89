//! Tokenwise's cloud tier client: streamed chat completions from any OpenAI-compatible
//! endpoint — a company LiteLLM proxy, OpenRouter, vLLM, Ollama, or OpenAI itself — and from
//! Anthropic's Messages API ([`AnthropicMessages`]); [`CloudClient`] picks one for a catalog
//! provider. [`count_prompt_tokens`] sizes a prompt for the cost preview before it is sent.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tokenwise_cloud::CloudError> {
//! use tokenwise_cloud::{CloudRequest, OpenAiCompatible, Secret};
//! use tokenwise_core::{CancellationToken, PromptMessage, Role};
//!
//! let client = OpenAiCompatible::new("http://127.0.0.1:4000/v1", Some(Secret::new("sk-…")))?;
//! let request = CloudRequest {
//!     model: "gpt-4o-mini".into(),
//!     messages: vec![PromptMessage::new(Role::User, "Hello")],
//!     max_tokens: 256,
//! };
//! let outcome = client
//!     .stream_chat(&request, |piece| print!("{piece}"), CancellationToken::new())
//!     .await?;
//! println!("\n{:?} tokens, cost {:?}", outcome.usage, outcome.actual_cost);
//! # Ok(()) }
//! ```
//!
//! # What [`OpenAiCompatible::stream_chat`] does
//!
//! - `POST {base_url}/chat/completions` with `stream: true` and
//!   `stream_options: {"include_usage": true}`, bearer key if one is given.
//! - Parses the server-sent events (`data: {...}` lines, `: comments`, `data: [DONE]`), calls
//!   `on_token` with each piece of the answer as it arrives, and returns a [`CloudOutcome`]:
//!   the whole text, the [`Usage`] from the final chunk (if the server sent one), the
//!   `finish_reason`, and `actual_cost` as a LiteLLM gateway reports it: the
//!   `x-litellm-response-cost` response header when present, else the `cost` field LiteLLM adds
//!   to the final chunk's `usage`. Both are decimal dollar numbers (`1.35e-05`) converted by
//!   [`parse_dollars`]: exact integers from the text as written, fractions of a micro-dollar
//!   rounded **up** like [`tokenwise_core::Price::cost`]. (LiteLLM 1.108 sends the header only
//!   for non-streamed requests — for streams it sends `x-litellm-response-cost-original: 0.0`
//!   before the answer exists — so streamed costs come from `usage.cost`.) Where neither is
//!   sent, price the usage with the catalog: [`cost_from_usage`].
//! - Cancellation (`cancel.cancel()`) stops reading at once, drops the connection and returns
//!   `Ok` with `stopped: true` and the text so far (usage is then usually unknown: the caller
//!   settles its reservation from the estimate or releases it, by its own policy).
//!
//! # Time limits ([`Timeouts`])
//!
//! `connect` bounds opening the connection (TCP + TLS); `idle` bounds the wait for the
//! response headers and then every gap between two chunks, so a server that accepts and goes
//! silent fails with [`CloudError::Timeout`] instead of hanging. There is no total limit: a
//! long answer that keeps streaming is fine.
//!
//! # Errors
//!
//! One type, [`CloudError`], with messages a person can act on: HTTP 429 → `RateLimited`
//! (with `Retry-After` seconds), 401/403 → `Unauthorized`, a gateway budget refusal (LiteLLM:
//! HTTP 400 or 429 whose error `type` is `budget_exceeded` or whose message says the budget
//! was exceeded) → `GatewayBudgetExceeded`, other 4xx → `Rejected`, 5xx and error objects
//! inside a stream → `Upstream`, non-SSE or non-JSON bodies → `MalformedResponse`, a stream
//! that stops before `[DONE]` → `Interrupted`.
//!
//! # Keys
//!
//! The key is a [`Secret`]: its `Debug`/`Display` print `***`, it is never put into an error,
//! and any text a server sends back is redacted (key → `***`) before it goes into one.

mod anthropic;
mod client;
mod cost;
mod error;
mod sse;
mod tokens;

use std::time::Duration;

use serde::Serialize;
use tokenwise_core::{CancellationToken, Money, PromptMessage};

pub use anthropic::{AnthropicMessages, ANTHROPIC_VERSION};
pub use client::CloudClient;
pub use cost::{cost_from_usage, parse_dollars, LITELLM_COST_HEADER};
pub use error::{CloudError, TimeoutPhase, MAX_SERVER_MESSAGE_CHARS};
pub use tokens::{count_prompt_tokens, count_text_tokens, estimate, ESTIMATE_CHARS_PER_TOKEN};
/// The key type lives in `tokenwise-core`, so the keyring crate needs no HTTP client.
pub use tokenwise_core::Secret;

use error::shorten;
use sse::{Event, LineBuffer};

/// How long the client waits; see the crate docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the connection (TCP and TLS).
    pub connect: Duration,
    /// Waiting for the response headers, and for each next chunk of the stream.
    pub idle: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect; 60 s of silence (large models can think a while before the first token).
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        }
    }
}

/// One chat-completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudRequest {
    /// The model id the endpoint expects (for a LiteLLM proxy: a `model_name` of its config).
    pub model: String,
    pub messages: Vec<PromptMessage>,
    /// Upper bound on the answer's length (`max_tokens`).
    pub max_tokens: u32,
}

/// Tokens the provider counted for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// What one streamed request produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudOutcome {
    /// The answer (so far, if `stopped`).
    pub text: String,
    /// From the stream's final usage chunk; `None` if the server sent none (or was cancelled
    /// before it).
    pub usage: Option<Usage>,
    /// What the gateway says the request cost: the `x-litellm-response-cost` response header,
    /// else the `cost` field LiteLLM puts into the final chunk's `usage`. `None` if it said
    /// neither (any non-LiteLLM endpoint): price [`CloudOutcome::usage`] with
    /// [`cost_from_usage`] then.
    pub actual_cost: Option<Money>,
    /// The last `finish_reason` seen (`"stop"`, `"length"`, ...).
    pub finish_reason: Option<String>,
    /// The model the server says answered, if it said.
    pub model: Option<String>,
    /// The request was cancelled before the stream ended.
    pub stopped: bool,
}

/// A client for one OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiCompatible {
    base_url: String,
    api_key: Option<Secret>,
    timeouts: Timeouts,
    http: reqwest::Client,
}

impl OpenAiCompatible {
    /// A client for `base_url`, the API root that `/chat/completions` hangs off
    /// (`http://host:4000/v1`, `https://openrouter.ai/api/v1`, `http://localhost:11434/v1`),
    /// with the default [`Timeouts`].
    pub fn new(base_url: &str, api_key: Option<Secret>) -> Result<OpenAiCompatible, CloudError> {
        OpenAiCompatible::with_timeouts(base_url, api_key, Timeouts::default())
    }

    pub fn with_timeouts(
        base_url: &str,
        api_key: Option<Secret>,
        timeouts: Timeouts,
    ) -> Result<OpenAiCompatible, CloudError> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let invalid = |reason: &str| CloudError::InvalidBaseUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let url = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none() {
            return Err(invalid("there is no host"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(OpenAiCompatible {
            base_url: trimmed.to_owned(),
            api_key,
            timeouts,
            http,
        })
    }

    /// The endpoint's base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Streams one answer; see the crate docs.
    pub async fn stream_chat(
        &self,
        request: &CloudRequest,
        on_token: impl FnMut(&str),
        cancel: CancellationToken,
    ) -> Result<CloudOutcome, CloudError> {
        let url = format!("{}/chat/completions", self.base_url);
        let mut builder = self.http.post(&url).json(&WireRequest::from(request));
        if let Some(key) = &self.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        let mut handler = ChatCompletionLines {
            client: self,
            on_token,
            saw_event: false,
        };
        self.stream_lines(&url, builder, cancel, &mut handler).await
    }

    /// Sends `builder` and feeds the response's lines to `handler` until it says the stream is
    /// complete, applying the timeouts, cancellation and HTTP error mapping of the crate docs.
    /// Shared by both wire protocols.
    pub(crate) async fn stream_lines(
        &self,
        url: &str,
        builder: reqwest::RequestBuilder,
        cancel: CancellationToken,
        handler: &mut impl LineHandler,
    ) -> Result<CloudOutcome, CloudError> {
        let mut outcome = CloudOutcome::default();
        let send = tokio::time::timeout(self.timeouts.idle, builder.send());
        let response = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                outcome.stopped = true;
                return Ok(outcome);
            }
            sent = send => match sent {
                Err(_) => return Err(CloudError::Timeout {
                    phase: TimeoutPhase::WaitingForResponse,
                    after: self.timeouts.idle,
                }),
                Ok(Err(e)) => return Err(self.send_error(url, &e)),
                Ok(Ok(response)) => response,
            },
        };

        let status = response.status();
        if !status.is_success() {
            let retry_after = retry_after(response.headers());
            let body = tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    outcome.stopped = true;
                    return Ok(outcome);
                }
                body = tokio::time::timeout(self.timeouts.idle, response.text()) => {
                    body.ok().and_then(Result::ok).unwrap_or_default()
                }
            };
            return Err(self.http_error(status.as_u16(), &body, retry_after));
        }
        outcome.actual_cost = response
            .headers()
            .get(LITELLM_COST_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(parse_dollars);

        let mut response = response;
        let mut lines = LineBuffer::default();
        loop {
            let chunk = tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    outcome.stopped = true;
                    return Ok(outcome);
                }
                chunk = tokio::time::timeout(self.timeouts.idle, response.chunk()) => chunk,
            };
            let chunk = match chunk {
                Err(_) => {
                    return Err(CloudError::Timeout {
                        phase: TimeoutPhase::BetweenChunks,
                        after: self.timeouts.idle,
                    })
                }
                Ok(Err(e)) => {
                    return Err(CloudError::Interrupted {
                        detail: self.redact(&format!("read error: {e}")),
                        received_chars: outcome.text.chars().count(),
                    })
                }
                Ok(Ok(None)) => {
                    if let Some(line) = lines.finish() {
                        if handler.line(&line, &mut outcome)? {
                            return Ok(outcome);
                        }
                    }
                    handler.end_of_body(&outcome)?;
                    return Ok(outcome);
                }
                Ok(Ok(Some(bytes))) => bytes,
            };
            for line in lines.push(&chunk) {
                if handler.line(&line, &mut outcome)? {
                    return Ok(outcome);
                }
            }
            if lines.overlong() {
                return Err(CloudError::MalformedResponse {
                    detail: format!("a line longer than {} bytes", sse::MAX_LINE_BYTES),
                });
            }
        }
    }

    /// Applies one line of the stream; `Ok(true)` at `[DONE]`.
    pub(crate) fn handle_line(
        &self,
        line: &str,
        outcome: &mut CloudOutcome,
        on_token: &mut impl FnMut(&str),
        saw_event: &mut bool,
    ) -> Result<bool, CloudError> {
        match sse::parse_line(line) {
            Event::Ignore => Ok(false),
            Event::Done => Ok(true),
            Event::Garbage => Err(CloudError::MalformedResponse {
                detail: format!("unexpected line {:?}", shorten(&self.redact(line))),
            }),
            Event::Data(data) => {
                *saw_event = true;
                let chunk: sse::Chunk =
                    serde_json::from_str(data).map_err(|e| CloudError::MalformedResponse {
                        detail: format!(
                            "a data line is not a chat-completion chunk ({e}): {:?}",
                            shorten(&self.redact(data))
                        ),
                    })?;
                if let Some(error) = chunk.error {
                    return Err(self.stream_error(error));
                }
                if chunk.model.is_some() {
                    outcome.model = chunk.model;
                }
                for choice in chunk.choices {
                    if let Some(content) = choice.delta.and_then(|d| d.content) {
                        if !content.is_empty() {
                            on_token(&content);
                            outcome.text.push_str(&content);
                        }
                    }
                    if choice.finish_reason.is_some() {
                        outcome.finish_reason = choice.finish_reason;
                    }
                }
                if let Some(usage) = chunk.usage {
                    if outcome.actual_cost.is_none() {
                        outcome.actual_cost = usage
                            .cost
                            .as_ref()
                            .and_then(|raw| parse_dollars(raw.get().trim_matches('"')));
                    }
                    outcome.usage = Some(Usage {
                        prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                        completion_tokens: usage.completion_tokens.unwrap_or(0),
                    });
                }
                Ok(false)
            }
        }
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        match &self.api_key {
            Some(key) => key.redact(text),
            None => text.to_owned(),
        }
    }

    pub(crate) fn send_error(&self, url: &str, error: &reqwest::Error) -> CloudError {
        if error.is_timeout() {
            return CloudError::Timeout {
                phase: TimeoutPhase::Connecting,
                after: self.timeouts.connect,
            };
        }
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            detail = format!("{detail}: {inner}");
            source = inner.source();
        }
        if error.is_connect() {
            CloudError::Connect {
                url: url.to_owned(),
                detail: shorten(&self.redact(&detail)),
            }
        } else {
            // Not connect, not timeout: the server answered with something that is not HTTP.
            CloudError::MalformedResponse {
                detail: shorten(&self.redact(&detail)),
            }
        }
    }

    pub(crate) fn http_error(
        &self,
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
    ) -> CloudError {
        let parsed = serde_json::from_str::<sse::ErrorBody>(body)
            .ok()
            .and_then(|b| b.error);
        let message = match &parsed {
            Some(error) => error.message_text(),
            None => body.to_owned(),
        };
        let error_type = parsed.as_ref().and_then(|e| e.kind.as_deref());
        self.status_error(status, &message, error_type, retry_after)
    }

    /// The error for an HTTP `status` (or its equivalent) with the server's `message` and
    /// error `type`; the message is redacted and cut before it goes into the error.
    pub(crate) fn status_error(
        &self,
        status: u16,
        message: &str,
        error_type: Option<&str>,
        retry_after: Option<Duration>,
    ) -> CloudError {
        let message = shorten(&self.redact(message));
        let message = if message.is_empty() {
            "(no message)".to_owned()
        } else {
            message
        };
        match status {
            401 | 403 => CloudError::Unauthorized { status },
            400 | 429 if is_budget_refusal(error_type, &message) => {
                CloudError::GatewayBudgetExceeded { message }
            }
            429 => CloudError::RateLimited {
                retry_after,
                message,
            },
            500..=599 => CloudError::Upstream { status, message },
            _ => CloudError::Rejected { status, message },
        }
    }

    pub(crate) fn stream_error(&self, error: sse::ErrorObject) -> CloudError {
        let message = shorten(&self.redact(&error.message_text()));
        let code = error.code_number();
        if is_budget_refusal(error.kind.as_deref(), &message) {
            return CloudError::GatewayBudgetExceeded { message };
        }
        match code {
            Some(429) => CloudError::RateLimited {
                retry_after: None,
                message,
            },
            Some(status @ (401 | 403)) => CloudError::Unauthorized { status },
            Some(status @ 400..=599) => CloudError::Upstream { status, message },
            _ => CloudError::Upstream {
                status: 502,
                message,
            },
        }
    }
}

/// LiteLLM's budget refusals: `type: "budget_exceeded"` (recent versions, HTTP 429),
/// `"ExceededBudget: ..."` (end-user budgets) or `"Budget has been exceeded! ..."` (HTTP 400).
fn is_budget_refusal(error_type: Option<&str>, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    error_type.is_some_and(|t| t.eq_ignore_ascii_case("budget_exceeded"))
        || lower.contains("exceededbudget")
        || lower.contains("budget has been exceeded")
        || lower.contains("exceeded budget")
        || lower.contains("over budget")
        || lower.contains("crossed budget")
}

/// `Retry-After` in seconds (the HTTP-date form is not used by LLM providers and is ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// What the shared stream loop ([`OpenAiCompatible::stream_lines`]) asks of a wire protocol.
pub(crate) trait LineHandler {
    /// Applies one line of the body; `Ok(true)` when the answer is complete.
    fn line(&mut self, line: &str, outcome: &mut CloudOutcome) -> Result<bool, CloudError>;
    /// The body ended before the protocol's end marker: `Ok` if the answer is complete anyway.
    fn end_of_body(&self, outcome: &CloudOutcome) -> Result<(), CloudError>;
}

/// Chat-completion chunks (`data: {...}` up to `data: [DONE]`).
struct ChatCompletionLines<'a, F> {
    client: &'a OpenAiCompatible,
    on_token: F,
    saw_event: bool,
}

impl<F: FnMut(&str)> LineHandler for ChatCompletionLines<'_, F> {
    fn line(&mut self, line: &str, outcome: &mut CloudOutcome) -> Result<bool, CloudError> {
        self.client
            .handle_line(line, outcome, &mut self.on_token, &mut self.saw_event)
    }

    fn end_of_body(&self, outcome: &CloudOutcome) -> Result<(), CloudError> {
        ended_early(self.saw_event, outcome, "a finish reason or [DONE]")
    }
}

/// A body that ended before the protocol's end marker: nothing at all is malformed; with a
/// finish (stop) reason the answer is complete (some servers omit the marker); otherwise the
/// connection broke mid-answer. `missing` names what never came, for the message.
pub(crate) fn ended_early(
    saw_event: bool,
    outcome: &CloudOutcome,
    missing: &str,
) -> Result<(), CloudError> {
    if !saw_event {
        return Err(CloudError::MalformedResponse {
            detail: "the response body was empty".into(),
        });
    }
    if outcome.finish_reason.is_some() {
        return Ok(());
    }
    Err(CloudError::Interrupted {
        detail: format!("the stream ended without {missing}"),
        received_chars: outcome.text.chars().count(),
    })
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    max_tokens: u32,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

impl<'a> From<&'a CloudRequest> for WireRequest<'a> {
    fn from(request: &'a CloudRequest) -> WireRequest<'a> {
        WireRequest {
            model: &request.model,
            messages: request
                .messages
                .iter()
                .map(|m| WireMessage {
                    role: m.role.as_str(),
                    content: &m.content,
                })
                .collect(),
            max_tokens: request.max_tokens,
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
        }
    }
}

#[cfg(test)]
mod tests;
