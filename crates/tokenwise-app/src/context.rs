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
///
/// The usual case, everything fits, costs one tokenization. Otherwise the cut is found by
/// binary search over the turn boundaries, so a long conversation costs O(log turns)
/// tokenizations rather than one per dropped turn.
pub async fn fit(
    engine: &dyn ChatEngine,
    history: Vec<PromptMessage>,
    question: PromptMessage,
    prompt_budget: u32,
) -> Result<FittedPrompt, Error> {
    let mut everything = history.clone();
    everything.push(question.clone());
    let total = engine.count_prompt_tokens(&everything).await?;
    if total <= prompt_budget {
        return Ok(FittedPrompt {
            messages: everything,
            dropped_history_messages: 0,
            prompt_tokens: total,
        });
    }
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
    // Where the kept history may start: at the beginning, at any question, or after the end.
    // Cutting only there keeps each question together with its answer.
    let cuts: Vec<usize> = std::iter::once(0)
        .chain((1..history.len()).filter(|&i| history[i].role != Role::Assistant))
        .chain(std::iter::once(history.len()))
        .collect();
    let with_question = |cut: usize| {
        let mut messages = history[cut..].to_vec();
        messages.push(question.clone());
        messages
    };
    // Invariant: the cut at `fits` fits (the last one, the question alone, was checked above);
    // every cut before `low` does not (cut 0, everything, was checked first).
    let (mut low, mut fits, mut fits_tokens) = (1.min(cuts.len() - 1), cuts.len() - 1, alone);
    while low < fits {
        let middle = (low + fits) / 2;
        let tokens = engine
            .count_prompt_tokens(&with_question(cuts[middle]))
            .await?;
        if tokens <= prompt_budget {
            (fits, fits_tokens) = (middle, tokens);
        } else {
            low = middle + 1;
        }
    }
    let cut = cuts[fits];
    Ok(FittedPrompt {
        messages: with_question(cut),
        dropped_history_messages: u32::try_from(cut).unwrap_or(u32::MAX),
        prompt_tokens: fits_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use tokenwise_core::{CancellationToken, GenerationOutcome, GenerationRequest};
    use tokio::sync::mpsc::UnboundedSender;

    /// Counts one token per word plus two per message, like a chat template's markers, and
    /// how often it was asked to.
    #[derive(Default)]
    struct WordCounter {
        calls: std::sync::atomic::AtomicUsize,
    }

    #[async_trait]
    impl ChatEngine for WordCounter {
        fn model_name(&self) -> String {
            "word-counter".into()
        }
        fn context_tokens(&self) -> u32 {
            100
        }
        async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error> {
            self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
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
        let counter = WordCounter::default();
        let fitted = fit(&counter, history, words(Role::User, 3), 100)
            .await
            .unwrap();
        assert_eq!(fitted.messages.len(), 3);
        assert_eq!(fitted.dropped_history_messages, 0);
        assert_eq!(fitted.prompt_tokens, 15);
        let calls = counter.calls.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(calls, 1, "the usual case costs one tokenization");
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
        let fitted = fit(&WordCounter::default(), history, words(Role::User, 3), 20)
            .await
            .unwrap();
        assert_eq!(fitted.dropped_history_messages, 2);
        assert_eq!(fitted.messages.len(), 3);
        assert_eq!(fitted.messages[0].role, Role::User);
        assert_eq!(fitted.prompt_tokens, 15);
    }

    #[tokio::test]
    async fn a_question_too_long_on_its_own_is_refused_with_its_size() {
        let error = fit(&WordCounter::default(), vec![], words(Role::User, 50), 20)
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

    #[tokio::test]
    async fn a_long_conversation_is_cut_with_few_tokenizations() {
        let counter = WordCounter::default();
        let history: Vec<PromptMessage> = (0..200)
            .flat_map(|_| [words(Role::User, 3), words(Role::Assistant, 3)])
            .collect();
        // 5 tokens a message: the question plus the last 3 turns fit in 35.
        let fitted = fit(&counter, history, words(Role::User, 3), 35)
            .await
            .unwrap();
        assert_eq!(fitted.messages.len(), 7);
        assert_eq!(fitted.dropped_history_messages, 394);
        assert_eq!(fitted.prompt_tokens, 35);
        let calls = counter.calls.load(std::sync::atomic::Ordering::SeqCst);
        assert!(calls <= 10, "{calls} tokenizations for 400 messages");
    }

    #[tokio::test]
    async fn a_history_starting_with_an_answer_is_cut_at_a_question() {
        let history = vec![
            words(Role::Assistant, 10), // 12 tokens
            words(Role::User, 3),       // 5
            words(Role::Assistant, 3),  // 5
        ];
        let fitted = fit(&WordCounter::default(), history, words(Role::User, 3), 14)
            .await
            .unwrap();
        assert_eq!(fitted.dropped_history_messages, 3);
        assert_eq!(fitted.messages.len(), 1);
    }

    #[test]
    fn answer_budget_is_a_quarter_capped() {
        assert_eq!(answer_budget(8192), 1024);
        assert_eq!(answer_budget(2048), 512);
        assert_eq!(answer_budget(8), 16);
    }
}
