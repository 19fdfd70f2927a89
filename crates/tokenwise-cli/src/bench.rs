//! `tokenwise bench local`: how fast the local model is on this machine.
//!
//! Prints numbers; asserts nothing. Figures are medians over `--runs` greedy generations of a
//! fixed length, for a short prompt and a ~1,000-token prompt.

use crate::output::out;
use std::time::Instant;

use tokenwise_core::{
    CancellationToken, ChatEngine, GenerationRequest, GenerationStats, PromptMessage, Role,
};
use tokenwise_local::{EngineSettings, LocalEngine, DEFAULT_MODEL};

#[derive(clap::Subcommand)]
pub enum BenchTarget {
    /// The default local model: load, time to first token, prefill and decode speed, memory.
    Local {
        /// Generations per prompt; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Tokens generated per run.
        #[arg(long, default_value_t = 64)]
        tokens: u32,
        /// Dequantize the weights to f32 at load (candle's `CANDLE_DEQUANTIZE_ALL`): prefill
        /// runs as a real matrix multiply (faster), decode reads 4× more memory (slower).
        #[arg(long)]
        dequantize: bool,
    },
}

const SHORT_PROMPT: &str = "What is the capital of France?";

const PARAGRAPH: &str = "Quarterly revenue grew eight percent while operating costs rose three \
percent, driven mostly by cloud hosting and the new support team in Lisbon. The board asked \
for a plan to keep AI spending under the approved budget without slowing the product teams. ";

pub async fn run(target: BenchTarget) -> Result<(), String> {
    let BenchTarget::Local {
        runs,
        tokens,
        dequantize,
    } = target;
    if dequantize {
        // Read by candle when the weights load, on the loader's threads; nothing has loaded yet.
        std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1");
    }
    let dequantized =
        std::env::var("CANDLE_DEQUANTIZE_ALL").is_ok_and(|v| !v.is_empty() && v != "0");
    let paths = tokenwise_app::AppPaths::from_env();
    out!("Tokenwise local benchmark: {}", DEFAULT_MODEL.display_name);
    out!("cpu: {}", cpu_name());
    out!(
        "build: AVX2 {} (target-cpu x86-64-v3 in .cargo/config.toml); this CPU has AVX2: {}",
        if cfg!(target_feature = "avx2") {
            "on"
        } else {
            "off"
        },
        has_avx2_at_runtime()
    );
    out!(
        "weights: {}",
        if dequantized {
            "dequantized to f32 at load (CANDLE_DEQUANTIZE_ALL)"
        } else {
            "quantized (Q4_1 matmul kernels)"
        }
    );
    let started = Instant::now();
    let engine = LocalEngine::load(&paths.models_dir, &DEFAULT_MODEL, EngineSettings::default())
        .await
        .map_err(|error| error.to_string())?;
    out!(
        "load: {:.2} s (checksum + mistral.rs load), context {} tokens",
        started.elapsed().as_secs_f64(),
        engine.context_tokens()
    );

    let long_prompt = format!(
        "Summarize the following notes in three sentences.\n\n{}",
        PARAGRAPH.repeat(20)
    );
    out!(
        "\n{:<8} {:>10} {:>10} {:>10} {:>14} {:>13}",
        "prompt",
        "tokens_in",
        "tokens_out",
        "ttft_ms",
        "prefill_tok/s",
        "decode_tok/s"
    );
    for (label, prompt) in [("short", SHORT_PROMPT.to_string()), ("~1k", long_prompt)] {
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            samples.push(generate_once(&engine, &prompt, tokens).await?);
        }
        let median = |f: fn(&GenerationStats) -> f64| {
            let mut values: Vec<f64> = samples.iter().map(f).collect();
            values.sort_by(|a, b| a.total_cmp(b));
            values[values.len() / 2]
        };
        out!(
            "{:<8} {:>10} {:>10} {:>10.0} {:>14.1} {:>13.1}",
            label,
            samples[0].tokens_in,
            median(|s| s.tokens_out as f64),
            median(|s| s.time_to_first_token_ms as f64),
            median(|s| s.prefill_tokens_per_second as f64),
            median(|s| s.decode_tokens_per_second as f64),
        );
    }
    if let Some(peak) = peak_rss_mib() {
        out!("\npeak RSS: {peak:.0} MiB");
    }
    Ok(())
}

async fn generate_once(
    engine: &LocalEngine,
    prompt: &str,
    tokens: u32,
) -> Result<GenerationStats, String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let outcome = engine
        .generate(
            GenerationRequest {
                messages: vec![PromptMessage::new(Role::User, prompt)],
                max_new_tokens: tokens,
                greedy: true,
            },
            tx,
            CancellationToken::new(),
        )
        .await
        .map_err(|error| error.to_string())?;
    let _ = drain.await;
    Ok(outcome.stats)
}

fn cpu_name() -> String {
    tokenwise_core::host::cpu_model()
        .map(|name| {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
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
