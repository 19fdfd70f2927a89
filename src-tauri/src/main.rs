//! The Tokenwise desktop shell: one window, IPC commands that delegate to
//! [`tokenwise_app::Tokenwise`], and the background load of the local model.
//!
//! No business logic lives here: each command is a line or two of delegation.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod engine_loader;

use std::sync::Arc;

use tauri::Manager;
use tokenwise_app::{AppPaths, Tokenwise};
use tokenwise_core::SystemClock;

fn main() {
    // Before any thread exists (it sets an environment variable).
    tokenwise_local::confine_engine_cache(&AppPaths::from_env().engine_cache_dir());
    let app = tauri::async_runtime::block_on(Tokenwise::open(
        AppPaths::from_env(),
        Arc::new(SystemClock),
    ))
    .unwrap_or_else(|error| {
        eprintln!("Tokenwise cannot start: {error}");
        std::process::exit(1);
    });
    let app = Arc::new(app);
    app.set_notifier(Arc::new(tokenwise_notify::DesktopNotifier::new()));

    let closing = app.clone();
    let result = tauri::Builder::default()
        .manage(app.clone())
        .setup(move |tauri_app| {
            engine_loader::spawn(tauri_app.handle().clone(), app.clone());
            // Thresholds crossed while the app was closed are announced once at start.
            let alerts = app.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(error) = alerts.check_budget_alerts().await {
                    eprintln!("tokenwise: budget alerts: {error}");
                }
            });
            // The company's quota: pulled now and every minute (or the policy's interval),
            // outbox pushed with it; chats the policy says not to keep are deleted.
            let syncing = app.clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    if let Err(error) = syncing.enforce_history_policy(false).await {
                        eprintln!("tokenwise: chat history policy: {error}");
                    }
                    if let Err(error) = syncing.sync_company().await {
                        eprintln!("tokenwise: company sync: {error}");
                    }
                    // Another laptop's spend can cross a shared window's threshold.
                    if let Err(error) = syncing.check_budget_alerts().await {
                        eprintln!("tokenwise: budget alerts: {error}");
                    }
                    let interval = syncing.sync_interval_ms().unsigned_abs();
                    tokio::time::sleep(std::time::Duration::from_millis(interval)).await;
                }
            });
            if let Some(window) = tauri_app.get_webview_window("main") {
                let _ = window.set_focus();
            }
            Ok(())
        })
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
        ])
        .build(tauri::generate_context!());
    match result {
        Ok(tauri_app) => tauri_app.run(move |_, event| {
            if let tauri::RunEvent::Exit = event {
                tauri::async_runtime::block_on(async {
                    if let Err(error) = closing.enforce_history_policy(true).await {
                        eprintln!("tokenwise: chat history policy: {error}");
                    }
                    closing.close().await;
                });
            }
        }),
        Err(error) => {
            eprintln!("Tokenwise stopped: {error}");
            std::process::exit(1);
        }
    }
}
