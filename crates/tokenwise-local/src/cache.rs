//! Process settings the engine reads at start: where it may write, and how many threads it runs.
//!
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

/// Runs the engine's thread pool with one thread per physical core
/// ([`tokenwise_models::hardware::engine_threads`]) by setting `RAYON_NUM_THREADS`, unless the
/// person set it. Call at the very start of `main`, before any thread exists. Returns the count.
pub fn use_physical_cores() -> usize {
    let threads = tokenwise_models::hardware::engine_threads_here();
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    }
    threads
}
