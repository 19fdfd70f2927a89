//! Fitting a conversation into the model's context window.
//!
//! The newest question always goes in whole; older turns are dropped from the front, a
//! question together with its answer, until the prompt leaves room for the answer. A question
//! that does not fit on its own is refused with its size and the limit.

use tokenwise_core::{ChatEngine, Error, PromptMessage, Role};

/// Answer length reserved in the context window: a quarter of it, at most 1,024 tokens.
pub fn answer_budget(context_tokens: u32) -> u32 {
    (context_tokens / 4).clamp(16, 1024)
}

/// The prompt to send and how many history messages were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FittedPrompt {
    pub messages: Vec<PromptMessage>,
    pub dropped_history_messages: u32,
    pub prompt_tokens: u32,
}

/// Builds `history + question`, dropping the oldest turns until it fits `prompt_budget` tokens.
pub async fn fit(
    engine: &dyn ChatEngine,
    history: Vec<PromptMessage>,
    question: PromptMessage,
    prompt_budget: u32,
) -> Result<FittedPrompt, Error> {
    let alone = engine
        .count_prompt_tokens(std::slice::from_ref(&question))
        .await?;
    if alone > prompt_budget {
        return Err(Error::PromptTooLong {
            model: engine.model_name(),
            prompt_tokens: alone,
            limit_tokens: prompt_budget,
        });
    }
    let mut history = history;
    let mut dropped = 0u32;
    loop {
        let mut messages = history.clone();
        messages.push(question.clone());
        let tokens = engine.count_prompt_tokens(&messages).await?;
        if tokens <= prompt_budget || history.is_empty() {
            return Ok(FittedPrompt {
                messages,
                dropped_history_messages: dropped,
                prompt_tokens: tokens,
            });
        }
        // Drop the oldest message, and the answer that followed it, so turns stay whole.
        history.remove(0);
        dropped += 1;
        while history.first().is_some_and(|m| m.role == Role::Assistant) {
            history.remove(0);
            dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use tokenwise_core::{CancellationToken, GenerationOutcome, GenerationRequest};
    use tokio::sync::mpsc::UnboundedSender;

    /// Counts one token per word plus two per message, like a chat template's markers.
    struct WordCounter;

    #[async_trait]
    impl ChatEngine for WordCounter {
        fn model_name(&self) -> String {
            "word-counter".into()
        }
        fn context_tokens(&self) -> u32 {
            100
        }
        async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error> {
            Ok(messages
                .iter()
                .map(|m| m.content.split_whitespace().count() as u32 + 2)
                .sum())
        }
        async fn generate(
            &self,
            _: GenerationRequest,
            _: UnboundedSender<String>,
            _: CancellationToken,
        ) -> Result<GenerationOutcome, Error> {
            unreachable!("fitting never generates")
        }
    }

    fn words(role: Role, n: usize) -> PromptMessage {
        PromptMessage::new(role, vec!["w"; n].join(" "))
    }

    #[tokio::test]
    async fn everything_fits_nothing_dropped() {
        let history = vec![words(Role::User, 3), words(Role::Assistant, 3)];
        let fitted = fit(&WordCounter, history, words(Role::User, 3), 100)
            .await
            .unwrap();
        assert_eq!(fitted.messages.len(), 3);
        assert_eq!(fitted.dropped_history_messages, 0);
        assert_eq!(fitted.prompt_tokens, 15);
    }

    #[tokio::test]
    async fn oldest_turns_go_first_and_whole() {
        let history = vec![
            words(Role::User, 10),      // 12 tokens
            words(Role::Assistant, 10), // 12
            words(Role::User, 3),       // 5
            words(Role::Assistant, 3),  // 5
        ];
        // question 5 tokens; budget 20 keeps only the last turn (5 + 5 + 5 = 15).
        let fitted = fit(&WordCounter, history, words(Role::User, 3), 20)
            .await
            .unwrap();
        assert_eq!(fitted.dropped_history_messages, 2);
        assert_eq!(fitted.messages.len(), 3);
        assert_eq!(fitted.messages[0].role, Role::User);
        assert_eq!(fitted.prompt_tokens, 15);
    }

    #[tokio::test]
    async fn a_question_too_long_on_its_own_is_refused_with_its_size() {
        let error = fit(&WordCounter, vec![], words(Role::User, 50), 20)
            .await
            .unwrap_err();
        assert_eq!(
            error,
            Error::PromptTooLong {
                model: "word-counter".into(),
                prompt_tokens: 52,
                limit_tokens: 20
            }
        );
    }

    #[test]
    fn answer_budget_is_a_quarter_capped() {
        assert_eq!(answer_budget(8192), 1024);
        assert_eq!(answer_budget(2048), 512);
        assert_eq!(answer_budget(8), 16);
    }
}
