//! The budget meter: where each window stands, for the UI.
//!
//! A [`BudgetStatus`] is one window's limit, what has been spent (settled), what is reserved
//! (cloud calls under way), what remains, the percent used, a [`BudgetLevel`] and when the
//! window resets. *Used* is spent plus reserved: what the store checks a reservation against.
//!
//! # Levels
//!
//! | level | when |
//! |---|---|
//! | [`BudgetLevel::Over`] | used ≥ limit: nothing remains (a zero limit is always over) |
//! | [`BudgetLevel::Critical`] | used ≥ the *critical* threshold |
//! | [`BudgetLevel::Warn`] | used ≥ the *warn* threshold |
//! | [`BudgetLevel::Ok`] | otherwise |
//!
//! Both come from the window's alert thresholds below 100 % ([`level_thresholds`]): *warn* is
//! the lowest of them, *critical* the highest when there are at least two (the second-highest
//! of the default 50/80/100, i.e. 80 %). With fewer, the defaults fill in: warn 50 %,
//! critical 80 % (never below warn). "≥ p %" is exact integer arithmetic, as in
//! [`crate::thresholds::reached`].
//!
//! # Tightness
//!
//! [`tightest`] orders windows by the fraction of their limit that remains, smallest first
//! (a zero limit counts as nothing remaining; an overspent window as less than nothing), then
//! hard before soft, then by remaining amount: the first is the one to show on the meter.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use tokenwise_core::Money;
use ts_rs::TS;

use crate::calendar::{Window, WindowKind};
use crate::plan::WindowPlan;
use crate::scope::ScopeKind;
use crate::thresholds::reached;

/// Warn level when the thresholds give none.
pub const DEFAULT_WARN_PCT: u32 = 50;

/// Critical level when the thresholds give none.
pub const DEFAULT_CRITICAL_PCT: u32 = 80;

/// How full a window is, for the meter's colour (`"ok"`, `"warn"`, `"critical"`, `"over"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum BudgetLevel {
    Ok,
    Warn,
    Critical,
    Over,
}

/// Where one budget window stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BudgetStatus {
    pub scope_kind: ScopeKind,
    pub scope_id: String,
    pub window_kind: WindowKind,
    /// The window's first instant (ms since the Unix epoch).
    #[ts(type = "number")]
    pub start_ms: i64,
    /// When the window resets: its end (ms since the Unix epoch).
    #[ts(type = "number")]
    pub resets_at_ms: i64,
    pub limit: Money,
    /// Settled cost in the window.
    pub spent: Money,
    /// Held by cloud calls under way.
    pub reserved: Money,
    /// `limit − spent − reserved`; negative when overspent.
    pub remaining: Money,
    /// `(spent + reserved) × 100 / limit`, rounded down; 100 for a zero limit.
    pub percent_used: u32,
    pub level: BudgetLevel,
    /// Hard windows refuse requests that do not fit; soft windows warn.
    pub hard: bool,
    /// Alert thresholds in percent, ascending.
    pub thresholds: Vec<u32>,
}

impl BudgetStatus {
    /// The standing of `plan`'s window with `spent` settled and `reserved` held (the store's
    /// window totals).
    pub fn new(plan: &WindowPlan, spent: Money, reserved: Money) -> BudgetStatus {
        let used = spent.saturating_add(reserved);
        BudgetStatus {
            scope_kind: plan.window.scope_kind,
            scope_id: plan.window.scope_id.clone(),
            window_kind: plan.window.kind,
            start_ms: plan.window.start_ms,
            resets_at_ms: plan.window.end_ms,
            limit: plan.window.limit,
            spent,
            reserved,
            remaining: plan.window.limit.saturating_sub(used),
            percent_used: percent_used(plan.window.limit, used),
            level: level(plan.window.limit, used, &plan.thresholds),
            hard: plan.window.hard,
            thresholds: plan.thresholds.clone(),
        }
    }

    /// Spent plus reserved.
    pub fn used(&self) -> Money {
        self.spent.saturating_add(self.reserved)
    }

    /// The window's bounds.
    pub fn window(&self) -> Window {
        Window {
            kind: self.window_kind,
            start_ms: self.start_ms,
            end_ms: self.resets_at_ms,
        }
    }
}

