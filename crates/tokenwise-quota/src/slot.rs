//! Reloading the budget file without ever losing a good configuration.
//!
//! [`BudgetConfigSlot`] holds the configuration in use. A reload that fails (the file was
//! half-written by a sync, or IT pushed a typo) keeps the last good configuration and records
//! the error for the UI to show ("budgets.toml, line 12: …"); the next good reload replaces
//! both. The slot is pure: it takes the file's text (or the parse result) in;
//! [`load_file`] / [`BudgetConfigSlot::reload_file`] are thin helpers that read a file first.
//!
//! Before any configuration has loaded, [`BudgetConfigSlot::current`] is `None`: the app
//! decides what "no budgets known" means (the design: fail closed for cloud escalation when a
//! policy that should be there does not load).

use std::path::Path;

use crate::config::BudgetConfig;
use crate::error::QuotaError;

/// Reads and validates a budget file; the path names it in errors.
pub fn load_file(path: &Path) -> Result<BudgetConfig, QuotaError> {
    let file = path.display().to_string();
    let text = tokenwise_core::config_file::read_config_text(
        path,
        tokenwise_core::config_file::MAX_CONFIG_BYTES,
    )
    .map_err(|reason| QuotaError::Unreadable {
        file: file.clone(),
        reason,
    })?;
    BudgetConfig::parse(&text, &file)
}

/// The budget configuration in use, and the error of the last reload if it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetConfigSlot {
    current: Option<BudgetConfig>,
    last_error: Option<QuotaError>,
}

impl BudgetConfigSlot {
    /// An empty slot: no configuration yet.
    pub fn new() -> BudgetConfigSlot {
        BudgetConfigSlot::default()
    }

    /// A slot holding `config`.
    pub fn with_config(config: BudgetConfig) -> BudgetConfigSlot {
        BudgetConfigSlot {
            current: Some(config),
            last_error: None,
        }
    }

    /// Parses `text` (named `file_name` in errors) and makes it current if it is valid; if it
    /// is not, keeps the configuration in use and returns (and remembers) the error.
    pub fn reload(&mut self, text: &str, file_name: &str) -> Result<&BudgetConfig, QuotaError> {
        self.apply(BudgetConfig::parse(text, file_name))
    }

    /// [`BudgetConfigSlot::reload`] from a file; an unreadable file keeps the configuration
    /// in use too.
    pub fn reload_file(&mut self, path: &Path) -> Result<&BudgetConfig, QuotaError> {
        self.apply(load_file(path))
    }

    /// Takes a configuration loaded elsewhere (e.g. built from the quota server's snapshot
    /// with [`BudgetConfig::new`]): the same keep-the-last-good rule.
    pub fn apply(
        &mut self,
        loaded: Result<BudgetConfig, QuotaError>,
    ) -> Result<&BudgetConfig, QuotaError> {
        match loaded {
            Ok(config) => {
                self.last_error = None;
                Ok(self.current.insert(config))
            }
            Err(error) => {
                self.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// The configuration in use: the last one that loaded.
    pub fn current(&self) -> Option<&BudgetConfig> {
        self.current.as_ref()
    }

    /// Why the last reload failed; `None` after a successful one.
    pub fn last_error(&self) -> Option<&QuotaError> {
        self.last_error.as_ref()
    }

    /// True when the last reload failed, so the configuration in use (if any) is older than
    /// the file.
    pub fn is_stale(&self) -> bool {
        self.last_error.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
time_zone = "Europe/Berlin"

[identity]
user_id = "alice"

[[budget]]
scope = "user"
id = "alice"
window = "day"
limit_usd = "5.00"
"#;

    const BETTER: &str = r#"
time_zone = "Europe/Berlin"

[identity]
user_id = "alice"

[[budget]]
scope = "user"
id = "alice"
window = "day"
limit_usd = "7.50"
"#;

    #[test]
    fn a_failed_reload_keeps_the_last_good_config() {
        let mut slot = BudgetConfigSlot::new();
        assert!(slot.current().is_none() && !slot.is_stale());

        let limit = slot.reload(GOOD, "budgets.toml").unwrap().budgets()[0].limit;
        assert_eq!(limit.micros(), 5_000_000);

        let broken = GOOD.replace("Europe/Berlin", "Europe/Berln");
        let error = slot.reload(&broken, "budgets.toml").unwrap_err();
        assert_eq!(error.line(), Some(2));
        assert!(slot.is_stale());
        assert_eq!(slot.last_error(), Some(&error));
        assert_eq!(slot.current().unwrap().time_zone(), "Europe/Berlin");
        assert_eq!(
            slot.current().unwrap().budgets()[0].limit.micros(),
            5_000_000
        );

        slot.reload(BETTER, "budgets.toml").unwrap();
        assert!(!slot.is_stale() && slot.last_error().is_none());
        assert_eq!(
            slot.current().unwrap().budgets()[0].limit.micros(),
            7_500_000
        );
    }

    #[test]
    fn a_first_load_that_fails_leaves_the_slot_empty() {
        let mut slot = BudgetConfigSlot::new();
        assert!(slot.reload("time_zone = 3", "budgets.toml").is_err());
        assert!(slot.current().is_none() && slot.is_stale());
    }

    #[test]
    fn files_are_read_and_named() {
        let dir = std::env::temp_dir().join(format!("tokenwise-quota-slot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("budgets.toml");
        std::fs::write(&path, GOOD).unwrap();

        let mut slot = BudgetConfigSlot::new();
        let config = slot.reload_file(&path).unwrap();
        assert_eq!(config.source(), path.display().to_string());

        let missing = dir.join("missing.toml");
        let error = slot.reload_file(&missing).unwrap_err();
        assert_eq!(error.code(), "budget_config_unreadable");
        assert!(error
            .to_string()
            .starts_with(&missing.display().to_string()));
        assert!(slot.current().is_some() && slot.is_stale());

        std::fs::write(&path, "time_zone = \"UTC\"\n[identity]\nuser_id = \"\"\n").unwrap();
        let error = load_file(&path).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}, line 3: identity.user_id is empty; give the id the quota server uses",
                path.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
