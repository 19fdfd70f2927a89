//! Server-sent events as OpenAI-compatible endpoints send them, and the JSON inside.

use serde::Deserialize;
use serde_json::Value;

/// Longest line accepted before the stream is declared malformed (a garbage server must not
/// make the client buffer without bound).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Splits a byte stream into lines (`\n` or `\r\n`), across chunk boundaries.
#[derive(Default)]
pub(crate) struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// The complete lines in `bytes` (plus what was pending).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(at) = self.pending.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.pending.drain(..=at).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        lines
    }

    /// The pending partial line grew beyond [`MAX_LINE_BYTES`].
    pub(crate) fn overlong(&self) -> bool {
        self.pending.len() > MAX_LINE_BYTES
    }

    /// The last line when the body ends without a newline.
    pub(crate) fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        let text = String::from_utf8_lossy(&rest);
        let text = text.trim_end_matches('\r');
        (!text.trim().is_empty()).then(|| text.to_owned())
    }
}

/// What one line means.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// Blank (event separator), a `:` comment, or an SSE field we do not use.
    Ignore,
    /// `data: [DONE]`.
    Done,
    /// The payload of a `data:` line.
    Data(&'a str),
    /// Not SSE at all.
    Garbage,
}

pub(crate) fn parse_line(line: &str) -> Event<'_> {
    if line.trim().is_empty() || line.starts_with(':') {
        return Event::Ignore;
    }
    if let Some(data) = line.strip_prefix("data:") {
        let data = data.strip_prefix(' ').unwrap_or(data).trim_end();
        if data == "[DONE]" {
            return Event::Done;
        }
        if data.is_empty() {
            return Event::Ignore;
        }
        return Event::Data(data);
    }
    for field in ["event:", "id:", "retry:"] {
        if line.starts_with(field) {
            return Event::Ignore;
        }
    }
    Event::Garbage
}

/// One `chat.completion.chunk` (only the fields used), or an error object in its place.
#[derive(Debug, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
    /// LiteLLM's cost of the request in dollars, a JSON number kept as written (no float).
    #[serde(default)]
    pub cost: Option<Box<serde_json::value::RawValue>>,
}

/// `{"error": {...}}`, the body of an OpenAI-style error response.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub error: Option<ErrorObject>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorObject {
    #[serde(default)]
    pub message: Value,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Value,
}

impl ErrorObject {
    pub(crate) fn message_text(&self) -> String {
        match &self.message {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// `code` as a number, whether sent as `429` or `"429"`.
    pub(crate) fn code_number(&self) -> Option<u16> {
        match &self.code {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}