/// `used × 100 / limit` rounded down, clamped to `0..=u32::MAX`; 100 for a zero limit.
pub fn percent_used(limit: Money, used: Money) -> u32 {
    if limit.micros() <= 0 {
        return 100;
    }
    let percent = i128::from(used.micros()) * 100 / i128::from(limit.micros());
    u32::try_from(percent.max(0)).unwrap_or(u32::MAX)
}

/// The warn and critical percent levels for `thresholds` (see the module docs).
pub fn level_thresholds(thresholds: &[u32]) -> (u32, u32) {
    let mut below: Vec<u32> = thresholds
        .iter()
        .copied()
        .filter(|&pct| pct < 100)
        .collect();
    below.sort_unstable();
    below.dedup();
    let warn = below.first().copied().unwrap_or(DEFAULT_WARN_PCT);
    let critical = match below.as_slice() {
        [_, .., last] => *last,
        _ => DEFAULT_CRITICAL_PCT.max(warn),
    };
    (warn, critical)
}

/// The level of a window with `used` of `limit` used (see the module docs).
pub fn level(limit: Money, used: Money, thresholds: &[u32]) -> BudgetLevel {
    let (warn, critical) = level_thresholds(thresholds);
    if used >= limit {
        BudgetLevel::Over
    } else if reached(limit, used, critical) {
        BudgetLevel::Critical
    } else if reached(limit, used, warn) {
        BudgetLevel::Warn
    } else {
        BudgetLevel::Ok
    }
}

/// Orders `a` before `b` when `a` is tighter (see the module docs).
pub fn compare_tightness(a: &BudgetStatus, b: &BudgetStatus) -> Ordering {
    let (a_num, a_den) = remaining_fraction(a);
    let (b_num, b_den) = remaining_fraction(b);
    (a_num * b_den)
        .cmp(&(b_num * a_den))
        .then_with(|| b.hard.cmp(&a.hard))
        .then_with(|| a.remaining.cmp(&b.remaining))
        .then_with(|| a.scope_kind.cmp(&b.scope_kind))
        .then_with(|| a.window_kind.cmp(&b.window_kind))
        .then_with(|| a.scope_id.cmp(&b.scope_id))
}

/// The statuses, tightest first.
pub fn tightest(statuses: &[BudgetStatus]) -> Vec<&BudgetStatus> {
    let mut sorted: Vec<&BudgetStatus> = statuses.iter().collect();
    sorted.sort_by(|a, b| compare_tightness(a, b));
    sorted
}

