//! Loading the default local model into the facade, as the desktop app does.

use tokenwise_app::Tokenwise;
use tokenwise_local::{LocalEngine, DEFAULT_MODEL};

/// Loads the default model from the app's models folder and installs it, unless the
/// organization's policy does not allow its file.
pub async fn load_default(app: &Tokenwise) -> Result<(), String> {
    let models_dir = app.paths().models_dir.clone();
    let fast_weights_dir = app.paths().fast_weights_dir();
    app.load_allowed_engine(
        DEFAULT_MODEL.file_name,
        DEFAULT_MODEL.display_name,
        LocalEngine::load_default(&models_dir, &fast_weights_dir),
    )
    .await
}
