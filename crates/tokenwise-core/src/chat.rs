//! Conversations and the messages in them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::difficulty::Difficulty;
use crate::generation::GenerationStats;
use crate::money::Money;
use crate::router::RouteDecision;
use crate::tiers::Placement;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    /// The lowercase name stored in the database and used by chat templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }

    /// Parses the stored name back; `None` for anything else.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            _ => None,
        }
    }
}

/// How an assistant message ended. User messages are always `Complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum MessageStatus {
    /// The model finished on its own (end of sequence or the answer-length limit).
    Complete,
    /// The user pressed Stop; the text is what had arrived by then.
    Stopped,
    /// Generation failed part-way; the text is what had arrived by then.
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Stopped => "stopped",
            MessageStatus::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<MessageStatus> {
        match name {
            "complete" => Some(MessageStatus::Complete),
            "stopped" => Some(MessageStatus::Stopped),
            "failed" => Some(MessageStatus::Failed),
            _ => None,
        }
    }
}

/// One message of a conversation, as stored and as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatMessage {
    pub id: String,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    /// Figures of the generation that produced an assistant message; `None` for user messages.
    pub stats: Option<GenerationStats>,
    /// Where the router sent the question this message answers; `None` for user messages and
    /// for answers saved before routing existed.
    #[serde(default)]
    pub route: Option<RouteBadge>,
    /// Milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub created_at_ms: i64,
}

/// The routing badge on an answer: which tier and model answered, and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RouteBadge {
    /// The catalog entry, e.g. "local" or "frontier".
    pub tier_id: String,
    pub difficulty: Difficulty,
    pub kind: Placement,
    /// The model's name for people.
    pub model_name: String,
    /// The router's sentence, e.g. "simple · short factoid question · 0.94 → local
    /// SmolLM2-135M-Instruct (free)".
    pub explanation: String,
    /// Cloud answers: the cost estimate the user confirmed (`None` for local answers).
    pub estimated_cost: Option<Money>,
    /// Cloud answers: what the answer actually cost, once settled (`None` for local answers,
    /// and while streaming).
    pub actual_cost: Option<Money>,
}

impl From<&RouteDecision> for RouteBadge {
    fn from(decision: &RouteDecision) -> Self {
        Self {
            tier_id: decision.tier_id.clone(),
            difficulty: decision.difficulty,
            kind: decision.kind,
            model_name: decision.model_name.clone(),
            explanation: decision.explanation.clone(),
            estimated_cost: (decision.kind == Placement::Cloud).then_some(decision.estimated_cost),
            actual_cost: None,
        }
    }
}

/// A conversation as listed in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    /// Milliseconds since the Unix epoch of the last message or rename.
    #[ts(type = "number")]
    pub updated_at_ms: i64,
    pub message_count: u32,
}

/// A title for a new conversation: the first line of its first prompt, cut at a word boundary.
pub fn title_from_prompt(prompt: &str) -> String {
    const MAX_CHARS: usize = 60;
    let first_line = prompt
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("New chat");
    if first_line.chars().count() <= MAX_CHARS {
        return first_line.to_string();
    }
    let cut: String = first_line.chars().take(MAX_CHARS).collect();
    let at_word = match cut.rfind(' ') {
        Some(space) if space > MAX_CHARS / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_and_status_round_trip_through_their_stored_names() {
        for role in [Role::System, Role::User, Role::Assistant] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for status in [
            MessageStatus::Complete,
            MessageStatus::Stopped,
            MessageStatus::Failed,
        ] {
            assert_eq!(MessageStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Role::parse("robot"), None);
    }

    #[test]
    fn short_prompt_is_its_own_title() {
        assert_eq!(
            title_from_prompt("What is the capital of France?"),
            "What is the capital of France?"
        );
    }

    #[test]
    fn title_skips_blank_lines_and_cuts_long_lines_at_a_word() {
        let prompt = "\n\n  Please summarise the following quarterly report for the board of directors in plain words\nmore";
        let title = title_from_prompt(prompt);
        assert!(title.ends_with('…'), "{title}");
        assert!(title.chars().count() <= 61, "{title}");
        assert!(title.starts_with("Please summarise the following"));
        assert!(!title.contains("  "));
    }

    #[test]
    fn title_of_whitespace_only_prompt_is_a_placeholder() {
        assert_eq!(title_from_prompt("  \n "), "New chat");
    }

    #[test]
    fn title_cut_respects_multibyte_characters() {
        let prompt = "é".repeat(200);
        let title = title_from_prompt(&prompt);
        assert_eq!(title.chars().count(), 61);
    }
}
