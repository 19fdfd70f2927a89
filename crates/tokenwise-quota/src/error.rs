//! The crate's one error type, [`QuotaError`].
//!
//! Every message names what is wrong and what to do about it. A budget file that does not
//! validate is [`QuotaError::InvalidConfig`], whose message has the shape
//! `budgets.toml, line 12: unknown time zone "Europe/Berln" …`: the file, the line (of the
//! TOML error, or of the offending key or table) and the problem.

use tokenwise_core::ErrorCode;

/// Why a budget configuration, an amount or a time could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    /// The budget file (or a configuration built in code) breaks a rule of
    /// [`crate::config`]. `problem` is a sentence that says what to change.
    #[error("{}", config_message(.file, *.line, .problem))]
    InvalidConfig {
        /// The file (or other source, e.g. "quota server") the configuration came from.
        file: String,
        /// 1-based line of the problem, when known.
        line: Option<u32>,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// The budget file could not be read at all.
    #[error(
        "{file}: the budget file cannot be read ({reason}). Check that it exists and that \
         Tokenwise may read it."
    )]
    Unreadable { file: String, reason: String },

    /// A time zone name that is not in the IANA database Tokenwise carries.
    #[error("{}", unknown_zone_message(.name, .suggestion.as_deref()))]
    UnknownTimeZone {
        name: String,
        /// The closest known name, when one is close.
        suggestion: Option<String>,
    },

    /// A dollar amount written as text (e.g. `"5.00"`) that is not an exact decimal amount.
    #[error("\"{text}\" is not a valid dollar amount: {problem}")]
    InvalidAmount { text: String, problem: String },

    /// An instant outside the range of dates the calendar can compute windows for.
    #[error(
        "The time {at_ms} ms since 1970-01-01 is outside the dates Tokenwise can compute budget \
         windows for. Check the computer's clock."
    )]
    InstantOutOfRange { at_ms: i64 },
}

impl QuotaError {
    /// A stable machine-readable code for the IPC boundary and `--json` output.
    pub fn code(&self) -> ErrorCode {
        match self {
            QuotaError::InvalidConfig { .. } => ErrorCode::InvalidBudgetConfig,
            QuotaError::Unreadable { .. } => ErrorCode::BudgetConfigUnreadable,
            QuotaError::UnknownTimeZone { .. } => ErrorCode::UnknownTimeZone,
            QuotaError::InvalidAmount { .. } => ErrorCode::InvalidAmount,
            QuotaError::InstantOutOfRange { .. } => ErrorCode::InstantOutOfRange,
        }
    }

    /// The 1-based line a configuration error points at, when known.
    pub fn line(&self) -> Option<u32> {
        match self {
            QuotaError::InvalidConfig { line, .. } => *line,
            _ => None,
        }
    }
}

fn config_message(file: &str, line: Option<u32>, problem: &str) -> String {
    match line {
        Some(line) => format!("{file}, line {line}: {problem}"),
        None => format!("{file}: {problem}"),
    }
}

fn unknown_zone_message(name: &str, suggestion: Option<&str>) -> String {
    let mut message = format!("unknown time zone \"{name}\"");
    if let Some(suggestion) = suggestion {
        message.push_str(&format!(" (did you mean \"{suggestion}\"?)"));
    }
    message.push_str(
        "; use an IANA time zone name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"",
    );
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_file_line_and_problem() {
        let error = QuotaError::InvalidConfig {
            file: "budgets.toml".into(),
            line: Some(12),
            problem: "unknown time zone \"Europe/Berln\"".into(),
        };
        assert_eq!(
            error.to_string(),
            "budgets.toml, line 12: unknown time zone \"Europe/Berln\""
        );
        assert_eq!(error.line(), Some(12));
        assert_eq!(error.code(), "invalid_budget_config");
        let without_line = QuotaError::InvalidConfig {
            file: "quota server".into(),
            line: None,
            problem: "no budgets".into(),
        };
        assert_eq!(without_line.to_string(), "quota server: no budgets");
    }

    #[test]
    fn unknown_zone_suggests_a_name() {
        let error = QuotaError::UnknownTimeZone {
            name: "Europe/Berln".into(),
            suggestion: Some("Europe/Berlin".into()),
        };
        let text = error.to_string();
        assert!(text
            .starts_with("unknown time zone \"Europe/Berln\" (did you mean \"Europe/Berlin\"?)"));
        assert_eq!(error.code(), "unknown_time_zone");
    }
}
