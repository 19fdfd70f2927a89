//! Trains the prompt-complexity classifier and writes its weights and report.
//!
//! ```sh
//! cargo run --release -p tokenwise-classifier --features training --bin train-classifier -- \
//!     --data data/routing/train.jsonl --data data/routing/rubric_written.jsonl \
//!     --out crates/tokenwise-classifier/weights/classifier-v1.json --report docs/classifier.md
//! ```
//!
//! Runs leave-one-source-out validation for the shipped model, its variants and both
//! baselines, prints the comparison, fits the final model on all records, and writes the
//! weights JSON and the markdown report. The output is byte-identical from run to run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use tokenwise_classifier::training::dataset::{Dataset, SecondLabels};
use tokenwise_classifier::training::pipeline::{run_on, TrainingOptions};
use tokenwise_classifier::training::report::{comparison_table, render, KeptSections};
use tokenwise_classifier::training::workplace;
use tokenwise_classifier::{Classifier, ClassifierError};

/// The command documented in the report (paths relative to the repository root).
const REPRODUCE_COMMAND: &str =
    "cargo run --release -p tokenwise-classifier --features training --bin train-classifier -- \\\n    \
     --data data/routing/train.jsonl --data data/routing/rubric_written.jsonl \\\n    \
     --out crates/tokenwise-classifier/weights/classifier-v1.json --report docs/classifier.md";

#[derive(Debug, Parser)]
#[command(about = "Train the Tokenwise prompt-complexity classifier")]
struct Arguments {
    /// Labelled prompts (JSONL with prompt, tier and source fields); repeat for several
    /// files, read in order as one dataset.
    #[arg(
        long,
        num_args = 1,
        default_values = ["data/routing/train.jsonl", "data/routing/rubric_written.jsonl"]
    )]
    data: Vec<PathBuf>,
    /// Where to write the weights JSON.
    #[arg(
        long,
        default_value = "crates/tokenwise-classifier/weights/classifier-v1.json"
    )]
    out: PathBuf,
    /// Where to write the markdown report (its latency section is kept).
    #[arg(long, default_value = "docs/classifier.md")]
    report: PathBuf,
    /// Threads for the LOSO folds (results do not depend on it).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Skip the exploration variants (faster; the report then omits their table).
    #[arg(long)]
    skip_variants: bool,
    /// Second labels (`labels_v2.jsonl`) that replace the dataset's own.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// With --labels: train and validate only on the records whose two labels agree.
    #[arg(long, requires = "labels", conflicts_with = "both")]
    consensus: bool,
    /// With --labels: keep both labels, a record whose labels differ once with each.
    #[arg(long, requires = "labels")]
    both: bool,
    /// A labelled set never trained on, reported beside LOSO ("none" to skip).
    #[arg(long, default_value = "data/routing/workplace_eval.jsonl")]
    evaluate: PathBuf,
    /// Also write every record's held-out (LOSO) logits as JSON lines
    /// (`{"id", "source", "tier", "logits"}`), to study decision rules away from the trainer.
    #[arg(long)]
    held_out: Option<PathBuf>,
}

fn write(path: &Path, contents: &str) -> Result<(), ClassifierError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| ClassifierError::io(parent.display().to_string(), e))?;
    }
    std::fs::write(path, contents).map_err(|e| ClassifierError::io(path.display().to_string(), e))
}

fn train(arguments: &Arguments) -> Result<(), ClassifierError> {
    let options = TrainingOptions {
        workers: arguments.workers,
        variants: !arguments.skip_variants,
    };
    let started = std::time::Instant::now();
    let mut dataset = Dataset::load_all(&arguments.data)?;
    if let Some(labels) = &arguments.labels {
        let use_as = if arguments.consensus {
            SecondLabels::ConsensusOnly
        } else if arguments.both {
            SecondLabels::Both
        } else {
            SecondLabels::Replace
        };
        dataset.relabel(labels, use_as)?;
    }
    let outcome = run_on(&dataset, &options)?;
    let records = &outcome.dataset.records;

    println!(
        "LOSO over {} records, {} sources ({:.1} s)\n",
        records.len(),
        outcome.dataset.sources().len(),
        started.elapsed().as_secs_f64()
    );
    println!("{}", comparison_table(&outcome));
    for (spec, evaluation) in &outcome.variants {
        let matrix = evaluation.confusion(records);
        println!(
            "variant {:<48} accuracy {:5.1}%  macro-F1 {:5.1}%",
            spec.name,
            matrix.accuracy() * 100.0,
            matrix.macro_f1() * 100.0
        );
    }
    println!(
        "\ntemperature {:.3} (held-out NLL {:.3} -> {:.3})",
        outcome.calibration.temperature, outcome.calibration.nll.0, outcome.calibration.nll.1
    );

    if let Some(path) = &arguments.held_out {
        let logits = outcome.shipped.logits.clone().unwrap_or_default();
        let lines: String = records
            .iter()
            .zip(&logits)
            .map(|(record, logits)| {
                serde_json::json!({
                    "id": record.id,
                    "source": record.source,
                    "tier": record.difficulty.as_str(),
                    "logits": logits,
                })
                .to_string()
                    + "\n"
            })
            .collect();
        write(path, &lines)?;
        println!("wrote {}", path.display());
    }

    write(&arguments.out, &outcome.weights_json)?;
    println!(
        "wrote {} ({} bytes, {} hashed rows)",
        arguments.out.display(),
        outcome.weights_json.len(),
        outcome.hashed_rows
    );

    let existing = std::fs::read_to_string(&arguments.report).unwrap_or_default();
    let mut report = render(&outcome, REPRODUCE_COMMAND, KeptSections::of(&existing));
    if arguments.evaluate.as_os_str() != "none" {
        let classifier = Classifier::from_json(&outcome.weights_json)?;
        let evaluation = workplace::evaluate(&classifier, &arguments.evaluate)?;
        let section = workplace::section(&evaluation, &arguments.evaluate);
        println!("{section}");
        report = insert_before_method(&report, &section);
    }
    write(&arguments.report, &report)?;
    println!("wrote {}", arguments.report.display());
    Ok(())
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    match train(&arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("train-classifier: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Puts `section` before the report's "## Method" heading (at the end when there is none).
fn insert_before_method(report: &str, section: &str) -> String {
    match report.find("\n## Method") {
        Some(at) => format!("{}\n{}{}", &report[..at], section, &report[at..]),
        None => format!("{report}\n{section}"),
    }
}
