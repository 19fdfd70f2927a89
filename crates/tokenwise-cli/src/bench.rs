//! `tokenwise bench local`: how fast the local model is on this machine.
//!
//! Prints numbers; asserts nothing. Figures are medians over `--runs` greedy generations of a
//! fixed length, per case: a short question, a short request with a long answer (decode speed
//! over `--tokens` tokens, not the few of the short answer), a ~1,000-token prompt, a
//! ~4,000-token summary
//! (quick-summarize's shape: the whole pasted text is the prompt), and the second turn of a
//! conversation, with and without the engine's prefix cache. `--json` prints the same as one
//! JSON object, for scripts such as `scripts/bench-vs-llamacpp.sh`.

use crate::output::out;
use std::time::Instant;

use serde::Serialize;
use tokenwise_core::{
    CancellationToken, ChatEngine, GenerationRequest, GenerationStats, PromptMessage, Role,
};
use tokenwise_local::{EngineSettings, LocalEngine, DEFAULT_MODEL};

#[derive(clap::Subcommand)]
pub enum BenchTarget {
    /// The default local model: load, time to first token, prefill and decode speed, memory.
    Local(LocalArgs),
    /// Quick summarize as a person gets it: parts and combining through the app, on the
    /// default model; time to the first words and in all for a ~1,000- and ~4,000-token text.
    Summarize {
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct LocalArgs {
    /// Generations per case; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Tokens generated per run.
    #[arg(long, default_value_t = 64)]
    tokens: u32,
    /// Which cases to run, comma-separated: short, decode, 1k, summarize-4k, multi-turn.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "short,decode,1k,summarize-4k,multi-turn"
    )]
    cases: Vec<Case>,
    /// Run the model file as downloaded, not its Q8_0 copy (slower on Q4_1 files: see
    /// docs/performance.md).
    #[arg(long)]
    original_weights: bool,
    /// Dequantize the weights to f32 at load (candle's `CANDLE_DEQUANTIZE_ALL`): prefill
    /// runs as a real matrix multiply, decode reads 4× more memory.
    #[arg(long)]
    dequantize: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Print the cases' prompts and the system prompt as JSON and exit (for
    /// scripts/bench-vs-llamacpp.sh, so both engines get the same text).
    #[arg(long)]
    prompts_json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Case {
    #[value(name = "short")]
    #[serde(rename = "short")]
    Short,
    #[value(name = "decode")]
    #[serde(rename = "decode")]
    Decode,
    #[value(name = "1k")]
    #[serde(rename = "1k")]
    OneK,
    #[value(name = "summarize-4k")]
    #[serde(rename = "summarize-4k")]
    Summarize4k,
    #[value(name = "multi-turn")]
    #[serde(rename = "multi-turn")]
    MultiTurn,
}

/// The short prompt, also used by `scripts/bench-vs-llamacpp.sh`.
pub const SHORT_PROMPT: &str = "What is the capital of France?";

/// A short request whose answer is long: decode speed measured over many tokens.
pub const DECODE_PROMPT: &str =
    "Write a story of about 300 words about a lighthouse keeper who finds a message in a bottle.";

pub const PARAGRAPH: &str =
    "Quarterly revenue grew eight percent while operating costs rose three \
percent, driven mostly by cloud hosting and the new support team in Lisbon. The board asked \
for a plan to keep AI spending under the approved budget without slowing the product teams. ";

pub const MEETING: &str = "Priya opened the meeting by reviewing the migration of the billing \
service, which slipped two weeks because the vendor changed its API without notice. Tom said \
the new retry logic cut failed payments by a third, but support tickets about duplicate \
invoices doubled. The team agreed to freeze features until the duplicates are fixed, to add an \
alert when the failure rate passes one percent, and to ask legal whether the vendor contract \
allows a penalty. ";

/// The prompts of each case, as the bench sends them (shared with the llama.cpp comparison).
pub fn prompt(case: Case) -> String {
    match case {
        Case::Short | Case::MultiTurn => SHORT_PROMPT.to_string(),
        Case::Decode => DECODE_PROMPT.to_string(),
        Case::OneK => format!(
            "Summarize the following notes in three sentences.\n\n{}",
            PARAGRAPH.repeat(20)
        ),
        Case::Summarize4k => format!(
            "Summarize the following meeting notes in a few sentences.\n\n{}",
            MEETING.repeat(47)
        ),
    }
}

const FOLLOW_UP: &str = "And what is it famous for?";

#[derive(Serialize)]
struct Report {
    model: String,
    weights: String,
    cpu: String,
    avx2_build: bool,
    avx2_cpu: bool,
    load_seconds: f64,
    context_tokens: u32,
    cases: Vec<CaseResult>,
    /// The second turn of a conversation, with and without the engine's prefix cache.
    multi_turn: Option<MultiTurn>,
    peak_rss_mib: Option<f64>,
}

#[derive(Serialize)]
struct CaseResult {
    case: Case,
    tokens_in: u32,
    tokens_out: f64,
    ttft_ms: f64,
    total_ms: f64,
    prefill_tokens_per_second: f64,
    decode_tokens_per_second: f64,
}

#[derive(Serialize)]
struct MultiTurn {
    turn_2_tokens_in: u32,
    /// Time to the first token of turn 2 right after turn 1 (the prefix cache holds turn 1).
    turn_2_ttft_ms_cached: f64,
    /// The same request on an engine with the prefix cache off: everything is prefilled.
    turn_2_ttft_ms_uncached: f64,
}

pub async fn run(target: BenchTarget) -> Result<(), String> {
    match target {
        BenchTarget::Local(args) => run_local(args).await,
        BenchTarget::Summarize { json } => crate::bench_summary::run(json).await,
    }
}

async fn run_local(args: LocalArgs) -> Result<(), String> {
    let LocalArgs {
        runs,
        tokens,
        cases,
        original_weights,
        dequantize,
        json,
        prompts_json,
    } = args;
    if prompts_json {
        let cases: serde_json::Map<String, serde_json::Value> =
            [Case::Short, Case::Decode, Case::OneK, Case::Summarize4k]
                .into_iter()
                .filter(|case| cases.contains(case))
                .map(|case| (case_name(case), prompt(case).into()))
                .collect();
        let prompts = serde_json::json!({
            "system": tokenwise_local::catalog::DEFAULT_SYSTEM_PROMPT,
            "cases": cases,
            "follow_up": FOLLOW_UP,
        });
        out!("{prompts}");
        return Ok(());
    }
    if dequantize {
        // Read by candle when the weights load, on the loader's threads; nothing has loaded yet.
        std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1");
    }
    let paths = tokenwise_app::AppPaths::from_env();
    let settings = if original_weights {
        EngineSettings::default()
    } else {
        EngineSettings::with_fast_weights_in(&paths.fast_weights_dir())
    };
    let started = Instant::now();
    let engine = LocalEngine::load(&paths.models_dir, &DEFAULT_MODEL, settings.clone())
        .await
        .map_err(|error| error.to_string())?;
    let load_seconds = started.elapsed().as_secs_f64();
    let mut weights = engine.weights().describe();
    if std::env::var("CANDLE_DEQUANTIZE_ALL").is_ok_and(|v| !v.is_empty() && v != "0") {
        weights.push_str(", dequantized to f32 at load");
    }
    let mut report = Report {
        model: DEFAULT_MODEL.display_name.to_string(),
        weights,
        cpu: cpu_name(),
        avx2_build: cfg!(target_feature = "avx2"),
        avx2_cpu: has_avx2_at_runtime(),
        load_seconds,
        context_tokens: engine.context_tokens(),
        cases: Vec::new(),
        multi_turn: None,
        peak_rss_mib: None,
    };
    if !json {
        print_header(&report);
    }

    for case in cases.iter().copied().filter(|c| *c != Case::MultiTurn) {
        let messages = vec![PromptMessage::new(Role::User, prompt(case))];
        let mut samples = Vec::with_capacity(runs.max(1));
        for _ in 0..runs.max(1) {
            samples.push(generate_once(&engine, messages.clone(), tokens).await?.0);
        }
        let result = summarize(case, &samples);
        if !json {
            print_case(&result);
        }
        report.cases.push(result);
    }
    report.peak_rss_mib = peak_rss_mib();

    if cases.contains(&Case::MultiTurn) {
        let turn_2 = second_turn(&engine, tokens).await?;
        let cached = generate_once(&engine, turn_2.clone(), tokens).await?.0;
        drop(engine);
        let uncached_engine = LocalEngine::load(
            &paths.models_dir,
            &DEFAULT_MODEL,
            EngineSettings {
                prefix_cache_sequences: None,
                ..settings
            },
        )
        .await
        .map_err(|error| error.to_string())?;
        let uncached = generate_once(&uncached_engine, turn_2, tokens).await?.0;
        report.multi_turn = Some(MultiTurn {
            turn_2_tokens_in: cached.tokens_in,
            turn_2_ttft_ms_cached: f64::from(cached.time_to_first_token_ms),
            turn_2_ttft_ms_uncached: f64::from(uncached.time_to_first_token_ms),
        });
    }

    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        out!("{text}");
    } else {
        print_footer(&report);
    }
    Ok(())
}

