//! Counting a cloud prompt's tokens before it is sent, for the cost preview.
//!
//! OpenAI models (by the model id, also behind a gateway prefix such as `openai/gpt-4o`) are
//! counted exactly with their own BPE (`tiktoken-rs`: `o200k_base` for gpt-4o and later,
//! `cl100k_base` for gpt-4 and gpt-3.5), compiled into the binary, so this works offline. The
//! chat framing follows OpenAI's cookbook: 3 tokens per message plus its role and content,
//! and 3 for the reply's priming.
//!
//! Every other model (Anthropic's tokenizer is not published) is **estimated**: 1 token per
//! [`ESTIMATE_CHARS_PER_TOKEN`] characters plus 4 per message. English averages about 4
//! characters a token, so the estimate runs high on purpose: the preview's cost is then an
//! upper-side figure, and the settled cost comes from the provider's usage anyway.

use tiktoken_rs::tokenizer::{get_tokenizer, Tokenizer};
use tokenwise_core::{PromptMessage, ProviderApi, TokenCount};

/// Characters per token in the estimate for models without an offline tokenizer.
pub const ESTIMATE_CHARS_PER_TOKEN: usize = 3;

/// Framing tokens per message in the estimate.
const ESTIMATE_TOKENS_PER_MESSAGE: usize = 4;

/// The prompt's size for `model` at a provider speaking `api`.
pub fn count_prompt_tokens(
    api: ProviderApi,
    model: &str,
    messages: &[PromptMessage],
) -> TokenCount {
    if api == ProviderApi::OpenAi {
        if let Some((tokenizer, name)) = openai_tokenizer(model) {
            let bpe =
                tiktoken_rs::bpe_for_tokenizer(tokenizer).expect("chat tokenizers are compiled in");
            let mut tokens: usize = 3;
            for message in messages {
                tokens += 3
                    + bpe.count_with_special_tokens(message.role.as_str())
                    + bpe.count_with_special_tokens(&message.content);
            }
            return TokenCount {
                tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
                exact: true,
                method: format!("{name} ({model})"),
            };
        }
    }
    estimate(messages)
}

/// Tokens of a piece of text (an answer) for `model`: exact for OpenAI models, else
/// [`ESTIMATE_CHARS_PER_TOKEN`] characters a token. Empty text is 0 tokens.
pub fn count_text_tokens(api: ProviderApi, model: &str, text: &str) -> u32 {
    if text.is_empty() {
        return 0;
    }
    let tokens = match (api, openai_tokenizer(model)) {
        (ProviderApi::OpenAi, Some((tokenizer, _))) => tiktoken_rs::bpe_for_tokenizer(tokenizer)
            .expect("chat tokenizers are compiled in")
            .count_with_special_tokens(text),
        _ => text.chars().count().div_ceil(ESTIMATE_CHARS_PER_TOKEN),
    };
    u32::try_from(tokens).unwrap_or(u32::MAX)
}

/// The documented estimate (see the module docs).
pub fn estimate(messages: &[PromptMessage]) -> TokenCount {
    let tokens: usize = messages
        .iter()
        .map(|m| {
            m.content.chars().count().div_ceil(ESTIMATE_CHARS_PER_TOKEN)
                + ESTIMATE_TOKENS_PER_MESSAGE
        })
        .sum();
    TokenCount {
        tokens: u32::try_from(tokens).unwrap_or(u32::MAX),
        exact: false,
        method: format!("estimate: 1 token per {ESTIMATE_CHARS_PER_TOKEN} characters"),
    }
}

/// The chat tokenizer of an OpenAI model id, looking past a `provider/` prefix.
fn openai_tokenizer(model: &str) -> Option<(Tokenizer, &'static str)> {
    let bare = model.rsplit('/').next().unwrap_or(model);
    match get_tokenizer(bare)? {
        Tokenizer::O200kBase => Some((Tokenizer::O200kBase, "o200k_base")),
        Tokenizer::O200kHarmony => Some((Tokenizer::O200kHarmony, "o200k_harmony")),
        Tokenizer::Cl100kBase => Some((Tokenizer::Cl100kBase, "cl100k_base")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_core::Role;

    #[test]
    fn gpt_4o_is_counted_exactly_with_chat_framing() {
        let messages = [PromptMessage::new(Role::User, "Hello, world!")];
        let count = count_prompt_tokens(ProviderApi::OpenAi, "gpt-4o", &messages);
        // o200k_base: "Hello, world!" = 4 tokens, "user" = 1; + 3 framing + 3 priming.
        assert_eq!(count.tokens, 11);
        assert!(count.exact);
        assert_eq!(count.method, "o200k_base (gpt-4o)");
        let prefixed = count_prompt_tokens(ProviderApi::OpenAi, "openai/gpt-4o", &messages);
        assert_eq!(prefixed.tokens, 11);
    }

    #[test]
    fn answer_text_is_counted_without_framing() {
        assert_eq!(count_text_tokens(ProviderApi::OpenAi, "gpt-4o", ""), 0);
        assert_eq!(
            count_text_tokens(ProviderApi::OpenAi, "gpt-4o", "Hello, world!"),
            4
        );
        assert_eq!(
            count_text_tokens(ProviderApi::Anthropic, "claude", "abcdefg"),
            3
        );
    }

    #[test]
    fn unknown_and_anthropic_models_are_estimated_high() {
        let messages = [PromptMessage::new(Role::User, "x".repeat(300))];
        for (api, model) in [
            (ProviderApi::Anthropic, "claude-sonnet-4"),
            (ProviderApi::OpenAi, "llama-3-70b"),
        ] {
            let count = count_prompt_tokens(api, model, &messages);
            assert!(!count.exact);
            assert_eq!(count.tokens, 104);
            assert!(count.method.starts_with("estimate"));
        }
    }
}
