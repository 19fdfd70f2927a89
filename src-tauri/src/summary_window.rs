//! The quick summary popup: a small always-on-top window near the mouse pointer. The page
//! itself (`ui`, `#summary`) reads the clipboard and streams the summary when it opens and
//! each time it is asked again (`summary-requested`).

use tauri::{AppHandle, Emitter, Manager, PhysicalPosition, WebviewUrl, WebviewWindow};

pub const LABEL: &str = "summary";
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 420.0;

/// Opens the popup (or brings it back) and starts a summary of the clipboard.
pub fn show(handle: &AppHandle) {
    if let Some(window) = handle.get_webview_window(LABEL) {
        place_near_pointer(handle, &window);
        let _ = window.show();
        let _ = window.set_focus();
        let _ = handle.emit_to(LABEL, "summary-requested", ());
        return;
    }
    let built = tauri::WebviewWindowBuilder::new(
        handle,
        LABEL,
        WebviewUrl::App("index.html#summary".into()),
    )
    .title("Tokenwise · Quick summary")
    .inner_size(WIDTH, HEIGHT)
    .min_inner_size(320.0, 240.0)
    .always_on_top(true)
    .skip_taskbar(true)
    .focused(true)
    .build();
    match built {
        Ok(window) => place_near_pointer(handle, &window),
        Err(error) => eprintln!("tokenwise: could not open the summary popup: {error}"),
    }
}

/// Hides the popup (its page stops the summary first).
pub fn hide(handle: &AppHandle) {
    if let Some(window) = handle.get_webview_window(LABEL) {
        let _ = window.hide();
    }
}

/// Puts the popup under the mouse pointer, kept on the pointer's screen.
fn place_near_pointer(handle: &AppHandle, window: &WebviewWindow) {
    let Ok(pointer) = handle.cursor_position() else {
        return;
    };
    let scale = window.scale_factor().unwrap_or(1.0);
    let (width, height) = (WIDTH * scale, HEIGHT * scale);
    let (mut x, mut y) = (pointer.x - width / 2.0, pointer.y + 16.0);
    if let Ok(Some(monitor)) = handle.monitor_from_point(pointer.x, pointer.y) {
        let origin = monitor.position();
        let size = monitor.size();
        let right = f64::from(origin.x) + f64::from(size.width) - width;
        let bottom = f64::from(origin.y) + f64::from(size.height) - height;
        x = x.min(right).max(f64::from(origin.x));
        y = y.min(bottom).max(f64::from(origin.y));
    }
    let _ = window.set_position(PhysicalPosition::new(x, y));
}
