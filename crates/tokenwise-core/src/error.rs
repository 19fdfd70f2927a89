//! The one error type of the core vocabulary, shared by engines and the facade's contract.

/// Why a prompt could not be answered. Every message says what happened and what to do.
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
}

impl Error {
    /// A stable machine-readable code for the IPC boundary and `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            Error::EmptyPrompt => "empty_prompt",
            Error::PromptTooLong { .. } => "prompt_too_long",
            Error::PromptTooLarge { .. } => "prompt_too_large",
            Error::EngineBusy => "engine_busy",
            Error::EngineUnavailable(_) => "engine_unavailable",
            Error::Generation(_) => "generation_failed",
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
}
