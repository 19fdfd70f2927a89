//! The Tokenwise desktop shell: the main window, the tray and its menu, the quick summary
//! popup and its global shortcut, IPC commands that delegate to [`tokenwise_app::Tokenwise`],
//! and the background load of the local model.
//!
//! No business logic lives here: each command is a line or two of delegation.
//!
//! One instance runs per user: starting the app again focuses the running one, and
//! `tokenwise-desktop --summarize-clipboard` (what `tokenwise summarize --clipboard` runs
//! while the app is up) opens its summary popup. `--hidden` (what "Start at login" runs)
//! starts it in the tray.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod engine_loader;
mod shortcut;
mod summary_window;
mod tray;
mod windows;

use std::sync::Arc;

use tauri::{AppHandle, Manager};
use tokenwise_app::{AppPaths, Tokenwise};
use tokenwise_core::SystemClock;

/// The argument that opens the summary popup (at start, or in the running instance).
const SUMMARIZE_FLAG: &str = "--summarize-clipboard";

/// The argument of a start at login: the app starts in the tray, its window hidden.
const HIDDEN_FLAG: &str = "--hidden";

/// The data folder's `desktop.lock`, held while the app runs (the CLI checks it).
struct RunningLock {
    _held: Option<std::fs::File>,
}

fn main() {
    // Before anything large is allocated: a long prompt's buffers go back to the system.
    tokenwise_malloc::return_large_buffers_to_the_system();
    // Before any thread exists (it sets an environment variable).
    tokenwise_local::confine_engine_cache(&AppPaths::from_env().engine_cache_dir());
    tokenwise_local::use_physical_cores();
    let summarize_at_start = std::env::args().any(|arg| arg == SUMMARIZE_FLAG);
    let hidden_at_start = std::env::args().any(|arg| arg == HIDDEN_FLAG);

    let result = tauri::Builder::default()
        // First: a second launch hands its arguments over here and exits before opening
        // anything.
        .plugin(tauri_plugin_single_instance::init(|handle, argv, _cwd| {
            if argv.iter().any(|arg| arg == SUMMARIZE_FLAG) {
                summary_window::show(handle);
            } else {
                windows::show_main(handle);
            }
        }))
        .plugin(shortcut::plugin())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_FLAG]),
        ))
        .manage(shortcut::ShortcutProblem::default())
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            let app = open_app()?;
            tauri_app.manage(RunningLock {
                _held: hold_running_lock(app.paths()),
            });
            tauri_app.manage(app.clone());
            tray::create(&handle)?;
            shortcut::apply(&handle);
            engine_loader::spawn(handle.clone(), app.clone());
            spawn_background_work(handle.clone(), app);
            if summarize_at_start {
                summary_window::show(&handle);
            }
            if hidden_at_start || summarize_at_start {
                windows::hide_main(&handle);
            } else {
                windows::show_main(&handle);
            }
            Ok(())
        })
        .on_window_event(windows::on_window_event)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::list_conversations,
            commands::conversation_messages,
            commands::rename_conversation,
            commands::delete_conversation,
            commands::plan_prompt,
            commands::provider_keys,
            commands::save_provider_key,
            commands::delete_provider_key,
            commands::budget_overview,
            commands::spend_overview,
            commands::ask,
            commands::stop_answer,
            commands::company_status,
            commands::connect_company,
            commands::disconnect_company,
            commands::sync_company,
            commands::connect_litellm,
            commands::policy_overview,
            commands::read_clipboard_text,
            commands::plan_summary,
            commands::summarize,
            commands::close_summary,
            commands::open_in_chat,
            commands::quick_summarize_status,
            commands::set_quick_summarize_shortcut,
            commands::set_selection_fallback,
            commands::start_at_login,
            commands::set_start_at_login,
            commands::set_cloud_paused,
            commands::models_screen,
            commands::pull_model,
            commands::stop_model_download,
            commands::use_model,
            commands::remove_model,
            commands::routing_adjustment,
            commands::record_routing_feedback,
            commands::reset_routing_choices,
        ])
        .build(tauri::generate_context!());
    match result {
        Ok(tauri_app) => tauri_app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                close_app(handle);
            }
        }),
        Err(error) => {
            eprintln!("Tokenwise stopped: {error}");
            std::process::exit(1);
        }
    }
}

/// Opens the history and the rest of the app state.
fn open_app() -> Result<Arc<Tokenwise>, Box<dyn std::error::Error>> {
    let app = tauri::async_runtime::block_on(Tokenwise::open(
        AppPaths::from_env(),
        Arc::new(SystemClock),
    ))
    .map_err(|error| format!("Tokenwise cannot start: {error}"))?;
    app.set_notifier(Arc::new(tokenwise_notify::DesktopNotifier::new()));
    let app = app.with_speed_probe(Arc::new(|| {
        tokenwise_local::probe::weight_bytes_per_second().map_err(|error| error.to_string())
    }));
    Ok(Arc::new(app))
}

/// Locks `desktop.lock` for as long as the app runs; `None` when it cannot (the CLI then
/// prints its summaries itself, which is harmless).
fn hold_running_lock(paths: &AppPaths) -> Option<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(paths.desktop_lock_file())
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

/// Budget alerts at start; the company's quota pulled now and every minute (or the policy's
/// interval) with the outbox pushed; chats the policy says not to keep deleted; the tray's
/// budget line refreshed after each sync.
fn spawn_background_work(handle: AppHandle, app: Arc<Tokenwise>) {
    // Thresholds crossed while the app was closed are announced once at start.
    let alerts = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(error) = alerts.check_budget_alerts().await {
            eprintln!("tokenwise: budget alerts: {error}");
        }
    });
    tauri::async_runtime::spawn(async move {
        loop {
            if let Err(error) = app.enforce_history_policy(false).await {
                eprintln!("tokenwise: chat history policy: {error}");
            }
            if let Err(error) = app.sync_company().await {
                eprintln!("tokenwise: company sync: {error}");
            }
            // Another laptop's spend can cross a shared window's threshold.
            if let Err(error) = app.check_budget_alerts().await {
                eprintln!("tokenwise: budget alerts: {error}");
            }
            tray::refresh(&handle);
            let interval = app.sync_interval_ms().unsigned_abs();
            tokio::time::sleep(std::time::Duration::from_millis(interval)).await;
        }
    });
}

/// On exit: chats the policy says not to keep are deleted and the database is closed.
fn close_app(handle: &AppHandle) {
    let Some(app) = handle.try_state::<Arc<Tokenwise>>() else {
        return;
    };
    let app = app.inner().clone();
    tauri::async_runtime::block_on(async {
        if let Err(error) = app.enforce_history_policy(true).await {
            eprintln!("tokenwise: chat history policy: {error}");
        }
        app.close().await;
    });
}
