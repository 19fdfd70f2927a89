//! Loading the local model into the facade, as the desktop app does: the person's chosen
//! model (`tokenwise models use`), else the embedded default.

use tokenwise_app::models::InstalledModel;
use tokenwise_app::Tokenwise;
use tokenwise_local::{LocalEngine, ModelSpec};

/// Loads the active model and installs it; when the chosen model cannot be loaded, the
/// default answers (the status's warnings say why).
pub async fn load_active(app: &Tokenwise) -> Result<(), String> {
    let model = app.active_local_model();
    match load(app, model.as_ref()).await {
        Err(error) if model.is_some() => {
            eprintln!("tokenwise: {error} The default model answers instead.");
            load(app, None).await
        }
        loaded => loaded,
    }
}

/// Loads `model` (`None`: the embedded default) unless the organization's policy does not
/// allow its file.
pub async fn load(app: &Tokenwise, model: Option<&InstalledModel>) -> Result<(), String> {
    let paths = app.paths();
    let file_name = ModelSpec::for_model(model).file_name;
    let fast_weights_dir = paths.fast_weights_dir();
    let load = LocalEngine::load_model(model, &paths.models_dir, &fast_weights_dir);
    app.load_local_model(model, &file_name, load).await
}
