//! Quick summarize's settings: on or off, its global shortcut, the selection fallback — the
//! organization's policy over the person's own choices, which are kept in
//! `desktop-settings.json` in the data folder.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;

/// The shortcut when neither the person nor the policy chose one.
pub const DEFAULT_SHORTCUT: &str = "Ctrl+Alt+S";

/// The person's own desktop settings, as saved. Unknown or missing fields take defaults, so a
/// file from another version still loads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct DesktopSettings {
    /// `None`: the default shortcut; `Some("")`: no shortcut.
    pub quick_summarize_shortcut: Option<String>,
    /// Summarize Linux's PRIMARY selection when the clipboard is empty.
    pub selection_fallback: Option<bool>,
    /// The person has been told that closing the window keeps Tokenwise in the tray.
    pub told_about_tray: bool,
    /// The catalog id of the local model the person switched to; `None`: the default.
    pub local_model: Option<String>,
}

/// Quick summarize as it applies now, for the tray, the shortcut and Settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct QuickSummarizeSettings {
    pub enabled: bool,
    /// Why it is off, when it is (the organization's policy).
    pub disabled_reason: Option<String>,
    /// The global shortcut, e.g. "Ctrl+Alt+S"; `None`: no shortcut.
    pub shortcut: Option<String>,
    /// The organization's policy sets the shortcut; Settings cannot change it.
    pub shortcut_locked: bool,
    pub selection_fallback: bool,
}

impl Tokenwise {
    /// The person's saved desktop settings; defaults when the file is missing or unreadable
    /// (a broken file only loses these preferences, it is rewritten on the next change).
    pub fn desktop_settings(&self) -> DesktopSettings {
        let path = self.paths().desktop_settings_file();
        tokenwise_core::config_file::read_config_text(&path, 64 * 1024)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub(crate) fn save_desktop_settings(&self, settings: &DesktopSettings) -> Result<(), AppError> {
        let path = self.paths().desktop_settings_file();
        let text = serde_json::to_string_pretty(settings)
            .map_err(|error| AppError::InvalidInput(error.to_string()))?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|error| {
                AppError::InvalidInput(format!(
                    "The setting could not be saved to {}: {error}",
                    path.display()
                ))
            })
    }

    /// Quick summarize as it applies now: the policy's managed values win.
    pub fn quick_summarize_settings(&self) -> QuickSummarizeSettings {
        let policy = self.policy();
        let own = self.desktop_settings();
        let enabled = policy.policy.quick_summarize_enabled.unwrap_or(true);
        let managed_shortcut = policy
            .setting("quick_summarize_shortcut")
            .filter(|setting| setting.locked)
            .and_then(|setting| setting.value.as_str().map(str::to_string));
        let shortcut_locked = managed_shortcut.is_some();
        let shortcut = managed_shortcut
            .or(own.quick_summarize_shortcut)
            .or_else(|| policy.policy.quick_summarize_shortcut.clone())
            .unwrap_or_else(|| DEFAULT_SHORTCUT.to_string());
        QuickSummarizeSettings {
            enabled,
            disabled_reason: (!enabled)
                .then(|| "Your organization has turned quick summarize off.".to_string()),
            shortcut: (enabled && !shortcut.trim().is_empty()).then_some(shortcut),
            shortcut_locked,
            selection_fallback: own.selection_fallback.unwrap_or(true),
        }
    }

    /// Changes the quick summarize shortcut (`None` or "": no shortcut); refused while the
    /// organization's policy sets it.
    pub fn set_quick_summarize_shortcut(&self, shortcut: Option<String>) -> Result<(), AppError> {
        if self.quick_summarize_settings().shortcut_locked {
            return Err(AppError::InvalidInput(
                "Your organization sets the quick summarize shortcut; it cannot be changed here."
                    .into(),
            ));
        }
        let mut settings = self.desktop_settings();
        settings.quick_summarize_shortcut =
            Some(shortcut.map(|s| s.trim().to_string()).unwrap_or_default());
        self.save_desktop_settings(&settings)
    }

    /// Whether an empty clipboard falls back to Linux's PRIMARY selection (the highlighted text).
    pub fn set_selection_fallback(&self, on: bool) -> Result<(), AppError> {
        let mut settings = self.desktop_settings();
        settings.selection_fallback = Some(on);
        self.save_desktop_settings(&settings)
    }

    /// True the first time it is called (ever, for this data folder): the moment to say that
    /// closing the window keeps Tokenwise running in the tray.
    pub fn first_close_to_tray(&self) -> bool {
        let mut settings = self.desktop_settings();
        if settings.told_about_tray {
            return false;
        }
        settings.told_about_tray = true;
        // Not saved (a full disk): it is said again next time, which is harmless.
        let _ = self.save_desktop_settings(&settings);
        true
    }

    /// Refuses when the organization's policy turned quick summarize off.
    pub(crate) fn check_quick_summarize_allowed(&self) -> Result<(), AppError> {
        match self.quick_summarize_settings().disabled_reason {
            Some(reason) => Err(AppError::NothingToSummarize(reason)),
            None => Ok(()),
        }
    }
}

/// Quick summarize for Settings: the settings and whether the shortcut actually works here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct QuickSummarizeStatus {
    pub settings: QuickSummarizeSettings,
    /// Why the shortcut does not work (Wayland, taken by another program, not a valid key
    /// combination) and what to do instead.
    pub shortcut_problem: Option<String>,
}

/// What to bind in the desktop's own keyboard settings where global shortcuts do not reach
/// apps: it opens the running app's summary popup.
pub const SHORTCUT_FALLBACK_COMMAND: &str = "tokenwise summarize --clipboard";

/// Why global shortcuts cannot work in this session, if they cannot: a Wayland session does
/// not deliver them to apps (tauri#3578). Takes `XDG_SESSION_TYPE` and `WAYLAND_DISPLAY`.
pub fn shortcut_session_problem(
    session_type: Option<&str>,
    wayland_display: Option<&str>,
) -> Option<String> {
    let wayland = session_type.is_some_and(|t| t.eq_ignore_ascii_case("wayland"))
        || wayland_display.is_some_and(|d| !d.is_empty());
    wayland.then(|| {
        format!(
            "This desktop runs Wayland, which does not pass global shortcuts to apps. Bind \
             `{SHORTCUT_FALLBACK_COMMAND}` to a key in your desktop's keyboard settings: it \
             opens this popup. The tray menu's Summarize clipboard works too."
        )
    })
}

/// Why the shortcut could not be registered: `detail` from the shortcut service.
pub fn shortcut_registration_problem(shortcut: &str, detail: &str) -> String {
    format!(
        "The shortcut {shortcut} could not be set up ({detail}). Another program may use it: \
         choose another in Settings, or bind `{SHORTCUT_FALLBACK_COMMAND}` in your desktop's \
         keyboard settings."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wayland_sessions_are_told_about_the_fallback_command() {
        assert!(shortcut_session_problem(Some("wayland"), None)
            .unwrap()
            .contains("tokenwise summarize --clipboard"));
        assert!(shortcut_session_problem(Some("x11"), Some("wayland-0")).is_some());
        assert_eq!(shortcut_session_problem(Some("x11"), None), None);
        assert_eq!(shortcut_session_problem(None, Some("")), None);
    }
}
