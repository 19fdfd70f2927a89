//! The main window: shown and focused on request, and kept in the tray when closed.

use std::sync::Arc;

use tauri::{AppHandle, Manager, Window, WindowEvent};
use tokenwise_app::Tokenwise;

pub const MAIN: &str = "main";

/// Shows the main window, restored and focused.
pub fn show_main(handle: &AppHandle) {
    if let Some(window) = handle.get_webview_window(MAIN) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Hides the main window (the app stays in the tray).
pub fn hide_main(handle: &AppHandle) {
    if let Some(window) = handle.get_webview_window(MAIN) {
        let _ = window.hide();
    }
}

/// Closing the main window hides it: Tokenwise stays in the tray (Quit in the tray menu ends
/// it). The first time, a notification says so.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    if window.label() != MAIN {
        return;
    }
    api.prevent_close();
    let _ = window.hide();
    let Some(app) = window.try_state::<Arc<Tokenwise>>() else {
        return;
    };
    if app.first_close_to_tray() {
        std::thread::spawn(|| {
            let told = tokenwise_notify::DesktopNotifier::new().notice(
                "Tokenwise is still running",
                "It stays in the tray so quick summarize keeps working. Quit it from the tray \
                 menu.",
            );
            if let Err(error) = told {
                eprintln!("tokenwise: {error}");
            }
        });
    }
}