/// Turn 1 answered (and cached by the engine), then the messages of turn 2.
async fn second_turn(engine: &LocalEngine, tokens: u32) -> Result<Vec<PromptMessage>, String> {
    let first = vec![PromptMessage::new(Role::User, SHORT_PROMPT)];
    let (_, answer) = generate_once(engine, first.clone(), tokens).await?;
    let mut turn_2 = first;
    turn_2.push(PromptMessage::new(Role::Assistant, answer));
    turn_2.push(PromptMessage::new(Role::User, FOLLOW_UP));
    Ok(turn_2)
}

fn summarize(case: Case, samples: &[GenerationStats]) -> CaseResult {
    let median = |f: &dyn Fn(&GenerationStats) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(f).collect();
        values.sort_by(|a, b| a.total_cmp(b));
        values[values.len() / 2]
    };
    CaseResult {
        case,
        tokens_in: samples[0].tokens_in,
        tokens_out: median(&|s| f64::from(s.tokens_out)),
        ttft_ms: median(&|s| f64::from(s.time_to_first_token_ms)),
        total_ms: median(&|s| f64::from(s.total_ms)),
        prefill_tokens_per_second: median(&|s| f64::from(s.prefill_tokens_per_second)),
        decode_tokens_per_second: median(&|s| f64::from(s.decode_tokens_per_second)),
    }
}

