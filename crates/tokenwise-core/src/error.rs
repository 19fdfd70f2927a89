//! The one error type of the core vocabulary, shared by engines and the facade's contract.
//!
//! The crate keeps the workspace rule "one error type per crate": a tier catalog that does not
//! load is one more variant here ([`Error::InvalidCatalog`]) rather than a second error type.
//! Both kinds of failure reach a person through the same `{code, message}` shape at the IPC
//! boundary and in `--json` output, so one enum with one [`Error::code`] keeps that uniform.

use crate::ErrorCode;

/// Why a prompt could not be answered, or why a core configuration (the tier catalog) could
/// not be used. Every message says what happened and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("The prompt is empty: type a question first.")]
    EmptyPrompt,

    #[error(
        "The prompt is {prompt_tokens} tokens, but {model} reads at most {limit_tokens} tokens \
         (leaving room for the answer). Shorten it or split it into parts."
    )]
    PromptTooLong {
        model: String,
        prompt_tokens: u32,
        limit_tokens: u32,
    },

    #[error(
        "The prompt is {chars} characters; the most Tokenwise accepts is {limit} characters. \
         Shorten it or split it into parts."
    )]
    PromptTooLarge { chars: usize, limit: usize },

    #[error("The local model is still answering another question. Wait for it or press Stop.")]
    EngineBusy,

    #[error("{0}")]
    EngineUnavailable(String),

    #[error("The local model failed while answering: {0}")]
    Generation(String),

    /// A tier catalog (the built-in one or one pushed by policy) is malformed or breaks a
    /// rule of [`crate::tiers`]. Names the file, the line where TOML or the entry gives one,
    /// the entry, and the problem.
    #[error("{}", catalog_message(.file, *.line, .entry.as_deref(), .problem))]
    InvalidCatalog {
        /// The file (or other source, e.g. "built-in") the catalog came from.
        file: String,
        /// 1-based line of the problem, when known.
        line: Option<u32>,
        /// The `id` of the entry at fault, when known.
        entry: Option<String>,
        /// What is wrong, in a sentence.
        problem: String,
    },
}

fn catalog_message(file: &str, line: Option<u32>, entry: Option<&str>, problem: &str) -> String {
    let mut message = format!("The tier catalog {file}");
    if let Some(line) = line {
        message.push_str(&format!(", line {line}"));
    }
    if let Some(entry) = entry {
        message.push_str(&format!(", entry \"{entry}\""));
    }
    let problem = problem.trim_end();
    let stop = if problem.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    message.push_str(&format!(
        " is invalid: {problem}{stop} Fix the file and try again."
    ));
    message
}

impl Error {
    /// A stable machine-readable code for the IPC boundary and `--json` output.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::EmptyPrompt => ErrorCode::EmptyPrompt,
            Error::PromptTooLong { .. } => ErrorCode::PromptTooLong,
            Error::PromptTooLarge { .. } => ErrorCode::PromptTooLarge,
            Error::EngineBusy => ErrorCode::EngineBusy,
            Error::EngineUnavailable(_) => ErrorCode::EngineUnavailable,
            Error::Generation(_) => ErrorCode::GenerationFailed,
            Error::InvalidCatalog { .. } => ErrorCode::InvalidCatalog,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_long_message_names_model_and_limit() {
        let error = Error::PromptTooLong {
            model: "SmolLM2".into(),
            prompt_tokens: 9000,
            limit_tokens: 7680,
        };
        let text = error.to_string();
        assert!(text.contains("9000") && text.contains("7680") && text.contains("SmolLM2"));
        assert_eq!(error.code(), "prompt_too_long");
    }

    #[test]
    fn catalog_message_names_file_line_entry_and_problem() {
        let error = Error::InvalidCatalog {
            file: "tiers.toml".into(),
            line: Some(14),
            entry: Some("mid".into()),
            problem: "the id is used twice.".into(),
        };
        assert_eq!(
            error.to_string(),
            "The tier catalog tiers.toml, line 14, entry \"mid\" is invalid: the id is \
             used twice. Fix the file and try again."
        );
        assert_eq!(error.code(), "invalid_catalog");
        let bare = Error::InvalidCatalog {
            file: "built-in".into(),
            line: None,
            entry: None,
            problem: "it has no entries".into(),
        };
        assert_eq!(
            bare.to_string(),
            "The tier catalog built-in is invalid: it has no entries. Fix the file and try again."
        );
    }
}
