//! The budget file as last read (re-read when it changes; a broken file keeps the last good
//! budgets), the floor under "now" for ledger times, and where alerts go. Owned by the facade;
//! the budget use cases in [`crate::budgets`] and [`crate::ledger`] read it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokenwise_notify::Notifier;
use tokenwise_quota::{BudgetConfig, BudgetConfigSlot, MonotonicNow};

/// The budget file as last read, and the floor under "now".
pub(crate) struct BudgetState {
    file: PathBuf,
    slot: Mutex<(BudgetConfigSlot, Option<SystemTime>)>,
    now_floor: Mutex<MonotonicNow>,
    notifier: Mutex<Option<Arc<dyn Notifier>>>,
}

impl BudgetState {
    pub(crate) fn new(file: PathBuf, latest_ledger_ms: Option<i64>) -> Self {
        let floor = latest_ledger_ms.map_or_else(MonotonicNow::new, MonotonicNow::starting_at);
        Self {
            file,
            slot: Mutex::new((BudgetConfigSlot::new(), None)),
            now_floor: Mutex::new(floor),
            notifier: Mutex::new(None),
        }
    }

    /// The current configuration, re-read when the file changed. A file that does not parse
    /// keeps the last good budgets; its problem is returned alongside.
    pub(crate) fn config(&self) -> (Option<BudgetConfig>, Option<String>) {
        let mut guard = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        let (slot, loaded_mtime) = &mut *guard;
        match std::fs::metadata(&self.file) {
            Ok(meta) => {
                let mtime = meta.modified().ok();
                if *loaded_mtime != mtime || mtime.is_none() {
                    *loaded_mtime = mtime;
                    let _ = slot.reload_file(&self.file);
                }
            }
            Err(_) => {
                // No file: no budgets (a deleted file removes them).
                *slot = BudgetConfigSlot::new();
                *loaded_mtime = None;
            }
        }
        (
            slot.current().cloned(),
            slot.last_error().map(|e| e.to_string()),
        )
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
