//! The budget file as last read, the floor under "now" for ledger times, and where alerts go.
//! Owned by the facade; the budget use cases in [`crate::budgets`] and [`crate::ledger`] read
//! it.
//!
//! The fail-closed rule: the file is re-read when it changes (a regular file of at most 1 MiB,
//! see `tokenwise_core::config_file`). A file that cannot be read or does not validate — or an
//! explicitly named file (`TOKENWISE_BUDGETS_FILE`) that does not exist — keeps the last good
//! budgets for the meter and **blocks cloud answers** until it is fixed ([`BudgetFile::config`]
//! returns the problem; the facade turns it into a block). The last good file is kept in the
//! data folder (`budgets.last-good.toml`), so a new process — the CLI, or the app after a
//! restart — has it too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokenwise_core::config_file::{read_config_text, MAX_CONFIG_BYTES};
use tokenwise_notify::Notifier;
use tokenwise_quota::{BudgetConfig, BudgetConfigSlot, MonotonicNow, QuotaError};

use crate::paths::write_private;

/// The last good budget file's copy, in the data folder.
pub const LAST_GOOD_FILE: &str = "budgets.last-good.toml";

/// The budget file as last read, and the floor under "now".
pub(crate) struct BudgetState {
    file: PathBuf,
    /// The file was named explicitly: its absence is a problem, not "no budgets".
    required: bool,
    /// Where the last good file's text is kept.
    last_good: PathBuf,
    slot: Mutex<(BudgetConfigSlot, Option<SystemTime>)>,
    now_floor: Mutex<MonotonicNow>,
    notifier: Mutex<Option<Arc<dyn Notifier>>>,
}

impl BudgetState {
    pub(crate) fn new(
        file: PathBuf,
        required: bool,
        data_dir: &Path,
        latest_ledger_ms: Option<i64>,
    ) -> Self {
        let floor = latest_ledger_ms.map_or_else(MonotonicNow::new, MonotonicNow::starting_at);
        Self {
            file,
            required,
            last_good: data_dir.join(LAST_GOOD_FILE),
            slot: Mutex::new((BudgetConfigSlot::new(), None)),
            now_floor: Mutex::new(floor),
            notifier: Mutex::new(None),
        }
    }

    /// The current configuration, re-read when the file changed, and the problem with the
    /// file if it has one. With a problem, the configuration is the last good one (from this
    /// process or, failing that, the copy in the data folder) and cloud answers are blocked.
    pub(crate) fn config(&self) -> (Option<BudgetConfig>, Option<String>) {
        let mut guard = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        let (slot, loaded_mtime) = &mut *guard;
        match std::fs::metadata(&self.file) {
            Ok(meta) => {
                let mtime = meta.modified().ok();
                if *loaded_mtime != mtime || mtime.is_none() {
                    *loaded_mtime = mtime;
                    self.reload(slot);
                }
            }
            Err(error) if self.required => {
                *loaded_mtime = None;
                let name = self.file.display().to_string();
                self.fall_back_to_last_good(slot);
                let _ = slot.apply(Err(QuotaError::Unreadable {
                    file: name,
                    reason: format!("it cannot be read ({error})"),
                }));
            }
            Err(_) => {
                // No file and none required: no budgets (a deleted file removes them).
                *slot = BudgetConfigSlot::new();
                *loaded_mtime = None;
            }
        }
        (
            slot.current().cloned(),
            slot.last_error().map(|error| {
                let problem = error.to_string();
                let stop = if problem.ends_with('.') { "" } else { "." };
                format!("{problem}{stop} Cloud answers are off until it is fixed.")
            }),
        )
    }

    /// Reads and validates the file into `slot`; a good file is also kept as the last good
    /// copy, a bad one falls back to that copy when this process has none.
    fn reload(&self, slot: &mut BudgetConfigSlot) {
        let name = self.file.display().to_string();
        let loaded = read_config_text(&self.file, MAX_CONFIG_BYTES)
            .map_err(|reason| QuotaError::Unreadable {
                file: name.clone(),
                reason,
            })
            .and_then(|text| BudgetConfig::parse(&text, &name).map(|config| (config, text)));
        match loaded {
            Ok((config, text)) => {
                let _ = slot.apply(Ok(config));
                // Best effort: without the copy, a later broken file in a new process blocks
                // cloud answers with no budgets shown, which still fails closed.
                if std::fs::read_to_string(&self.last_good).ok().as_deref() != Some(&text) {
                    if let Err(error) = write_private(&self.last_good, &text) {
                        eprintln!("tokenwise: could not keep the last good budget file: {error}");
                    }
                }
            }
            Err(error) => {
                self.fall_back_to_last_good(slot);
                let _ = slot.apply(Err(error));
            }
        }
    }

    /// Loads the kept last good copy when this process has no configuration yet.
    fn fall_back_to_last_good(&self, slot: &mut BudgetConfigSlot) {
        if slot.current().is_some() {
            return;
        }
        let name = format!("{} (last good copy)", self.file.display());
        if let Ok(text) = read_config_text(&self.last_good, MAX_CONFIG_BYTES) {
            if let Ok(config) = BudgetConfig::parse(&text, &name) {
                let _ = slot.apply(Ok(config));
            }
        }
    }

    /// The budget file's path.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// "Now" for budgets: `clock_ms`, but never earlier than a time already recorded.
    pub(crate) fn now(&self, clock_ms: i64) -> i64 {
        self.now_floor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(clock_ms)
    }

    pub(crate) fn set_notifier(&self, notifier: Arc<dyn Notifier>) {
        *self.notifier.lock().unwrap_or_else(|e| e.into_inner()) = Some(notifier);
    }

    pub(crate) fn notifier(&self) -> Option<Arc<dyn Notifier>> {
        self.notifier
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
