//! Does a model fit this laptop? Memory it needs, the context it can afford, the decode speed
//! to expect, and a verdict with its reason in words. Pure rules over [`Hardware`] and a
//! measured [`SpeedProbe`], so they are tested as a table.

use serde::Serialize;
use ts_rs::TS;

use crate::catalog::CatalogEntry;
use crate::hardware::Hardware;

/// Memory the engine needs beyond weights and KV cache: the runtime, tokenizer, thread pool
/// and per-layer scratch of a prompt. Measured on the default model (peak resident memory
/// answering short prompts, less its weights), rounded up.
pub const RUNTIME_OVERHEAD_BYTES: u64 = 300 * MIB;

/// Share of the machine's memory a local model may plan to use: the rest is for the OS and
/// the apps people keep open beside it (a browser alone takes gigabytes).
pub const MEMORY_SHARE_PERCENT: u64 = 60;

/// Context lengths tried, largest first. The largest that fits memory is chosen.
pub const CONTEXT_CHOICES: [u32; 3] = [8192, 4096, 2048];

/// Below this decode speed a model feels slower than reading: "runs slowly".
pub const SLOW_TOKENS_PER_SECOND: f64 = 8.0;

const MIB: u64 = 1024 * 1024;

/// How fast this machine streams quantized weights through the decode kernels, measured (see
/// `tokenwise_local::probe`): decode is memory-bound, so a model's tokens per second is about
/// this divided by the bytes of weights it reads per token.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpeedProbe {
    pub weight_bytes_per_second: f64,
}

/// The verdict shown beside each model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Verdict {
    RunsWell,
    RunsSlowly,
    DoesNotFit,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::RunsWell => "runs well",
            Verdict::RunsSlowly => "runs slowly",
            Verdict::DoesNotFit => "does not fit",
        }
    }
}

/// What a model would cost this machine.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Fit {
    pub verdict: Verdict,
    /// The reason, in words, e.g. "needs 5.1 GB at 2,048 tokens of context; this laptop has 4.0 GB".
    pub reason: String,
    /// Context the engine would run it with (the largest that fits), if it fits.
    pub context_tokens: Option<u32>,
    /// Memory needed at that context (or at the smallest, when nothing fits).
    #[ts(type = "number")]
    pub memory_needed_bytes: u64,
    /// Bytes of weights held in memory (after the Q8_0 copy Tokenwise makes of types without
    /// SIMD kernels).
    #[ts(type = "number")]
    pub weights_in_memory_bytes: u64,
    /// Expected decode speed, when a probe was measured.
    pub expected_tokens_per_second: Option<f64>,
}

/// The facts about one model the rules need.
#[derive(Debug, Clone, Copy)]
pub struct ModelFacts<'a> {
    pub entry: &'a CatalogEntry,
    /// The file's size: the file on disk when present, else the catalog's size.
    pub file_bytes: Option<u64>,
    /// Whether the file is already in the models folder (then it needs no disk space).
    pub downloaded: bool,
}

/// Bytes held in memory for a file of `file_bytes` in `quant`: Tokenwise re-encodes Q4_1,
/// Q5_0 and Q5_1 as Q8_0 (34 bytes per 32 weights) for candle's SIMD kernels.
pub fn weights_in_memory(quant: &str, file_bytes: u64) -> u64 {
    // Bytes per block of 32 weights in the source type.
    let source_block = match quant.to_ascii_uppercase().as_str() {
        "Q4_1" => 20,
        "Q5_0" => 22,
        "Q5_1" => 24,
        _ => return file_bytes,
    };
    file_bytes / source_block * 34
}

/// Memory needed at `context` tokens: weights, KV cache, the prompt's attention mask (f32,
/// context²) and the runtime.
pub fn memory_needed(entry: &CatalogEntry, weights_bytes: u64, context: u32) -> u64 {
    let context = u64::from(context);
    weights_bytes
        + entry.kv_bytes_per_token() * context
        + context * context * 4
        + RUNTIME_OVERHEAD_BYTES
}

