//! "A clock that jumps backwards does not reopen a closed window."
//!
//! Budget windows are computed from the wall clock. If a user set the clock back a day, a day
//! window that had filled up would appear empty again. [`MonotonicNow`] prevents that: it
//! remembers the latest instant it has seen and never answers with an earlier one, so windows
//! only ever move forward.
//!
//! The app **persists** [`MonotonicNow::latest_ms`] (next to the ledger) after each observation
//! that changed it, and restores it with [`MonotonicNow::starting_at`] on start-up; otherwise a
//! restart with the clock set back would forget. (The ledger's newest `created_at_ms` is a
//! suitable value to restore from, too.)
//!
//! The trade-off: a clock that jumps *forward* by mistake carries the budget windows forward
//! with it until real time catches up; effective time then stands still. That errs towards
//! new windows opening early, never towards a closed window reopening, and the quota server
//! (which has its own clock) stays the authority on company-wide spend.

/// The latest instant seen; answers with no earlier instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonotonicNow {
    latest_ms: Option<i64>,
}

impl MonotonicNow {
    /// Nothing seen yet: the first observation is taken as is.
    pub fn new() -> MonotonicNow {
        MonotonicNow::default()
    }

    /// Resumes from a persisted latest instant.
    pub fn starting_at(latest_ms: i64) -> MonotonicNow {
        MonotonicNow {
            latest_ms: Some(latest_ms),
        }
    }

    /// Takes the clock's reading `now_ms` and returns the effective time: `max(latest, now)`.
    /// The latest instant moves forward with it.
    pub fn observe(&mut self, now_ms: i64) -> i64 {
        let effective = self.latest_ms.map_or(now_ms, |latest| latest.max(now_ms));
        self.latest_ms = Some(effective);
        effective
    }

    /// The effective time for `now_ms` without recording it.
    pub fn peek(&self, now_ms: i64) -> i64 {
        self.latest_ms.map_or(now_ms, |latest| latest.max(now_ms))
    }

    /// The latest instant seen: what the app persists.
    pub fn latest_ms(&self) -> Option<i64> {
        self.latest_ms
    }

    /// How far `now_ms` is behind the latest instant seen (0 when it is not): how far the
    /// clock has been set back, for a warning.
    pub fn behind_by_ms(&self, now_ms: i64) -> i64 {
        self.latest_ms
            .map_or(0, |latest| latest.saturating_sub(now_ms).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Calendar, WindowKind};

    #[test]
    fn time_never_goes_backwards() {
        let mut now = MonotonicNow::new();
        assert_eq!(now.latest_ms(), None);
        assert_eq!(now.observe(1_000), 1_000);
        assert_eq!(now.observe(2_000), 2_000);
        // The clock is set back: effective time stays.
        assert_eq!(now.observe(500), 2_000);
        assert_eq!(now.behind_by_ms(500), 1_500);
        assert_eq!(now.observe(1_999), 2_000);
        // Real time catches up and passes.
        assert_eq!(now.observe(2_001), 2_001);
        assert_eq!(now.behind_by_ms(2_001), 0);
        assert_eq!(now.latest_ms(), Some(2_001));
        assert_eq!(now.peek(10), 2_001);
        assert_eq!(now.peek(5_000), 5_000);
        assert_eq!(now.latest_ms(), Some(2_001));
    }

    #[test]
    fn a_restored_instant_survives_a_restart() {
        let mut before = MonotonicNow::new();
        before.observe(86_400_000 * 3);
        let persisted = before.latest_ms().unwrap();
        let mut after = MonotonicNow::starting_at(persisted);
        assert_eq!(after.observe(86_400_000), persisted);
        assert_eq!(MonotonicNow::new().behind_by_ms(i64::MIN), 0);
        assert_eq!(
            MonotonicNow::starting_at(i64::MAX).behind_by_ms(i64::MIN),
            i64::MAX
        );
    }

    #[test]
    fn a_closed_day_window_does_not_reopen() {
        let calendar = Calendar::utc();
        let day = 86_400_000;
        let mut now = MonotonicNow::new();
        // Day 10 is spent; the clock moves on to day 11 …
        let first = calendar
            .window(WindowKind::Day, now.observe(10 * day + 5))
            .unwrap();
        let second = calendar
            .window(WindowKind::Day, now.observe(11 * day + 5))
            .unwrap();
        assert_eq!(first.end_ms, second.start_ms);
        // … and is set back to day 10: the window stays day 11.
        let after_jump = calendar
            .window(WindowKind::Day, now.observe(10 * day + 7))
            .unwrap();
        assert_eq!(after_jump, second);
    }
}
