//! The global shortcut of quick summarize (default Ctrl+Alt+S): registered from the settings
//! in force (the policy's, else the person's), re-registered when Settings changes it. Where
//! it cannot work (Wayland, taken by another program) the reason is kept for Settings.

use std::sync::{Arc, Mutex};

use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, ShortcutState};
use tokenwise_app::quick_summarize::{
    shortcut_registration_problem, shortcut_session_problem, QuickSummarizeStatus,
};
use tokenwise_app::Tokenwise;

use crate::summary_window;

/// Why the shortcut does not work now, if it does not.
#[derive(Default)]
pub struct ShortcutProblem(Mutex<Option<String>>);

/// The plugin: any registered shortcut opens the summary popup (there is only one).
pub fn plugin() -> TauriPlugin<Wry> {
    tauri_plugin_global_shortcut::Builder::new()
        .with_handler(|handle, _shortcut, event| {
            if event.state() == ShortcutState::Pressed {
                summary_window::show(handle);
            }
        })
        .build()
}

/// (Re-)registers the shortcut of the settings in force and records any problem.
pub fn apply(handle: &AppHandle) {
    let Some(app) = handle.try_state::<Arc<Tokenwise>>() else {
        return;
    };
    let shortcuts = handle.global_shortcut();
    let _ = shortcuts.unregister_all();
    let settings = app.quick_summarize_settings();
    let session = shortcut_session_problem(
        std::env::var("XDG_SESSION_TYPE").ok().as_deref(),
        std::env::var("WAYLAND_DISPLAY").ok().as_deref(),
    );
    let problem = match settings.shortcut.as_deref() {
        None => None,
        Some(_) if session.is_some() => session,
        Some(shortcut) => shortcuts
            .register(shortcut)
            .err()
            .map(|error| shortcut_registration_problem(shortcut, &error.to_string())),
    };
    if let Some(problem) = &problem {
        eprintln!("tokenwise: {problem}");
    }
    let state = handle.state::<ShortcutProblem>();
    *state.0.lock().unwrap_or_else(|e| e.into_inner()) = problem;
    crate::tray::refresh(handle);
}

/// Quick summarize's settings and whether the shortcut works, for Settings.
pub fn status(handle: &AppHandle, app: &Tokenwise) -> QuickSummarizeStatus {
    let problem = handle
        .try_state::<ShortcutProblem>()
        .and_then(|state| state.0.lock().unwrap_or_else(|e| e.into_inner()).clone());
    QuickSummarizeStatus {
        settings: app.quick_summarize_settings(),
        shortcut_problem: problem,
    }
}
