//! Where the engine may write. mistral.rs resolves every model through a Hugging Face cache
//! (even a local GGUF with no token), and that cache defaults to `~/.cache/huggingface/hub`,
//! which it creates. Tokenwise writes only in its own folders, so the cache is pointed there.

use std::path::Path;

/// Points the engine's Hugging Face cache at `dir` (`HF_HOME`), unless the person set
/// `HF_HOME` themselves. Call at the very start of `main`, before any thread exists: it sets a
/// process environment variable.
pub fn confine_engine_cache(dir: &Path) {
    if std::env::var_os("HF_HOME").is_none() {
        std::env::set_var("HF_HOME", dir);
    }
}