/// The verdict for one model on this machine.
pub fn assess(model: ModelFacts<'_>, hardware: &Hardware, probe: Option<SpeedProbe>) -> Fit {
    let entry = model.entry;
    let Some(file_bytes) = model.file_bytes else {
        return Fit {
            verdict: Verdict::RunsSlowly,
            reason: "its size is not published: Tokenwise can judge it once it is downloaded"
                .into(),
            context_tokens: None,
            memory_needed_bytes: 0,
            weights_in_memory_bytes: 0,
            expected_tokens_per_second: None,
        };
    };
    let weights = weights_in_memory(&entry.quant, file_bytes);
    let budget = hardware.total_memory_bytes / 100 * MEMORY_SHARE_PERCENT;
    let choices = CONTEXT_CHOICES.iter().copied().filter(|&c| {
        c <= entry
            .context_tokens
            .max(CONTEXT_CHOICES[CONTEXT_CHOICES.len() - 1])
    });
    let context = choices
        .clone()
        .find(|&c| memory_needed(entry, weights, c) <= budget);
    let smallest = CONTEXT_CHOICES[CONTEXT_CHOICES.len() - 1];
    let needed = memory_needed(entry, weights, context.unwrap_or(smallest));
    let expected = probe.map(|p| p.weight_bytes_per_second / weights.max(1) as f64);
    let fit = |verdict, reason: String| Fit {
        verdict,
        reason,
        context_tokens: context,
        memory_needed_bytes: needed,
        weights_in_memory_bytes: weights,
        expected_tokens_per_second: expected,
    };

    if context.is_none() {
        return fit(
            Verdict::DoesNotFit,
            format!(
                "needs {} at {} tokens of context; this laptop has {} ({}% may go to a local model)",
                gigabytes(needed),
                thousands(u64::from(smallest)),
                gigabytes(hardware.total_memory_bytes),
                MEMORY_SHARE_PERCENT
            ),
        );
    }
    if !model.downloaded {
        if let Some(free) = hardware.free_disk_bytes {
            if free < file_bytes {
                return fit(
                    Verdict::DoesNotFit,
                    format!(
                        "the file needs {} of disk and the models folder's disk has {} free",
                        gigabytes(file_bytes),
                        gigabytes(free)
                    ),
                );
            }
        }
    }
    if let Some(speed) = expected {
        if speed < SLOW_TOKENS_PER_SECOND {
            return fit(
                Verdict::RunsSlowly,
                format!("about {speed:.0} tokens/s on this machine, slower than reading"),
            );
        }
    }
    if needed > hardware.available_memory_bytes {
        return fit(
            Verdict::RunsSlowly,
            format!(
                "needs {} and only {} is free now: close other apps or expect it to swap",
                gigabytes(needed),
                gigabytes(hardware.available_memory_bytes)
            ),
        );
    }
    let speed = expected
        .map(|s| format!("about {s:.0} tokens/s, "))
        .unwrap_or_default();
    fit(
        Verdict::RunsWell,
        format!(
            "{speed}uses {} of {} with {} tokens of context",
            gigabytes(needed),
            gigabytes(hardware.total_memory_bytes),
            thousands(u64::from(context.unwrap_or(smallest)))
        ),
    )
}

