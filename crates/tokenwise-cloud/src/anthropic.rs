//! Anthropic's Messages API, streamed: `POST {base_url}/messages` with `stream: true`.
//!
//! The stream is server-sent events whose `data:` lines carry a `type`:
//! `message_start` (the model, and `usage.input_tokens`), `content_block_delta` (a
//! `text_delta` piece of the answer), `message_delta` (`stop_reason`, and the cumulative
//! `usage.output_tokens`), `message_stop` (the end), `ping`, and `error` (an error object in
//! the middle of a stream, e.g. `overloaded_error`). Keys go in `x-api-key`, the API version in
//! `anthropic-version`. System messages are sent as the top-level `system` text.
//!
//! Timeouts, cancellation, HTTP errors and key redaction are the same as for the
//! OpenAI-compatible client (both run on [`OpenAiCompatible::stream_lines`]); a LiteLLM proxy's
//! `/v1/messages` endpoint speaks this protocol too, and its cost header is read the same way.

use serde::{Deserialize, Serialize};
use tokenwise_core::{CancellationToken, Role};

use crate::error::shorten;
use crate::sse::{self, Event};
use crate::{
    CloudError, CloudOutcome, CloudRequest, LineHandler, OpenAiCompatible, Secret, Timeouts,
};

/// The API version sent in `anthropic-version`.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A client for one Anthropic Messages endpoint (`https://api.anthropic.com/v1`, or a gateway's
/// `/v1` that speaks the same protocol).
#[derive(Debug, Clone)]
pub struct AnthropicMessages {
    endpoint: OpenAiCompatible,
}

impl AnthropicMessages {
    /// A client for `base_url`, the API root that `/messages` hangs off.
    pub fn new(base_url: &str, api_key: Option<Secret>) -> Result<AnthropicMessages, CloudError> {
        AnthropicMessages::with_timeouts(base_url, api_key, Timeouts::default())
    }

    pub fn with_timeouts(
        base_url: &str,
        api_key: Option<Secret>,
        timeouts: Timeouts,
    ) -> Result<AnthropicMessages, CloudError> {
        Ok(AnthropicMessages {
            endpoint: OpenAiCompatible::with_timeouts(base_url, api_key, timeouts)?,
        })
    }

    /// The endpoint's base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.endpoint.base_url()
    }

    /// Streams one answer: `on_token` gets each piece as it arrives; see the module docs.
    pub async fn stream_chat(
        &self,
        request: &CloudRequest,
        on_token: impl FnMut(&str),
        cancel: CancellationToken,
    ) -> Result<CloudOutcome, CloudError> {
        let url = format!("{}/messages", self.endpoint.base_url());
        let mut builder = self
            .endpoint
            .http
            .post(&url)
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(&WireRequest::from(request));
        if let Some(key) = &self.endpoint.api_key {
            builder = builder.header("x-api-key", key.expose());
        }
        let mut handler = MessageLines {
            endpoint: &self.endpoint,
            on_token,
            saw_event: false,
        };
        self.endpoint
            .stream_lines(&url, builder, cancel, &mut handler)
            .await
    }
}

/// The events of a Messages stream.
struct MessageLines<'a, F> {
    endpoint: &'a OpenAiCompatible,
    on_token: F,
    saw_event: bool,
}

impl<F: FnMut(&str)> LineHandler for MessageLines<'_, F> {
    fn line(&mut self, line: &str, outcome: &mut CloudOutcome) -> Result<bool, CloudError> {
        let data = match sse::parse_line(line) {
            Event::Ignore => return Ok(false),
            Event::Done => return Ok(true),
            Event::Garbage => {
                return Err(CloudError::MalformedResponse {
                    detail: format!("unexpected line {:?}", shorten(&self.endpoint.redact(line))),
                })
            }
            Event::Data(data) => data,
        };
        self.saw_event = true;
        let event: WireEvent =
            serde_json::from_str(data).map_err(|e| CloudError::MalformedResponse {
                detail: format!(
                    "a data line is not a Messages stream event ({e}): {:?}",
                    shorten(&self.endpoint.redact(data))
                ),
            })?;
        match event.kind.as_str() {
            "message_start" => {
                if let Some(message) = event.message {
                    if message.model.is_some() {
                        outcome.model = message.model;
                    }
                    if let Some(usage) = message.usage {
                        apply_usage(outcome, &usage);
                    }
                }
            }
            "content_block_delta" => {
                if let Some(text) = event.delta.and_then(|d| d.text) {
                    if !text.is_empty() {
                        (self.on_token)(&text);
                        outcome.text.push_str(&text);
                    }
                }
            }
            "message_delta" => {
                if let Some(stop_reason) = event.delta.and_then(|d| d.stop_reason) {
                    outcome.finish_reason = Some(stop_reason);
                }
                if let Some(usage) = event.usage {
                    apply_usage(outcome, &usage);
                }
            }
            "message_stop" => return Ok(true),
            "error" => {
                let error = event.error.unwrap_or(sse::ErrorObject {
                    message: serde_json::Value::Null,
                    kind: None,
                    code: serde_json::Value::Null,
                });
                return Err(stream_error(self.endpoint, error));
            }
            // ping, content_block_start, content_block_stop, and types added later.
            _ => {}
        }
        Ok(false)
    }

    fn end_of_body(&self, outcome: &CloudOutcome) -> Result<(), CloudError> {
        crate::ended_early(self.saw_event, outcome, "a stop reason or message_stop")
    }
}

