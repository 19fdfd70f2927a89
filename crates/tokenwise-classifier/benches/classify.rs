//! Criterion benchmark of `Classifier::classify` on prompts of 20, 500 and 4,000 characters.
//!
//! `cargo bench -p tokenwise-classifier --bench classify`. For p50/p99 see the
//! `classifier-latency` binary.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use tokenwise_classifier::sample_prompts::prompt_of_length;
use tokenwise_classifier::Classifier;

fn classify(c: &mut Criterion) {
    let classifier = match Classifier::embedded() {
        Ok(classifier) => classifier,
        Err(error) => panic!("embedded weights must load: {error}"),
    };
    let mut group = c.benchmark_group("classify");
    for length in [20, 500, 4000] {
        let prompt = prompt_of_length(length);
        group.bench_with_input(BenchmarkId::from_parameter(length), &prompt, |b, prompt| {
            b.iter(|| classifier.classify(black_box(prompt)))
        });
    }
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
