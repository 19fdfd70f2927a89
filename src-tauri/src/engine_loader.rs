//! Loads the local model after the window is up, and pushes engine status changes to the UI
//! as `engine-status` events. A missing or damaged model leaves the window open with the
//! reason in the status line.

use std::sync::Arc;

use tauri::{AppHandle, Emitter};
use tokenwise_app::Tokenwise;
use tokenwise_local::{LocalEngine, DEFAULT_MODEL};

pub fn spawn(handle: AppHandle, app: Arc<Tokenwise>) {
    let mut status = app.watch_engine_status();
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            let _ = handle.emit("engine-status", current);
        }
    });
    tauri::async_runtime::spawn(async move {
        let models_dir = app.paths().models_dir.clone();
        let fast_weights_dir = app.paths().fast_weights_dir();
        // A failure is recorded in the engine status, which the UI shows.
        let _ = app
            .load_allowed_engine(
                DEFAULT_MODEL.file_name,
                DEFAULT_MODEL.display_name,
                LocalEngine::load_default(&models_dir, &fast_weights_dir),
            )
            .await;
    });
}
