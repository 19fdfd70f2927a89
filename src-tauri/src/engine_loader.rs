//! Loads the local model after the window is up, and pushes engine status changes and model
//! download progress to the UI (`engine-status`, `model-download` events). A missing or
//! damaged model leaves the window open with the reason in the status line.

use std::sync::Arc;

use tauri::{AppHandle, Emitter};
use tokenwise_app::models::InstalledModel;
use tokenwise_app::Tokenwise;
use tokenwise_local::{LocalEngine, ModelSpec};

pub fn spawn(handle: AppHandle, app: Arc<Tokenwise>) {
    let mut status = app.watch_engine_status();
    let status_handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            let _ = status_handle.emit("engine-status", current);
        }
    });
    let mut downloads = app.watch_model_download();
    tauri::async_runtime::spawn(async move {
        while downloads.changed().await.is_ok() {
            let current = downloads.borrow_and_update().clone();
            let _ = handle.emit("model-download", current);
        }
    });
    tauri::async_runtime::spawn(async move {
        // A failure is recorded in the engine status (and a chosen model's in the warnings),
        // which the UI shows; a chosen model that fails leaves the default answering.
        let model = app.active_local_model();
        if load(&app, model.as_ref()).await.is_err() && model.is_some() {
            let _ = load(&app, None).await;
        }
    });
}

/// Loads `model` (`None`: the embedded default) and makes it the one that answers; on a
/// failed switch the previous model goes on answering.
pub async fn load(app: &Tokenwise, model: Option<&InstalledModel>) -> Result<(), String> {
    let paths = app.paths();
    let file_name = ModelSpec::for_model(model).file_name;
    let fast_weights_dir = paths.fast_weights_dir();
    let load = LocalEngine::load_model(model, &paths.models_dir, &fast_weights_dir);
    app.load_local_model(model, &file_name, load).await
}
