//! `tokenwise models list|pull|use|rm`: which local models this laptop runs well, downloads
//! with progress and checks, the switch, and removal. The rules live in `tokenwise-models` and
//! the facade; this file prints.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use clap::{Args, Subcommand};
use tokenwise_models::{fit, probe_cache, Catalog, Hardware, Models, Progress, SpeedProbe};
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
    /// Answer from this model from now on (the desktop app switches too when it next starts;
    /// its Models screen switches at once). It is loaded once here to check it runs.
    Use {
        /// The model's id.
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
    let mut app = tokenwise_app::Tokenwise::open(
        paths.clone(),
        std::sync::Arc::new(tokenwise_core::SystemClock),
    )
    .await
    .map_err(|e| e.to_string())?;
    if let Some(path) = &args.catalog {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("Could not read the model catalog {}: {e}", path.display()))?;
        let catalog =
            Catalog::from_toml(&text, &path.display().to_string()).map_err(|e| e.to_string())?;
        app = app.with_model_catalog(catalog);
    }
    // The organization's catalog, when its policy sets one, wins over --catalog.
    let models = app.models();
    let result = match args.command {
        ModelsCommand::List { json } => {
            if let Some(problem) = app.model_catalog_problem() {
                eprintln!("tokenwise: {problem}");
            }
            list(&models, &paths, app.desktop_settings().local_model, json)
        }
        ModelsCommand::Pull { id } => match app.model_catalog_problem() {
            Some(problem) => Err(problem),
            None => {
                app.check_local_model(&models.entry(&id).map_err(|e| e.to_string())?.file)
                    .map_err(|e| e.to_string())?;
                pull(&models, &id).await
            }
        },
        ModelsCommand::Use { id } => use_model(&app, &models, &id).await,
        ModelsCommand::Rm { id } => {
            if app.desktop_settings().local_model.as_deref() == Some(id.as_str()) {
                Err(format!(
                    "`{id}` answers now; switch to another model first (`tokenwise models use ID`)."
                ))
            } else {
                remove(&models, &id)
            }
        }
    };
    app.close().await;
    result
}

/// The cached probe, or a fresh one (about a second, once per machine and build).
fn speed_probe(data_dir: &Path, hardware: &Hardware) -> Option<SpeedProbe> {
    let threads = tokenwise_models::hardware::engine_threads_here();
    let measured = probe_cache::load_or_measure(data_dir, hardware, threads, || {
        eprintln!("tokenwise: measuring this machine's speed (once)…");
        tokenwise_local::probe::weight_bytes_per_second().map_err(|error| error.to_string())
    });
    measured
        .map_err(|error| eprintln!("tokenwise: {error}; speeds are left out"))
        .ok()
}

/// `chosen`: the model saved by `tokenwise models use` (`None`: the bundled default).
fn list(
    models: &Models,
    paths: &tokenwise_app::AppPaths,
    chosen: Option<String>,
    json: bool,
) -> Result<(), String> {
    let hardware = Hardware::read(models.download_dir());
    let probe = speed_probe(&paths.data_dir, &hardware);
    let overview = models
        .overview(hardware, probe)
        .map_err(|e| e.to_string())?;
    let active = |row: &tokenwise_models::ModelRow| match &chosen {
        Some(id) => *id == row.id,
        None => row.bundled,
    };
    if json {
        let mut report = serde_json::to_value(&overview).map_err(|e| e.to_string())?;
        for (row, value) in overview.models.iter().zip(
            report["models"]
                .as_array_mut()
                .expect("models serialize as a list"),
        ) {
            value["active"] = active(row).into();
        }
        out!("{report:#}");
        return Ok(());
    }
    let hardware = &overview.hardware;
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
            overview.models_dir,
            fit::gigabytes(free)
        );
    }
    out!();
    for row in &overview.models {
        let have = if row.downloaded {
            "downloaded".to_string()
        } else if let Some(partial) = row.partial_bytes {
            format!("{} downloaded, resumable", fit::gigabytes(partial))
        } else if row.bundled {
            "not fetched (scripts/fetch-model.sh)".to_string()
        } else {
            "not downloaded".to_string()
        };
        out!(
            "{}{}  {} {} {}, {}",
            if active(row) { "* " } else { "" },
            row.id,
            row.name,
            row.quant,
            row.size_bytes
                .map(fit::gigabytes)
                .unwrap_or_else(|| "size unknown".into()),
            have
        );
        out!("    {}: {}", row.fit.verdict.label(), row.fit.reason);
        out!(
            "    answers {} prompts locally · {} · {}",
            row.local_reach.as_str(),
            row.licence,
            row.checksum.label()
        );
    }
    out!();
    out!("* answers now. Switch with `tokenwise models use ID`.");
    Ok(())
}

async fn pull(models: &Models, id: &str) -> Result<(), String> {
    let entry = models.entry(id).map_err(|e| e.to_string())?.clone();
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
    if let Some(url) = &entry.url {
        if models.file_path(&entry.file).is_none() {
            eprintln!("Downloading {} from {url}", entry.name);
        }
    }
    let result = models.pull(id, &client, show_progress, &cancel).await;
    let pulled = result.map_err(|e| {
        eprintln!();
        e.to_string()
    })?;
    if pulled.already_there {
        out!(
            "{} is already downloaded: {}",
            entry.name,
            pulled.path.display()
        );
        return Ok(());
    }
    eprintln!();
    if pulled.pinned {
        out!(
            "{} downloaded to {}. Its publisher states no checksum: sha256 {} is now pinned.",
            entry.name,
            pulled.path.display(),
            pulled.sha256
        );
    } else {
        out!(
            "{} downloaded to {}, sha256 verified.",
            entry.name,
            pulled.path.display()
        );
    }
    out!("Answer from it with `tokenwise models use {id}`.");
    Ok(())
}

async fn use_model(
    app: &tokenwise_app::Tokenwise,
    models: &Models,
    id: &str,
) -> Result<(), String> {
    let model = app.choose_local_model(id).map_err(|e| e.to_string())?;
    eprintln!("Loading it once to check that it runs…");
    crate::engine::load(app, model.as_ref()).await?;
    let context = match app.status().engine {
        tokenwise_core::EngineStatus::Ready { context_tokens, .. } => context_tokens,
        _ => 0,
    };
    let entry = models.entry(id).map_err(|e| e.to_string())?;
    out!(
        "{} answers from now on ({} tokens of context; it answers {} prompts locally).",
        entry.name,
        context,
        entry.local_reach.as_str()
    );
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

fn remove(models: &Models, id: &str) -> Result<(), String> {
    let entry = models.entry(id).map_err(|e| e.to_string())?.clone();
    let removed = models.remove(id).map_err(|e| e.to_string())?;
    if removed {
        out!(
            "Removed {} from {}.",
            entry.name,
            models.download_dir().display()
        );
    } else {
        out!("{} was not downloaded.", entry.name);
    }
    Ok(())
}
