//! Trains the second stage's head and reports the two-stage classifier.
//!
//! ```sh
//! cargo run --release -p tokenwise-encoder --features training --bin train-encoder-head
//! ```
//!
//! Embeds the training prompts and the workplace set with all-MiniLM-L6-v2 (cached under
//! `target/encoder-cache/`), compares the first stage, the head and the two stages held out
//! by source and on the workplace set for each label set, writes the head trained on the chosen
//! labels and the "Second stage" section of `docs/classifier.md`. Deterministic.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use tokenwise_classifier::training::dataset::{Dataset, SecondLabels};
use tokenwise_classifier::training::report::{with_marked_section, SECOND_STAGE_SECTION};
use tokenwise_classifier::Classifier;
use tokenwise_core::Difficulty;
use tokenwise_encoder::cascade::Combination;
use tokenwise_encoder::training::{
    embed_all, encoder_dir, run, table, CascadeRule, Inputs, LabelSet, SHIPPED_RULE,
};
use tokenwise_encoder::{EncoderError, SentenceEncoder};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Labels {
    V1,
    V2,
    Consensus,
}

#[derive(Debug, Parser)]
#[command(about = "Train the second stage's head (all-MiniLM-L6-v2 embeddings → tier)")]
struct Arguments {
    /// Labelled prompts; repeat for several files, read in order as one dataset.
    #[arg(
        long,
        num_args = 1,
        default_values = ["data/routing/train.jsonl", "data/routing/rubric_written.jsonl"]
    )]
    data: Vec<PathBuf>,
    #[arg(long, default_value = "data/routing/labels_v2.jsonl")]
    labels: PathBuf,
    #[arg(long, default_value = "data/routing/workplace_eval.jsonl")]
    workplace: PathBuf,
    /// The folder holding `all-MiniLM-L6-v2/`.
    #[arg(long, default_value = "models")]
    models: PathBuf,
    #[arg(long, default_value = "target/encoder-cache")]
    cache: PathBuf,
    /// Which labels the shipped head learns from.
    #[arg(long, value_enum, default_value = "consensus")]
    head_labels: Labels,
    #[arg(
        long,
        default_value = "crates/tokenwise-encoder/weights/encoder-head-v1.json"
    )]
    out: PathBuf,
    /// The report whose "Second stage" section is rewritten.
    #[arg(long, default_value = "docs/classifier.md")]
    report: PathBuf,
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Also compare other thresholds and combinations (printed, not written to the report).
    #[arg(long)]
    grid: bool,
    /// L2 strength of the head.
    #[arg(long, default_value_t = tokenwise_encoder::training::HEAD_L2)]
    l2: f64,
}

fn main() -> ExitCode {
    match train(Arguments::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("train-encoder-head: {error}");
            ExitCode::FAILURE
        }
    }
}

fn train(args: Arguments) -> Result<(), EncoderError> {
    let training_error =
        |e: tokenwise_classifier::ClassifierError| EncoderError::Training(e.to_string());
    let dataset = Dataset::load_all(&args.data).map_err(training_error)?;
    let mut relabelled = dataset.clone();
    relabelled
        .relabel(&args.labels, SecondLabels::Replace)
        .map_err(training_error)?;
    let v2: Vec<Difficulty> = relabelled.records.iter().map(|r| r.difficulty).collect();
    let workplace = read_workplace(&args.workplace)?;

    let encoder = SentenceEncoder::load(&encoder_dir(&args.models))?;
    let prompts: Vec<&str> = dataset.records.iter().map(|r| r.prompt.as_str()).collect();
    let embeddings = embed_all(&encoder, &prompts, &args.cache.join("train.bin"))?;
    let workplace_prompts: Vec<&str> = workplace.iter().map(|(p, _)| p.as_str()).collect();
    let workplace_embeddings = embed_all(
        &encoder,
        &workplace_prompts,
        &args.cache.join("workplace.bin"),
    )?;
    let workplace: Vec<(String, Difficulty, Vec<f32>)> = workplace
        .into_iter()
        .zip(workplace_embeddings)
        .map(|((prompt, tier), x)| (prompt, tier, x))
        .collect();

    let first_stage = Classifier::embedded().map_err(training_error)?;
    let chosen = match args.head_labels {
        Labels::V1 => LabelSet::V1,
        Labels::V2 => LabelSet::V2,
        Labels::Consensus => LabelSet::Consensus,
    };
    let rules: Vec<CascadeRule> = if args.grid {
        [0.4, 0.5, 0.6, 1.01]
            .into_iter()
            .flat_map(|t| [(t, Combination::Average), (t, Combination::Replace)])
            .collect()
    } else {
        vec![SHIPPED_RULE]
    };
    let outcome = run(
        &Inputs {
            records: &dataset.records,
            v2: &v2,
            embeddings: &embeddings,
            workplace: &workplace,
            first_stage: &first_stage,
            data_sha256: &relabelled.sha256,
            l2: args.l2,
        },
        chosen,
        &rules,
        args.workers,
    )?;
    let comparison = table(&outcome);
    println!("{comparison}");

    let json =
        serde_json::to_string(&outcome.head).map_err(|e| EncoderError::Training(e.to_string()))?;
    if args.grid {
        return Ok(());
    }
    write(&args.out, &(json + "\n"))?;
    let existing = std::fs::read_to_string(&args.report).unwrap_or_default();
    let section = format!(
        "Held out by source (LOSO) and scored where both labels agree ({} prompts), and on the \
         workplace set ({} prompts, never trained on). \"Encoder asked\": share of prompts the \
         first stage was unsure about (confidence below {}). The shipped head is trained on \
         the {} labels.\n\n{comparison}\nReproduce: `cargo run --release -p tokenwise-encoder \
         --features training --bin train-encoder-head` (needs `models/all-MiniLM-L6-v2/`, \
         fetched by `scripts/fetch-model.sh`).",
        outcome.rows[0].loso.prompts,
        outcome.rows[0].workplace.prompts,
        tokenwise_encoder::ASK_SECOND_BELOW,
        outcome.chosen.name(),
    );
    write(
        &args.report,
        &with_marked_section(&existing, SECOND_STAGE_SECTION, &section),
    )?;
    eprintln!(
        "wrote {} and the second-stage section of {}",
        args.out.display(),
        args.report.display()
    );
    Ok(())
}

fn read_workplace(path: &std::path::Path) -> Result<Vec<(String, Difficulty)>, EncoderError> {
    #[derive(serde::Deserialize)]
    struct Labelled {
        prompt: String,
        tier: String,
    }
    let text = std::fs::read_to_string(path).map_err(|source| EncoderError::Io {
        path: path.display().to_string(),
        source,
    })?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(index, line)| {
            let record: Labelled = serde_json::from_str(line).map_err(|e| {
                EncoderError::Training(format!("{} line {}: {e}", path.display(), index + 1))
            })?;
            let tier = Difficulty::parse(&record.tier)
                .ok_or_else(|| EncoderError::Training(format!("unknown tier {:?}", record.tier)))?;
            Ok((record.prompt, tier))
        })
        .collect()
}

fn write(path: &std::path::Path, text: &str) -> Result<(), EncoderError> {
    std::fs::write(path, text).map_err(|source| EncoderError::Io {
        path: path.display().to_string(),
        source,
    })
}
