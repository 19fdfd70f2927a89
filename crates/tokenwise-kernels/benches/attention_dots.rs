//! Attention's scores: 64 keys of one 64-wide head against one query (a tile of the prompt
//! kernel, seen from one key against four queries), as 64 calls of `dot` and as 16 of `dot4`.
//! `cargo bench -p tokenwise-kernels`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tokenwise_kernels::{dot, dot4};

const HEAD: usize = 64;
const KEYS: usize = 64;

fn values(count: usize, seed: u32) -> Vec<f32> {
    (0..count)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / u32::MAX as f32 - 0.5)
        .collect()
}

fn scores(c: &mut Criterion) {
    let query = values(HEAD, 1);
    let keys = values(HEAD * KEYS, 2);
    let rows: Vec<&[f32]> = keys.chunks_exact(HEAD).collect();
    let mut group = c.benchmark_group("64 keys x 64-wide head");
    group.bench_function("dot, one key at a time", |b| {
        b.iter(|| {
            let mut scores = [0f32; KEYS];
            for (score, row) in scores.iter_mut().zip(&rows) {
                *score = dot(black_box(&query), row, |x| x);
            }
            scores
        })
    });
    group.bench_function("dot4, four keys at a time", |b| {
        b.iter(|| {
            let mut scores = [0f32; KEYS];
            for (four, rows) in scores.chunks_exact_mut(4).zip(rows.chunks_exact(4)) {
                four.copy_from_slice(&dot4(
                    black_box(&query),
                    [rows[0], rows[1], rows[2], rows[3]],
                    |x| x,
                ));
            }
            scores
        })
    });
    group.finish();
}

criterion_group!(benches, scores);
criterion_main!(benches);