/// "1.2 GB" (decimal gigabytes, as disks and shops count), or "350 MB" below one.
pub fn gigabytes(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1e9)
    } else {
        format!("{} MB", bytes.div_ceil(1_000_000))
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    const GB: u64 = 1_000_000_000;

    fn machine(total_gb: f64, available_gb: f64, free_disk_gb: f64) -> Hardware {
        Hardware {
            total_memory_bytes: (total_gb * GB as f64) as u64,
            available_memory_bytes: (available_gb * GB as f64) as u64,
            physical_cores: 4,
            logical_cores: 8,
            cpu_brand: "test".into(),
            cpu_simd: vec!["AVX2"],
            build_simd: "AVX2",
            free_disk_bytes: Some((free_disk_gb * GB as f64) as u64),
            on_battery: Some(false),
        }
    }

    fn entry(quant: &str, layers: u32, kv_heads: u32, head_dim: u32) -> CatalogEntry {
        CatalogEntry {
            id: "m".into(),
            name: "M".into(),
            parameters: "1B".into(),
            quant: quant.into(),
            file: "m.gguf".into(),
            url: Some("https://example.invalid/m.gguf".into()),
            sha256: None,
            size_bytes: None,
            approx_size_bytes: None,
            licence: "MIT".into(),
            source: "test".into(),
            context_tokens: 32768,
            layers,
            kv_heads,
            head_dim,
            local_reach: tokenwise_core::Difficulty::Simple,
            bundled: false,
        }
    }

    /// 1 GB/s of weights streamed: a 1 GB model decodes ~1 token/s.
    const PROBE: SpeedProbe = SpeedProbe {
        weight_bytes_per_second: 10.0 * GB as f64,
    };

    #[test]
    fn q4_1_is_held_as_q8_0_and_k_quants_as_they_are() {
        assert_eq!(weights_in_memory("Q4_1", 20 * 1000), 34 * 1000);
        assert_eq!(weights_in_memory("q5_0", 22 * 10), 34 * 10);
        assert_eq!(weights_in_memory("Q4_K_M", 12345), 12345);
        assert_eq!(weights_in_memory("Q8_0", 12345), 12345);
    }

    #[test]
    fn fit_rules_as_a_table() {
        // A 1.5B-like model: 28 layers, 2 KV heads of 128; 1 GB file.
        let mid = entry("Q4_K_M", 28, 2, 128);
        struct Case {
            what: &'static str,
            hardware: Hardware,
            file_gb: f64,
            downloaded: bool,
            probe: Option<SpeedProbe>,
            verdict: Verdict,
            context: Option<u32>,
            reason_has: &'static str,
        }
        let cases = [
            Case {
                what: "16 GB laptop, idle",
                hardware: machine(16.0, 10.0, 100.0),
                file_gb: 1.0,
                downloaded: false,
                probe: Some(PROBE),
                verdict: Verdict::RunsWell,
                context: Some(8192),
                reason_has: "about 10 tokens/s",
            },
            Case {
                what: "3 GB laptop: smaller context",
                hardware: machine(3.0, 2.5, 100.0),
                file_gb: 1.0,
                downloaded: false,
                probe: Some(PROBE),
                verdict: Verdict::RunsWell,
                context: Some(4096),
                reason_has: "4,096 tokens",
            },
            Case {
                what: "2 GB machine: does not fit",
                hardware: machine(2.0, 1.5, 100.0),
                file_gb: 1.0,
                downloaded: false,
                probe: Some(PROBE),
                verdict: Verdict::DoesNotFit,
                context: None,
                reason_has: "2,048 tokens of context",
            },
            Case {
                what: "disk too small",
                hardware: machine(16.0, 10.0, 0.5),
                file_gb: 1.0,
                downloaded: false,
                probe: Some(PROBE),
                verdict: Verdict::DoesNotFit,
                context: Some(8192),
                reason_has: "of disk",
            },
            Case {
                what: "disk full but already downloaded",
                hardware: machine(16.0, 10.0, 0.5),
                file_gb: 1.0,
                downloaded: true,
                probe: Some(PROBE),
                verdict: Verdict::RunsWell,
                context: Some(8192),
                reason_has: "uses",
            },
            Case {
                what: "slow machine",
                hardware: machine(16.0, 10.0, 100.0),
                file_gb: 2.0,
                downloaded: false,
                probe: Some(SpeedProbe {
                    weight_bytes_per_second: 10.0 * GB as f64,
                }),
                verdict: Verdict::RunsSlowly,
                context: Some(8192),
                reason_has: "slower than reading",
            },
            Case {
                what: "memory busy now",
                hardware: machine(16.0, 0.8, 100.0),
                file_gb: 1.0,
                downloaded: false,
                probe: Some(PROBE),
                verdict: Verdict::RunsSlowly,
                context: Some(8192),
                reason_has: "close other apps",
            },
            Case {
                what: "no probe yet",
                hardware: machine(16.0, 10.0, 100.0),
                file_gb: 1.0,
                downloaded: false,
                probe: None,
                verdict: Verdict::RunsWell,
                context: Some(8192),
                reason_has: "uses",
            },
        ];
        for case in cases {
            let file_bytes = (case.file_gb * GB as f64) as u64;
            let fit = assess(
                ModelFacts {
                    entry: &mid,
                    file_bytes: Some(file_bytes),
                    downloaded: case.downloaded,
                },
                &case.hardware,
                case.probe,
            );
            assert_eq!(fit.verdict, case.verdict, "{}: {fit:?}", case.what);
            assert_eq!(fit.context_tokens, case.context, "{}: {fit:?}", case.what);
            assert!(
                fit.reason.contains(case.reason_has),
                "{}: {:?}",
                case.what,
                fit.reason
            );
        }
    }

    #[test]
    fn a_model_without_a_known_size_is_judged_after_download() {
        let model = entry("Q4_K_M", 28, 2, 128);
        let fit = assess(
            ModelFacts {
                entry: &model,
                file_bytes: None,
                downloaded: false,
            },
            &machine(16.0, 10.0, 100.0),
            Some(PROBE),
        );
        assert!(fit.reason.contains("not published"));
    }

    #[test]
    fn the_default_model_runs_well_on_this_class_of_machine() {
        let catalog = Catalog::builtin();
        let default = catalog.models().iter().find(|m| m.bundled).unwrap();
        let fit = assess(
            ModelFacts {
                entry: default,
                file_bytes: default.size_bytes,
                downloaded: true,
            },
            &machine(8.0, 4.0, 10.0),
            Some(SpeedProbe {
                weight_bytes_per_second: 15.0 * GB as f64,
            }),
        );
        assert_eq!(fit.verdict, Verdict::RunsWell, "{fit:?}");
        // 98 MB of Q4_1 is held as ~167 MB of Q8_0.
        assert!((160_000_000..175_000_000).contains(&fit.weights_in_memory_bytes));
    }

    #[test]
    fn sizes_read_like_a_shop_label() {
        assert_eq!(gigabytes(98_362_432), "99 MB");
        assert_eq!(gigabytes(1_930_000_000), "1.9 GB");
        assert_eq!(thousands(8192), "8,192");
        assert_eq!(thousands(512), "512");
    }
}