fn print_header(report: &Report) {
    out!("Tokenwise local benchmark: {}", report.model);
    out!("cpu: {}", report.cpu);
    out!(
        "build: AVX2 {} (target-cpu x86-64-v3 in .cargo/config.toml); this CPU has AVX2: {}",
        if report.avx2_build { "on" } else { "off" },
        report.avx2_cpu
    );
    out!("weights: {}", report.weights);
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        out!(
            "note: RUST_BACKTRACE is set: errors built while loading capture and symbolize \
             backtraces (slower load, ~45 MiB more memory than a person's run)"
        );
    }
    out!(
        "load: {:.2} s (checksums + mistral.rs load), context {} tokens",
        report.load_seconds,
        report.context_tokens
    );
    out!(
        "\n{:<13} {:>9} {:>10} {:>9} {:>10} {:>14} {:>13}",
        "case",
        "tokens_in",
        "tokens_out",
        "ttft_ms",
        "total_ms",
        "prefill_tok/s",
        "decode_tok/s"
    );
}

fn case_name(case: Case) -> String {
    serde_json::to_value(case)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn print_case(result: &CaseResult) {
    out!(
        "{:<13} {:>9} {:>10} {:>9.0} {:>10.0} {:>14.1} {:>13.1}",
        case_name(result.case),
        result.tokens_in,
        result.tokens_out,
        result.ttft_ms,
        result.total_ms,
        result.prefill_tokens_per_second,
        result.decode_tokens_per_second,
    );
}

fn print_footer(report: &Report) {
    if let Some(turn) = &report.multi_turn {
        out!(
            "\nmulti-turn: turn 2 ({} tokens in) first token after {:.0} ms with the prefix \
             cache, {:.0} ms without",
            turn.turn_2_tokens_in,
            turn.turn_2_ttft_ms_cached,
            turn.turn_2_ttft_ms_uncached
        );
    }
    if let Some(peak) = report.peak_rss_mib {
        out!("\npeak RSS (one engine): {peak:.0} MiB");
    }
}

/// One greedy generation: its figures and its text.
async fn generate_once(
    engine: &LocalEngine,
    messages: Vec<PromptMessage>,
    tokens: u32,
) -> Result<(GenerationStats, String), String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let collect = tokio::spawn(async move {
        let mut text = String::new();
        while let Some(piece) = rx.recv().await {
            text.push_str(&piece);
        }
        text
    });
    let outcome = engine
        .generate(
            GenerationRequest {
                messages,
                max_new_tokens: tokens,
                greedy: true,
            },
            tx,
            CancellationToken::new(),
        )
        .await
        .map_err(|error| error.to_string())?;
    let text = collect.await.unwrap_or_default();
    Ok((outcome.stats, text))
}

fn cpu_name() -> String {
    tokenwise_core::host::cpu_model()
        .map(|name| {
            let threads = tokenwise_models::hardware::engine_threads_here();
            format!("{name}, {threads} threads")
        })
        .unwrap_or_else(|| "unknown".into())
}

fn has_avx2_at_runtime() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Peak resident memory of this process (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
