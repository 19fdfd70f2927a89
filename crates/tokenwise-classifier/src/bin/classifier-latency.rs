//! Measures `classify()` latency percentiles (criterion does not report p99).
//!
//! ```sh
//! cargo run --release -p tokenwise-classifier --features training --bin classifier-latency -- \
//!     --update-doc docs/classifier.md
//! ```
//!
//! Times `--iterations` single calls for prompts of 20, 500 and 4,000 characters on one
//! thread and prints p50 / p99 / max in microseconds. With `--update-doc`, also rewrites the
//! latency section of the report.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use tokenwise_classifier::sample_prompts::prompt_of_length;
use tokenwise_classifier::training::report::{with_marked_section, LATENCY_SECTION};
use tokenwise_classifier::{Classifier, ClassifierError};

const PROMPT_LENGTHS: [usize; 3] = [20, 500, 4000];
const WARM_UP_CALLS: usize = 1_000;

#[derive(Debug, Parser)]
#[command(about = "Measure classify() latency percentiles")]
struct Arguments {
    /// Timed calls per prompt length.
    #[arg(long, default_value_t = 20_000)]
    iterations: usize,
    /// Rewrite the latency section of this markdown report.
    #[arg(long)]
    update_doc: Option<PathBuf>,
}

/// One row of results.
struct Measurement {
    length: usize,
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

fn measure(classifier: &Classifier, length: usize, iterations: usize) -> Measurement {
    let prompt = prompt_of_length(length);
    for _ in 0..WARM_UP_CALLS {
        black_box(classifier.classify(black_box(&prompt)));
    }
    let mut micros: Vec<f64> = (0..iterations.max(1))
        .map(|_| {
            let start = Instant::now();
            black_box(classifier.classify(black_box(&prompt)));
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    micros.sort_by(f64::total_cmp);
    let percentile = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize];
    Measurement {
        length,
        p50: percentile(0.50),
        p99: percentile(0.99),
        max: micros[micros.len() - 1],
        mean: micros.iter().sum::<f64>() / micros.len() as f64,
    }
}

/// Today's UTC date as YYYY-MM-DD (civil-from-days, no date crate needed).
fn today_utc() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn run(arguments: &Arguments) -> Result<(), ClassifierError> {
    let classifier = Classifier::embedded()?;
    let measurements: Vec<Measurement> = PROMPT_LENGTHS
        .iter()
        .map(|&length| measure(&classifier, length, arguments.iterations))
        .collect();

    let mut table = format!(
        "Measured {} on {} (one thread, release build, `target-cpu=x86-64-v3`), \
         {} timed `classify()` calls per size after {} warm-up calls, with another build \
         running on the machine:\n\n\
         | prompt length (chars) | p50 µs | p99 µs | max µs | mean µs |\n\
         |---:|---:|---:|---:|---:|\n",
        today_utc(),
        tokenwise_core::host::cpu_model().unwrap_or_else(|| "unknown CPU".to_string()),
        arguments.iterations,
        WARM_UP_CALLS,
    );
    for m in &measurements {
        table.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            m.length, m.p50, m.p99, m.max, m.mean
        ));
    }
    table.push_str(
        "\nReproduce: `cargo run --release -p tokenwise-classifier --features training --bin classifier-latency -- \
         --update-doc docs/classifier.md`; criterion benchmark: \
         `cargo bench -p tokenwise-classifier --bench classify`.",
    );
    println!("{table}");

    if let Some(path) = &arguments.update_doc {
        let document = std::fs::read_to_string(path)
            .map_err(|e| ClassifierError::io(path.display().to_string(), e))?;
        std::fs::write(
            path,
            with_marked_section(&document, LATENCY_SECTION, &table),
        )
        .map_err(|e| ClassifierError::io(path.display().to_string(), e))?;
        println!("\nupdated {}", path.display());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(&Arguments::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("classifier-latency: {error}");
            ExitCode::FAILURE
        }
    }
}
