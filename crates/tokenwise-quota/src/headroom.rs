//! The router's view of the budget: how much a request may still cost.
//!
//! [`Headroom`] implements [`tokenwise_core::BudgetHeadroom`] from the windows' statuses: the
//! least that remains in any **hard** window. Soft windows never limit (they only warn), so
//! with no hard window there is no limit (`None`). Negative when a hard window is overspent.
//!
//! The statuses are a snapshot. Asked about a later instant, a hard window that has ended by
//! then counts with its full limit (a new window has begun, with nothing spent in it yet that
//! the snapshot knows of). The store's reservation remains the authority: the router's check
//! only avoids offering what cannot be afforded.

use tokenwise_core::{BudgetHeadroom, Money};

use crate::status::BudgetStatus;

/// One hard window's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HardWindow {
    end_ms: i64,
    limit: Money,
    remaining: Money,
}

/// What the hard budget windows have left (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headroom {
    hard: Vec<HardWindow>,
}

impl Headroom {
    /// From the statuses of every window that applies to the request.
    pub fn from_statuses(statuses: &[BudgetStatus]) -> Headroom {
        Headroom {
            hard: statuses
                .iter()
                .filter(|status| status.hard)
                .map(|status| HardWindow {
                    end_ms: status.resets_at_ms,
                    limit: status.limit,
                    remaining: status.remaining,
                })
                .collect(),
        }
    }

    /// Whether any hard window applies.
    pub fn has_hard_limit(&self) -> bool {
        !self.hard.is_empty()
    }
}

impl BudgetHeadroom for Headroom {
    fn remaining(&self, now_ms: i64) -> Option<Money> {
        self.hard
            .iter()
            .map(|window| {
                if now_ms >= window.end_ms {
                    window.limit
                } else {
                    window.remaining
                }
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WindowKind;
    use crate::plan::WindowPlan;
    use crate::scope::ScopeKind;

    fn status(window_kind: WindowKind, limit: i64, spent: i64, hard: bool) -> BudgetStatus {
        let plan = WindowPlan {
            window: tokenwise_core::BudgetWindow {
                scope_kind: ScopeKind::User,
                scope_id: "alice".into(),
                kind: window_kind,
                start_ms: 0,
                end_ms: match window_kind {
                    WindowKind::Day => 1_000,
                    WindowKind::Week => 7_000,
                    WindowKind::Month => 30_000,
                },
                limit: Money::from_micros(limit),
                hard,
            },
            thresholds: vec![50, 80, 100],
        };
        BudgetStatus::new(&plan, Money::from_micros(spent), Money::ZERO)
    }

    #[test]
    fn the_tightest_hard_window_limits() {
        let statuses = [
            status(WindowKind::Day, 5_000_000, 1_000_000, true), // $4 left
            status(WindowKind::Month, 40_000_000, 37_500_000, true), // $2.50 left
            status(WindowKind::Week, 10_000_000, 9_900_000, false), // soft: $0.10 left
        ];
        let headroom = Headroom::from_statuses(&statuses);
        assert!(headroom.has_hard_limit());
        assert_eq!(headroom.remaining(500), Some(Money::from_micros(2_500_000)));
    }

    #[test]
    fn soft_windows_alone_do_not_limit() {
        let statuses = [status(WindowKind::Day, 1_000, 5_000, false)];
        let headroom = Headroom::from_statuses(&statuses);
        assert!(!headroom.has_hard_limit());
        assert_eq!(headroom.remaining(0), None);
        assert_eq!(Headroom::default().remaining(0), None);
    }

    #[test]
    fn overspent_is_negative_and_ended_windows_start_afresh() {
        let statuses = [
            status(WindowKind::Day, 1_000, 1_500, true),
            status(WindowKind::Month, 100_000, 20_000, true),
        ];
        let headroom = Headroom::from_statuses(&statuses);
        assert_eq!(headroom.remaining(999), Some(Money::from_micros(-500)));
        // The day has reset; the month still has 80 000 left, the new day its full 1 000.
        assert_eq!(headroom.remaining(1_000), Some(Money::from_micros(1_000)));
        // Both reset.
        assert_eq!(headroom.remaining(30_000), Some(Money::from_micros(1_000)));
    }

    #[test]
    fn the_router_uses_it() {
        let headroom = Headroom::from_statuses(&[status(WindowKind::Day, 1_000, 400, true)]);
        let dyn_headroom: &dyn BudgetHeadroom = &headroom;
        assert_eq!(dyn_headroom.remaining(10), Some(Money::from_micros(600)));
    }
}
