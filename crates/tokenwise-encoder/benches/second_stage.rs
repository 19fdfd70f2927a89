//! Criterion benchmark of the second stage (encoder + head) and of the whole two-stage
//! classifier on one thread, at 100, 500 and 4,000 characters. Percentiles (p50/p99), load
//! time and memory: the `encoder-latency` binary.
//!
//! Needs `models/all-MiniLM-L6-v2/` (`scripts/fetch-model.sh`); says so and exits otherwise.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion};
use tokenwise_classifier::sample_prompts::prompt_of_length;
use tokenwise_classifier::Classifier;
use tokenwise_encoder::{SecondStage, TwoStage};

fn main() {
    // One core, as the latency targets are stated (candle reads this before its first matmul).
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2");
    let second = match SecondStage::load(&dir) {
        Ok(second) => second,
        Err(error) => {
            eprintln!("second_stage bench skipped: {error}");
            return;
        }
    };
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("second_stage");
    for length in [100, 500, 4000] {
        let prompt = prompt_of_length(length);
        group.bench_with_input(BenchmarkId::from_parameter(length), &prompt, |b, prompt| {
            b.iter(|| second.probabilities(black_box(prompt)).unwrap())
        });
    }
    group.finish();
    let two = TwoStage::new(Classifier::embedded().unwrap(), Ok(second));
    let mut group = criterion.benchmark_group("two_stage_classify");
    for length in [100, 500, 4000] {
        let prompt = prompt_of_length(length);
        group.bench_with_input(BenchmarkId::from_parameter(length), &prompt, |b, prompt| {
            b.iter(|| two.classify(black_box(prompt)))
        });
    }
    group.finish();
    criterion.final_summary();
}
