//! The patched GGUF llama model (`vendor/mistralrs-core`, `set_prompt_chunk_tokens`) reads a
//! long prompt in chunks, each attending to the KV cache of the chunks before it. The answer
//! must not depend on it: the real model's first-token log-probabilities for a long prompt are
//! the same read whole, in chunks of the default size, in chunks that leave a one-token tail,
//! and one token at a time (the decode path for every position).

use std::path::PathBuf;

use tokenwise_core::{PromptMessage, Role};
use tokenwise_local::{EngineSettings, LocalEngine, DEFAULT_MODEL};

fn models_dir() -> PathBuf {
    std::env::var_os("TOKENWISE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// ~600 tokens of meeting notes to summarize.
fn long_prompt() -> String {
    let notes = "The support team in Lisbon closed 412 tickets this month, up from 380, while \
                 the average first reply took 3.1 hours instead of 4.0. Cloud hosting rose to \
                 $18,400 because the staging cluster ran all weekend. ";
    format!(
        "Summarize these notes in two sentences.\n\n{}",
        notes.repeat(12)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_prompt_read_in_chunks_gives_the_same_first_token_probabilities() {
    let copies = tempfile::tempdir().unwrap();
    // No prefix cache: each reading must compute the whole prompt again.
    let settings = EngineSettings {
        prefix_cache_sequences: None,
        ..EngineSettings::with_fast_weights_in(copies.path())
    };
    let engine = LocalEngine::load(&models_dir(), &DEFAULT_MODEL, settings)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let messages = [PromptMessage::new(Role::User, long_prompt())];
    let read_with = |chunk: usize| {
        let engine = &engine;
        let messages = &messages;
        async move {
            mistralrs_core::set_prompt_chunk_tokens(chunk);
            engine
                .first_token_candidates(messages, 5)
                .await
                .unwrap()
                .iter()
                .map(|c| (c.token_id, c.logprob))
                .collect::<Vec<_>>()
        }
    };

    let whole = read_with(0).await;
    // (chunk size, largest log-probability difference allowed). Chunks use the same kernels
    // on the same rows and key tiles: identical (measured 0.0). One token at a time takes the
    // decode kernel, which sums each score tile in another order: 0.15 measured, within the
    // 0.3 that two exact summation orders differ by (see real_model.rs).
    for (chunk, tolerance) in [(256, 1e-6), (97, 1e-6), (1, 0.3)] {
        let chunked = read_with(chunk).await;
        assert_eq!(
            chunked[0].0, whole[0].0,
            "chunks of {chunk}: most likely first token {chunked:?}, read whole {whole:?}"
        );
        let worst = whole
            .iter()
            .filter_map(|(token, logprob)| {
                let (_, now) = chunked.iter().find(|(t, _)| t == token)?;
                Some((now - logprob).abs())
            })
            .fold(0f32, f32::max);
        println!("chunks of {chunk}: largest log-probability difference {worst:.6}");
        assert!(
            worst <= tolerance,
            "chunks of {chunk}: log-probabilities moved by {worst} (tolerance {tolerance})"
        );
    }
    mistralrs_core::set_prompt_chunk_tokens(256);
}
