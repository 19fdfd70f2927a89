//! Memory of a long-running engine, on the real model: answering many different prompts must
//! not keep the KV cache of each one (mistral.rs 0.8.1 never evicted its prefix caches on a
//! CPU-only machine; patched in `vendor/mistralrs-core`, see vendor/README.md).
//!
//! Its own test binary, so no other test's allocations move this process's memory.

use std::path::PathBuf;

use tokenwise_core::{CancellationToken, ChatEngine, GenerationRequest, PromptMessage, Role};
use tokenwise_local::{EngineSettings, LocalEngine, DEFAULT_MODEL};

fn models_dir() -> PathBuf {
    std::env::var_os("TOKENWISE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// Resident memory of this process now, in MiB (Linux).
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib / 1024.0
}

/// A ~700-token text that shares nothing with the others but the chat template.
fn distinct_notes(index: usize) -> String {
    let mut text = format!("Meeting {index} notes. ");
    for line in 0..22 {
        text.push_str(&format!(
            "Item {line} of meeting {index}: the team in office {} reviewed invoice {} and \
             agreed to check it again next week. ",
            index * 7 + line,
            index * 1000 + line * 13
        ));
    }
    text.push_str("Summarize these notes.");
    text
}

async fn answer(engine: &LocalEngine, text: String) -> u32 {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = engine
        .generate(
            GenerationRequest {
                messages: vec![PromptMessage::new(Role::User, text)],
                max_new_tokens: 1,
                greedy: true,
            },
            tx,
            CancellationToken::new(),
        )
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    outcome.stats.tokens_in
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_many_prompts_keeps_only_a_bounded_number_of_their_caches() {
    let copies = tempfile::tempdir().unwrap();
    let settings = EngineSettings {
        prefix_cache_sequences: Some(2),
        ..EngineSettings::with_fast_weights_in(copies.path())
    };
    let engine = LocalEngine::load(&models_dir(), &DEFAULT_MODEL, settings)
        .await
        .unwrap_or_else(|error| panic!("{error}"));

    // Warm up with the same shape of prompt: buffers of this size now exist.
    let first_tokens = answer(&engine, distinct_notes(0)).await;
    assert!(
        (500..1024).contains(&first_tokens),
        "the test prompt should be ~700 tokens (one 1,024-token cache block), was {first_tokens}"
    );
    let warm = resident_mib();

    // Each of these leaves a KV cache of ~47 MB (30 layers × K and V × 1,024 positions × 3
    // heads × 64 × 4 bytes). Kept forever, seven of them add ~330 MB; the engine may keep 2.
    for index in 1..=7 {
        answer(&engine, distinct_notes(index)).await;
    }
    let grown = resident_mib() - warm;
    println!("resident memory after the warm-up: {warm:.0} MiB; grown by {grown:.0} MiB");
    assert!(
        grown < 160.0,
        "resident memory grew by {grown:.0} MiB over 7 prompts: the engine keeps the KV cache of \
         every prompt it answered"
    );
}
