//! Measures the second stage on one thread: load time, p50 / p99 / max of one prompt's
//! encoder + head at 100, 500 and 4,000 characters, and the process's peak memory.
//!
//! ```sh
//! cargo run --release -p tokenwise-encoder --features training --bin encoder-latency
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use tokenwise_classifier::sample_prompts::prompt_of_length;
use tokenwise_encoder::SecondStage;

#[derive(Debug, Parser)]
#[command(about = "Measure the second stage's latency percentiles, load time and memory")]
struct Arguments {
    /// The folder holding the encoder's files.
    #[arg(long, default_value = "models/all-MiniLM-L6-v2")]
    encoder: PathBuf,
    /// Timed calls per prompt length.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
}

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> ExitCode {
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let args = Arguments::parse();
    let before = peak_rss_mib().unwrap_or(0.0);
    let start = Instant::now();
    let second = match SecondStage::load(&args.encoder) {
        Ok(second) => second,
        Err(error) => {
            eprintln!("encoder-latency: {error}");
            return ExitCode::FAILURE;
        }
    };
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    println!("load: {load_ms:.0} ms");
    println!("| characters | p50 ms | p99 ms | max ms |");
    println!("|---:|---:|---:|---:|");
    for length in [100, 500, 4000] {
        let prompt = prompt_of_length(length);
        for _ in 0..5 {
            black_box(second.probabilities(&prompt).ok());
        }
        let mut millis: Vec<f64> = (0..args.iterations.max(1))
            .map(|_| {
                let start = Instant::now();
                black_box(second.probabilities(black_box(&prompt)).ok());
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        millis.sort_by(f64::total_cmp);
        let at = |p: f64| millis[((millis.len() - 1) as f64 * p).round() as usize];
        println!(
            "| {length} | {:.2} | {:.2} | {:.2} |",
            at(0.5),
            at(0.99),
            millis[millis.len() - 1]
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!(
            "peak resident memory: {peak:.0} MiB (before loading: {before:.0} MiB, so the \
             encoder adds about {:.0} MiB)",
            peak - before
        );
    }
    ExitCode::SUCCESS
}
