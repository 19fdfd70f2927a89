//! [`BudgetWindow`]: one budget window a request is charged against — whose budget, which
//! calendar window, its limit and whether it is hard. The one definition the budget rules
//! (`tokenwise-quota` plans it), the ledger (`tokenwise-store` reserves against it) and the
//! facade pass between them, so nothing is converted field by field.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::money::Money;
use crate::scope::ScopeKind;

/// The length of a budget window (`"day"`, `"week"` or `"month"` in TOML, JSON, TypeScript
/// and the ledger's alert table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum WindowKind {
    Day,
    Week,
    Month,
}

impl WindowKind {
    /// Every kind, shortest first.
    pub const ALL: [WindowKind; 3] = [WindowKind::Day, WindowKind::Week, WindowKind::Month];

    /// `day`, `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Day => "day",
            WindowKind::Week => "week",
            WindowKind::Month => "month",
        }
    }

    /// The inverse of [`WindowKind::as_str`].
    pub fn parse(text: &str) -> Option<WindowKind> {
        WindowKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

impl std::fmt::Display for WindowKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One budget window a request is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BudgetWindow {
    pub scope_kind: ScopeKind,
    /// The request's id for `scope_kind`.
    pub scope_id: String,
    pub kind: WindowKind,
    /// Inclusive: the window's first instant (ms since the Unix epoch).
    pub start_ms: i64,
    /// Exclusive: the window's end, which is also when it resets.
    pub end_ms: i64,
    pub limit: Money,
    /// Hard windows refuse a reservation that does not fit; soft windows only warn.
    pub hard: bool,
}
