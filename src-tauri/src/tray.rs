//! The tray icon and its menu: Summarize clipboard, Open Tokenwise, what is left of the
//! tightest budget, Pause cloud, Quit. On Linux the tray (AppIndicator) has no click events,
//! so everything is in the menu; elsewhere a left click opens the summary popup.

use std::sync::Arc;

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use tokenwise_app::Tokenwise;

use crate::{summary_window, windows};

const SUMMARIZE: &str = "summarize";
const OPEN: &str = "open";
const BUDGET: &str = "budget";
const PAUSE_CLOUD: &str = "pause-cloud";
const QUIT: &str = "quit";

/// The menu entries that change while the app runs.
pub struct TrayMenu {
    summarize: MenuItem<Wry>,
    budget: MenuItem<Wry>,
    pause_cloud: CheckMenuItem<Wry>,
}

/// Creates the tray icon and its menu; the menu is kept in the app's state for [`refresh`].
pub fn create(handle: &AppHandle) -> tauri::Result<()> {
    let summarize =
        MenuItem::with_id(handle, SUMMARIZE, "Summarize clipboard", true, None::<&str>)?;
    let open = MenuItem::with_id(handle, OPEN, "Open Tokenwise", true, None::<&str>)?;
    // Information, not an action.
    let budget = MenuItem::with_id(handle, BUDGET, "Budget: …", false, None::<&str>)?;
    let pause_cloud = CheckMenuItem::with_id(
        handle,
        PAUSE_CLOUD,
        "Pause cloud",
        true,
        false,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(handle, QUIT, "Quit Tokenwise", true, None::<&str>)?;
    let menu = Menu::with_items(
        handle,
        &[
            &summarize,
            &open,
            &PredefinedMenuItem::separator(handle)?,
            &budget,
            &pause_cloud,
            &PredefinedMenuItem::separator(handle)?,
            &quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id("tokenwise")
        .tooltip("Tokenwise")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                summary_window::show(tray.app_handle());
            }
        });
    if let Some(icon) = handle.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(handle)?;
    handle.manage(TrayMenu {
        summarize,
        budget,
        pause_cloud,
    });
    refresh(handle);
    Ok(())
}

fn on_menu_event(handle: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        SUMMARIZE => summary_window::show(handle),
        OPEN => windows::show_main(handle),
        PAUSE_CLOUD => {
            if let (Some(app), Some(menu)) = (
                handle.try_state::<Arc<Tokenwise>>(),
                handle.try_state::<TrayMenu>(),
            ) {
                let paused = menu.pause_cloud.is_checked().unwrap_or(!app.cloud_paused());
                app.set_cloud_paused(paused);
            }
            refresh(handle);
        }
        QUIT => handle.exit(0),
        _ => {}
    }
}

/// Re-reads what the menu shows: the budget line, the pause state, the shortcut and whether
/// quick summarize is allowed. Runs in the background; cheap enough for after every answer.
pub fn refresh(handle: &AppHandle) {
    let handle = handle.clone();
    tauri::async_runtime::spawn(async move {
        let (Some(app), Some(menu)) = (
            handle.try_state::<Arc<Tokenwise>>(),
            handle.try_state::<TrayMenu>(),
        ) else {
            return;
        };
        let budget = match app.budget_overview().await {
            Ok(overview) => overview.headline(),
            Err(error) => format!("Budget unknown: {error}"),
        };
        let _ = menu.budget.set_text(budget);
        let _ = menu.pause_cloud.set_checked(app.cloud_paused());
        let quick = app.quick_summarize_settings();
        let label = match &quick.shortcut {
            Some(shortcut) if quick.enabled => format!("Summarize clipboard ({shortcut})"),
            _ => "Summarize clipboard".to_string(),
        };
        let _ = menu.summarize.set_text(label);
        let _ = menu.summarize.set_enabled(quick.enabled);
    });
}
