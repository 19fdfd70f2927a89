//! Alert thresholds: which percent levels of a limit a spend has newly crossed.
//!
//! A threshold of `p` % is **reached** when `spent × 100 ≥ p × limit` and something has been
//! spent (`spent > 0`), computed exactly in 128-bit integers. The second condition only
//! matters for a zero limit, where any spend reaches every threshold and no spend reaches
//! none. A threshold is **crossed** by a change from `spent_before` to `spent_after` when it is
//! reached after but not before; a spend that goes down (a released reservation) crosses
//! nothing.
//!
//! Each threshold is reported at most once per call. "At most once per window", also across
//! restarts, is the store's `mark_alert_sent` (keyed by scope, window start and threshold): the
//! app raises an alert only for crossed thresholds it marks for the first time.

use tokenwise_core::Money;

/// Whether `spent` has reached `pct` % of `limit` (see the module docs).
pub fn reached(limit: Money, spent: Money, pct: u32) -> bool {
    spent.micros() > 0
        && i128::from(spent.micros()) * 100 >= i128::from(pct) * i128::from(limit.micros())
}

/// The thresholds (in percent) newly reached when a window's spend goes from `spent_before`
/// to `spent_after`, ascending, each once.
pub fn crossed_thresholds(
    limit: Money,
    spent_before: Money,
    spent_after: Money,
    thresholds: &[u32],
) -> Vec<u32> {
    let mut crossed: Vec<u32> = thresholds
        .iter()
        .copied()
        .filter(|&pct| reached(limit, spent_after, pct) && !reached(limit, spent_before, pct))
        .collect();
    crossed.sort_unstable();
    crossed.dedup();
    crossed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crossed(limit: i64, before: i64, after: i64, thresholds: &[u32]) -> Vec<u32> {
        crossed_thresholds(
            Money::from_micros(limit),
            Money::from_micros(before),
            Money::from_micros(after),
            thresholds,
        )
    }

    const DEFAULT: [u32; 3] = [50, 80, 100];

    #[test]
    fn thresholds_are_crossed_once_at_their_exact_level() {
        // $10 limit.
        let limit = 10_000_000;
        assert_eq!(crossed(limit, 0, 4_999_999, &DEFAULT), Vec::<u32>::new());
        assert_eq!(crossed(limit, 0, 5_000_000, &DEFAULT), [50]);
        assert_eq!(
            crossed(limit, 5_000_000, 7_000_000, &DEFAULT),
            Vec::<u32>::new()
        );
        assert_eq!(crossed(limit, 7_000_000, 8_000_000, &DEFAULT), [80]);
        assert_eq!(crossed(limit, 8_000_000, 10_000_000, &DEFAULT), [100]);
        assert_eq!(
            crossed(limit, 10_000_000, 12_000_000, &DEFAULT),
            Vec::<u32>::new()
        );
    }

    #[test]
    fn one_big_step_crosses_several_in_order() {
        assert_eq!(crossed(1_000, 0, 5_000, &DEFAULT), [50, 80, 100]);
        assert_eq!(crossed(1_000, 600, 1_000, &[100, 80, 50, 80]), [80, 100]);
        assert_eq!(crossed(1_000, 0, 1_300, &[50, 120]), [50, 120]);
    }

    #[test]
    fn going_down_crosses_nothing() {
        assert_eq!(crossed(1_000, 1_000, 0, &DEFAULT), Vec::<u32>::new());
        assert_eq!(crossed(1_000, 900, 850, &DEFAULT), Vec::<u32>::new());
    }

    #[test]
    fn zero_limits_and_nothing_spent() {
        assert_eq!(crossed(0, 0, 0, &DEFAULT), Vec::<u32>::new());
        assert_eq!(crossed(0, 0, 1, &DEFAULT), [50, 80, 100]);
        assert_eq!(crossed(1_000, 0, 0, &DEFAULT), Vec::<u32>::new());
        assert_eq!(crossed(1_000, 0, 1_000, &[]), Vec::<u32>::new());
    }

    #[test]
    fn no_overflow_at_the_extremes() {
        assert_eq!(crossed(i64::MAX, 0, i64::MAX, &[100, 1000]), [100]);
        assert!(reached(Money::from_micros(3), Money::from_micros(1), 33));
        assert!(!reached(Money::from_micros(3), Money::from_micros(1), 34));
    }
}