/// Usage fields arrive in pieces (input at the start, output at the end); later values win.
fn apply_usage(outcome: &mut CloudOutcome, usage: &WireUsage) {
    let mut merged = outcome.usage.unwrap_or_default();
    if let Some(input) = usage.input_tokens {
        let cached = usage.cache_creation_input_tokens.unwrap_or(0)
            + usage.cache_read_input_tokens.unwrap_or(0);
        if input + cached > 0 || merged.prompt_tokens == 0 {
            merged.prompt_tokens = input + cached;
        }
    }
    if let Some(output) = usage.output_tokens {
        merged.completion_tokens = output;
    }
    outcome.usage = Some(merged);
}

/// An `error` event: Anthropic's error types mapped like HTTP statuses.
fn stream_error(endpoint: &OpenAiCompatible, error: sse::ErrorObject) -> CloudError {
    let status = match error.kind.as_deref() {
        Some("rate_limit_error") => 429,
        Some("authentication_error") => 401,
        Some("permission_error") => 403,
        Some("invalid_request_error") => 400,
        Some("not_found_error") => 404,
        Some("request_too_large") => 413,
        Some("overloaded_error") => 529,
        _ => 500,
    };
    match endpoint.status_error(status, &error.message_text(), error.kind.as_deref(), None) {
        // A 4xx inside a 200 stream is still the upstream failing mid-answer.
        CloudError::Rejected { status, message } => CloudError::Upstream { status, message },
        other => other,
    }
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<WireMessage<'a>>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

impl<'a> From<&'a CloudRequest> for WireRequest<'a> {
    fn from(request: &'a CloudRequest) -> WireRequest<'a> {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        WireRequest {
            model: &request.model,
            max_tokens: request.max_tokens,
            stream: true,
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            messages: request
                .messages
                .iter()
                .filter(|m| m.role != Role::System)
                .map(|m| WireMessage {
                    role: m.role.as_str(),
                    content: &m.content,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    message: Option<WireMessageStart>,
    #[serde(default)]
    delta: Option<WireDelta>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<sse::ErrorObject>,
}

#[derive(Deserialize)]
struct WireMessageStart {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireDelta {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Usage;
    use tokenwise_core::PromptMessage;

    const KEY: &str = "sk-ant-test-SECRET-42";

    fn client() -> AnthropicMessages {
        AnthropicMessages::new("http://127.0.0.1:9/v1", Some(Secret::new(KEY))).unwrap()
    }

    fn feed(lines: &[&str]) -> (Result<bool, CloudError>, CloudOutcome, Vec<String>) {
        let client = client();
        let mut pieces = Vec::new();
        let mut outcome = CloudOutcome::default();
        let mut handler = MessageLines {
            endpoint: &client.endpoint,
            on_token: |p: &str| pieces.push(p.to_owned()),
            saw_event: false,
        };
        let mut last = Ok(false);
        for line in lines {
            last = handler.line(line, &mut outcome);
            if !matches!(last, Ok(false)) {
                break;
            }
        }
        (last, outcome, pieces)
    }

    #[test]
    fn a_stream_builds_text_usage_and_stop_reason() {
        let (done, outcome, pieces) = feed(&[
            "event: message_start",
            r#"data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":15,"output_tokens":1}}}"#,
            "",
            r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"data: {"type":"ping"}"#,
            r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
            r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"#,
            r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":10}}"#,
            r#"data: {"type":"message_stop"}"#,
        ]);
        assert!(done.unwrap());
        assert_eq!(pieces, ["Hel", "lo"]);
        assert_eq!(outcome.text, "Hello");
        assert_eq!(outcome.model.as_deref(), Some("claude-x"));
        assert_eq!(outcome.finish_reason.as_deref(), Some("end_turn"));
        assert_eq!(
            outcome.usage,
            Some(Usage {
                prompt_tokens: 15,
                completion_tokens: 10
            })
        );
    }

    #[test]
    fn error_events_map_to_errors_without_the_key() {
        let line = format!(
            r#"data: {{"type":"error","error":{{"type":"overloaded_error","message":"Overloaded {KEY}"}}}}"#
        );
        let (result, _, _) = feed(&[&line]);
        let error = result.unwrap_err();
        assert!(
            matches!(error, CloudError::Upstream { status: 529, .. }),
            "{error:?}"
        );
        assert!(!error.to_string().contains(KEY), "{error}");
        let (result, _, _) = feed(&[
            r#"data: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
        ]);
        assert!(matches!(result, Err(CloudError::RateLimited { .. })));
        let (result, _, _) = feed(&["<html>"]);
        assert!(matches!(result, Err(CloudError::MalformedResponse { .. })));
    }

    #[test]
    fn system_messages_go_to_the_top_level() {
        let request = CloudRequest {
            model: "claude-x".into(),
            messages: vec![
                PromptMessage::new(Role::System, "be brief"),
                PromptMessage::new(Role::User, "hi"),
                PromptMessage::new(Role::Assistant, "hello"),
                PromptMessage::new(Role::User, "again"),
            ],
            max_tokens: 64,
        };
        let json = serde_json::to_value(WireRequest::from(&request)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "model": "claude-x",
                "max_tokens": 64,
                "stream": true,
                "system": "be brief",
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello"},
                    {"role": "user", "content": "again"}
                ]
            })
        );
    }
}
