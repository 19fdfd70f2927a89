//! Loading the local model into the facade, as the desktop app does: the person's chosen
//! model (`tokenwise models use`), else the embedded default.

use tokenwise_app::models::InstalledModel;
use tokenwise_app::Tokenwise;
use tokenwise_local::{EngineSettings, LocalEngine, ModelSpec};

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
    let spec = ModelSpec::for_model(model);
    let settings = EngineSettings {
        max_context_tokens: model.and_then(|m| m.context_tokens),
        ..EngineSettings::with_fast_weights_in(&app.paths().fast_weights_dir())
    };
    // A downloaded model may live in the data folder (an installed app's models folder is
    // read-only); the default lives in the models folder.
    let models_dir = model.map_or_else(|| app.paths().models_dir.clone(), |m| m.dir.clone());
    app.load_local_model(
        model,
        &spec.file_name,
        LocalEngine::load(&models_dir, &spec, settings),
    )
    .await
}
