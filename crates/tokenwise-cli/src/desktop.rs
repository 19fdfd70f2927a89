//! Handing quick summarize to the running desktop app: `tokenwise summarize --clipboard`
//! bound to a key (on Wayland, where apps get no global shortcuts) opens the app's popup.

use tokenwise_app::AppPaths;

/// Opens the running desktop app's summary popup; false when the app is not running (or
/// cannot be reached), and the caller prints the summary itself.
pub fn show_summary_popup() -> bool {
    if !desktop_app_running(&AppPaths::from_env()) || !has_display() {
        return false;
    }
    let Some(desktop) = desktop_binary() else {
        return false;
    };
    // The second instance hands `--summarize-clipboard` to the running one and exits.
    std::process::Command::new(desktop)
        .arg("--summarize-clipboard")
        .stdin(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether a desktop app holds the data folder's `desktop.lock`.
fn desktop_app_running(paths: &AppPaths) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .open(paths.desktop_lock_file())
    else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

fn has_display() -> bool {
    cfg!(not(target_os = "linux"))
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// `tokenwise-desktop` next to this program (both are installed in the same folder).
fn desktop_binary() -> Option<std::path::PathBuf> {
    let name = format!("tokenwise-desktop{}", std::env::consts::EXE_SUFFIX);
    let path = std::env::current_exe().ok()?.parent()?.join(name);
    path.is_file().then_some(path)
}