/// `remaining / limit` as a fraction with a positive denominator, in i128 (products of two
/// i64 fit).
fn remaining_fraction(status: &BudgetStatus) -> (i128, i128) {
    let remaining = i128::from(status.remaining.micros());
    let limit = i128::from(status.limit.micros());
    if limit > 0 {
        (remaining, limit)
    } else {
        // A zero limit: nothing remains, or less than nothing when something was spent.
        (remaining.signum().min(0), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(limit: i64, hard: bool, thresholds: &[u32]) -> WindowPlan {
        WindowPlan {
            window: tokenwise_core::BudgetWindow {
                scope_kind: ScopeKind::User,
                scope_id: "alice".into(),
                kind: WindowKind::Day,
                start_ms: 1_000,
                end_ms: 2_000,
                limit: Money::from_micros(limit),
                hard,
            },
            thresholds: thresholds.to_vec(),
        }
    }

    fn status(limit: i64, spent: i64, reserved: i64) -> BudgetStatus {
        BudgetStatus::new(
            &plan(limit, true, &[50, 80, 100]),
            Money::from_micros(spent),
            Money::from_micros(reserved),
        )
    }

    #[test]
    fn a_status_adds_up() {
        let s = status(10_000_000, 3_000_000, 1_500_000);
        assert_eq!(s.remaining, Money::from_micros(5_500_000));
        assert_eq!(s.used(), Money::from_micros(4_500_000));
        assert_eq!(s.percent_used, 45);
        assert_eq!(s.level, BudgetLevel::Ok);
        assert_eq!(s.resets_at_ms, 2_000);
        assert_eq!(s.window().duration_ms(), 1_000);
        let over = status(10_000_000, 11_000_000, 0);
        assert_eq!(over.remaining, Money::from_micros(-1_000_000));
        assert_eq!(over.percent_used, 110);
        assert_eq!(over.level, BudgetLevel::Over);
    }

    #[test]
    fn levels_follow_the_thresholds() {
        let levels: Vec<_> = [0, 499, 500, 799, 800, 999, 1_000, 5_000]
            .into_iter()
            .map(|used| status(1_000, used, 0).level)
            .collect();
        use BudgetLevel::*;
        assert_eq!(levels, [Ok, Ok, Warn, Warn, Critical, Critical, Over, Over]);
        // Reservations count.
        assert_eq!(status(1_000, 400, 100).level, Warn);
        assert_eq!(status(1_000, 0, 1_000).level, Over);
    }

    #[test]
    fn level_thresholds_come_from_the_list_or_the_defaults() {
        assert_eq!(level_thresholds(&[50, 80, 100]), (50, 80));
        assert_eq!(level_thresholds(&[25, 50, 90, 100]), (25, 90));
        assert_eq!(level_thresholds(&[90, 60, 100, 150]), (60, 90));
        assert_eq!(level_thresholds(&[60, 100]), (60, 80));
        assert_eq!(level_thresholds(&[90]), (90, 90));
        assert_eq!(level_thresholds(&[100]), (50, 80));
        assert_eq!(level_thresholds(&[]), (50, 80));
        let custom = |used| level(Money::from_micros(100), Money::from_micros(used), &[25, 90]);
        assert_eq!(custom(24), BudgetLevel::Ok);
        assert_eq!(custom(25), BudgetLevel::Warn);
        assert_eq!(custom(89), BudgetLevel::Warn);
        assert_eq!(custom(90), BudgetLevel::Critical);
        assert_eq!(custom(100), BudgetLevel::Over);
    }

    #[test]
    fn zero_limits_are_full() {
        let zero = status(0, 0, 0);
        assert_eq!(zero.level, BudgetLevel::Over);
        assert_eq!(zero.percent_used, 100);
        assert_eq!(zero.remaining, Money::ZERO);
        assert_eq!(
            percent_used(Money::from_micros(10), Money::from_micros(-5)),
            0
        );
        assert_eq!(percent_used(Money::from_micros(1), Money::MAX), u32::MAX);
    }

    #[test]
    fn tightest_is_the_smallest_remaining_fraction() {
        let roomy = status(100_000_000, 10_000_000, 0); // 90 % left, $90
        let small_but_fresh = status(1_000_000, 0, 0); // 100 % left, $1
        let nearly_gone = status(50_000_000, 45_000_000, 0); // 10 % left, $5
        let overspent = status(10_000_000, 12_000_000, 0); // -20 %
        let zero = status(0, 0, 0); // 0 %
        let statuses = vec![
            roomy.clone(),
            small_but_fresh.clone(),
            nearly_gone.clone(),
            overspent.clone(),
            zero.clone(),
        ];
        let order: Vec<_> = tightest(&statuses).into_iter().cloned().collect();
        assert_eq!(
            order,
            [overspent, zero, nearly_gone, roomy, small_but_fresh]
        );

        // Equal fractions: hard first, then the smaller amount.
        let soft = BudgetStatus::new(
            &plan(1_000, false, &[]),
            Money::from_micros(500),
            Money::ZERO,
        );
        let hard = BudgetStatus::new(
            &plan(1_000, true, &[]),
            Money::from_micros(500),
            Money::ZERO,
        );
        let hard_small =
            BudgetStatus::new(&plan(100, true, &[]), Money::from_micros(50), Money::ZERO);
        let statuses = vec![soft.clone(), hard.clone(), hard_small.clone()];
        let order: Vec<_> = tightest(&statuses).into_iter().cloned().collect();
        assert_eq!(order, [hard_small, hard, soft]);
        assert!(tightest(&[]).is_empty());
    }

    #[test]
    fn json_is_camel_case() {
        let json = serde_json::to_value(status(10, 5, 0)).unwrap();
        for key in [
            "scopeKind",
            "scopeId",
            "windowKind",
            "startMs",
            "resetsAtMs",
            "percentUsed",
            "remaining",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        assert_eq!(json["level"], "warn");
        assert_eq!(json["scopeKind"], "user");
        assert_eq!(json["windowKind"], "day");
    }
}
