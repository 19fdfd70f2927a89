//! `tokenwise models list|pull|rm`: which local models this laptop runs well, downloads with
//! progress and checks, and removal. The rules live in `tokenwise-models`; this file prints.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::{Args, Subcommand};
use tokenwise_models::{
    download, fit, inventory, probe_cache, Catalog, DownloadRequest, Hardware, ModelFacts, Pins,
    Progress, SpeedProbe,
};
use tokio_util::sync::CancellationToken;

use crate::output::out;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// A catalog file to use instead of the built-in one (an internal mirror, a shorter list).
    #[arg(long, env = "TOKENWISE_MODEL_CATALOG", global = true)]
    catalog: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// This machine, and each catalog model with its size, licence and fit verdict.
    List {
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog model: progress, resume of an interrupted download, sha256 check.
    Pull {
        /// The model's id (see `tokenwise models list`).
        id: String,
    },
    /// Delete a downloaded model file and any partial download of it.
    Rm {
        /// The model's id.
        id: String,
    },
}

pub async fn run(args: ModelsArgs) -> Result<(), String> {
    let paths = tokenwise_app::AppPaths::from_env();
    let catalog = match &args.catalog {
        None => Catalog::builtin(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("Could not read the model catalog {}: {e}", path.display()))?;
            Catalog::from_toml(&text, &path.display().to_string()).map_err(|e| e.to_string())?
        }
    };
    match args.command {
        ModelsCommand::List { json } => list(&catalog, &paths, json),
        ModelsCommand::Pull { id } => pull(&catalog, &paths.models_dir, &id).await,
        ModelsCommand::Rm { id } => remove(&catalog, &paths.models_dir, &id),
    }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The cached probe, or a fresh one (about a second, once per machine and build).
fn speed_probe(data_dir: &Path, hardware: &Hardware) -> Option<SpeedProbe> {
    if let Some(probe) = probe_cache::load(data_dir, hardware, threads()) {
        return Some(probe);
    }
    eprintln!("tokenwise: measuring this machine's speed (once)…");
    match tokenwise_local::probe::weight_bytes_per_second() {
        Ok(rate) => {
            let probe = SpeedProbe {
                weight_bytes_per_second: rate,
            };
            probe_cache::save(data_dir, hardware, threads(), probe);
            Some(probe)
        }
        Err(error) => {
            eprintln!("tokenwise: {error}; speeds are left out");
            None
        }
    }
}

fn list(catalog: &Catalog, paths: &tokenwise_app::AppPaths, json: bool) -> Result<(), String> {
    let hardware = Hardware::read(&paths.models_dir);
    let probe = speed_probe(&paths.data_dir, &hardware);
    let pins = Pins::load(&paths.models_dir).map_err(|e| e.to_string())?;
    let states = inventory(catalog, &paths.models_dir);
    let rows: Vec<_> = states
        .iter()
        .map(|state| {
            let fit = fit::assess(
                ModelFacts {
                    entry: state.entry,
                    file_bytes: state.size_bytes(),
                    downloaded: state.downloaded(),
                },
                &hardware,
                probe,
            );
            (state, fit)
        })
        .collect();
    if json {
        let models: Vec<_> = rows
            .iter()
            .map(|(state, fit)| {
                serde_json::json!({
                    "id": state.entry.id,
                    "name": state.entry.name,
                    "parameters": state.entry.parameters,
                    "quant": state.entry.quant,
                    "licence": state.entry.licence,
                    "local_reach": state.entry.local_reach,
                    "size_bytes": state.size_bytes(),
                    "downloaded": state.downloaded(),
                    "partial_bytes": state.partial_bytes,
                    "checksum": checksum_state(state.entry, &pins),
                    "fit": fit,
                })
            })
            .collect();
        let report = serde_json::json!({
            "hardware": hardware,
            "weight_bytes_per_second": probe.map(|p| p.weight_bytes_per_second),
            "models_dir": paths.models_dir,
            "models": models,
        });
        out!("{report:#}");
        return Ok(());
    }
    out!(
        "This machine: {} memory ({} free now), {} cores ({} threads), {}{}",
        fit::gigabytes(hardware.total_memory_bytes),
        fit::gigabytes(hardware.available_memory_bytes),
        hardware.physical_cores,
        hardware.logical_cores,
        hardware.cpu_brand,
        match hardware.on_battery {
            Some(true) => ", on battery",
            _ => "",
        }
    );
    out!(
        "Vector instructions: CPU {}; this build uses {}",
        if hardware.cpu_simd.is_empty() {
            "none found".to_string()
        } else {
            hardware.cpu_simd.join(", ")
        },
        hardware.build_simd
    );
    if let Some(free) = hardware.free_disk_bytes {
        out!(
            "Models folder: {} ({} free)",
            paths.models_dir.display(),
            fit::gigabytes(free)
        );
    }
    out!();
    for (state, fit) in &rows {
        let entry = state.entry;
        let have = if state.downloaded() {
            "downloaded".to_string()
        } else if let Some(partial) = state.partial_bytes {
            format!("{} downloaded, resumable", fit::gigabytes(partial))
        } else if entry.bundled {
            "not fetched (scripts/fetch-model.sh)".to_string()
        } else {
            "not downloaded".to_string()
        };
        out!(
            "{}  {} {} {}, {}",
            entry.id,
            entry.name,
            entry.quant,
            state
                .size_bytes()
                .map(fit::gigabytes)
                .unwrap_or_else(|| "size unknown".into()),
            have
        );
        out!("    {}: {}", fit.verdict.label(), fit.reason);
        out!(
            "    answers {} prompts locally · {} · {}",
            entry.local_reach.as_str(),
            entry.licence,
            checksum_state(entry, &pins)
        );
    }
    Ok(())
}

fn checksum_state(entry: &tokenwise_models::CatalogEntry, pins: &Pins) -> String {
    match (&entry.sha256, pins.get(&entry.file)) {
        (Some(_), _) => "checksum published".into(),
        (None, Some(_)) => "checksum pinned on first download".into(),
        (None, None) => "checksum will be pinned on first download".into(),
    }
}

async fn pull(catalog: &Catalog, models_dir: &Path, id: &str) -> Result<(), String> {
    let entry = catalog.get(id).map_err(|e| e.to_string())?;
    let Some(url) = &entry.url else {
        return Err(tokenwise_models::ModelsError::NotDownloadable { id: id.into() }.to_string());
    };
    let mut pins = Pins::load(models_dir).map_err(|e| e.to_string())?;
    if models_dir.join(&entry.file).is_file() {
        out!(
            "{} is already downloaded: {}",
            entry.name,
            models_dir.join(&entry.file).display()
        );
        return Ok(());
    }
    let request = DownloadRequest {
        url: url.clone(),
        models_dir: models_dir.to_path_buf(),
        file_name: entry.file.clone(),
        // A checksum pinned by an earlier download of the same file counts as published.
        expected_sha256: entry
            .sha256
            .clone()
            .or_else(|| pins.get(&entry.file).map(str::to_string)),
        expected_size: entry.size_bytes,
        stall_timeout: Duration::from_secs(60),
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .user_agent(concat!("tokenwise/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        crate::signals::termination().await;
        on_signal.cancel();
    });
    eprintln!("Downloading {} from {url}", entry.name);
    let result = download(
        &client,
        &request,
        |folder| Hardware::read(folder).free_disk_bytes,
        show_progress,
        &cancel,
    )
    .await;
    eprintln!();
    let done = result.map_err(|e| e.to_string())?;
    if done.pinned {
        pins.pin(&entry.file, &done.sha256)
            .map_err(|e| e.to_string())?;
        out!(
            "{} downloaded to {}. Its publisher states no checksum: sha256 {} is now pinned.",
            entry.name,
            done.path.display(),
            done.sha256
        );
    } else {
        out!(
            "{} downloaded to {}, sha256 verified.",
            entry.name,
            done.path.display()
        );
    }
    Ok(())
}

fn show_progress(progress: Progress) {
    let done = fit::gigabytes(progress.downloaded_bytes);
    let line = match progress.total_bytes {
        Some(total) => format!(
            "{done} of {} ({:.0} %), {}/s, {} left",
            fit::gigabytes(total),
            progress.downloaded_bytes as f64 * 100.0 / total.max(1) as f64,
            fit::gigabytes(progress.bytes_per_second as u64),
            progress
                .eta_seconds
                .map(|s| format!("{}:{:02}", s / 60, s % 60))
                .unwrap_or_else(|| "?".into())
        ),
        None => format!(
            "{done}, {}/s",
            fit::gigabytes(progress.bytes_per_second as u64)
        ),
    };
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r{line:<60}");
    let _ = stderr.flush();
}

fn remove(catalog: &Catalog, models_dir: &Path, id: &str) -> Result<(), String> {
    let entry = catalog.get(id).map_err(|e| e.to_string())?;
    if entry.bundled {
        return Err(format!(
            "{} is the default model Tokenwise runs; it is not removed.",
            entry.name
        ));
    }
    let file = models_dir.join(&entry.file);
    let partial = tokenwise_models::download::partial_path(models_dir, &entry.file);
    let mut removed = false;
    for path in [&file, &partial] {
        match std::fs::remove_file(path) {
            Ok(()) => removed = true,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(format!("Could not delete {}: {error}", path.display())),
        }
    }
    let mut pins = Pins::load(models_dir).map_err(|e| e.to_string())?;
    pins.unpin(&entry.file).map_err(|e| e.to_string())?;
    if removed {
        out!("Removed {} from {}.", entry.name, models_dir.display());
    } else {
        out!("{} was not downloaded.", entry.name);
    }
    Ok(())
}
