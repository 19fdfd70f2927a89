//! Alert thresholds: whether a spend has reached a percent level of a limit.
//!
//! A threshold of `p` % is **reached** when `spent × 100 ≥ p × limit` and something has been
//! spent (`spent > 0`), computed exactly in 128-bit integers. The second condition only
//! matters for a zero limit, where any spend reaches every threshold and no spend reaches
//! none.
//!
//! "Once per window", also across restarts, is the store's `mark_alert_sent` (keyed by scope,
//! window start and threshold): the app scans each window's reached thresholds after every
//! settled spend and raises an alert only for those it marks for the first time, so a level
//! is announced once however the spend got there (one big step, several small ones, or a
//! restart in between).

use tokenwise_core::Money;

/// Whether `spent` has reached `pct` % of `limit` (see the module docs).
pub fn reached(limit: Money, spent: Money, pct: u32) -> bool {
    spent.micros() > 0
        && i128::from(spent.micros()) * 100 >= i128::from(pct) * i128::from(limit.micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The levels of `thresholds` that `spent` has reached against `limit`.
    fn levels(limit: i64, spent: i64, thresholds: &[u32]) -> Vec<u32> {
        thresholds
            .iter()
            .copied()
            .filter(|&pct| reached(Money::from_micros(limit), Money::from_micros(spent), pct))
            .collect()
    }

    const DEFAULT: [u32; 3] = [50, 80, 100];

    #[test]
    fn each_level_is_reached_at_exactly_its_percent() {
        // $10 limit.
        let limit = 10_000_000;
        assert_eq!(levels(limit, 4_999_999, &DEFAULT), Vec::<u32>::new());
        assert_eq!(levels(limit, 5_000_000, &DEFAULT), [50]);
        assert_eq!(levels(limit, 7_999_999, &DEFAULT), [50]);
        assert_eq!(levels(limit, 8_000_000, &DEFAULT), [50, 80]);
        assert_eq!(levels(limit, 10_000_000, &DEFAULT), [50, 80, 100]);
        assert_eq!(levels(1_000, 1_300, &[50, 120, 150]), [50, 120]);
    }

    #[test]
    fn zero_limits_and_nothing_spent() {
        assert_eq!(levels(0, 0, &DEFAULT), Vec::<u32>::new());
        assert_eq!(levels(0, 1, &DEFAULT), [50, 80, 100]);
        assert_eq!(levels(1_000, 0, &DEFAULT), Vec::<u32>::new());
        assert_eq!(levels(1_000, 1_000, &[]), Vec::<u32>::new());
    }

    #[test]
    fn no_overflow_at_the_extremes() {
        assert_eq!(levels(i64::MAX, i64::MAX, &[100, 1000]), [100]);
        assert!(reached(Money::from_micros(3), Money::from_micros(1), 33));
        assert!(!reached(Money::from_micros(3), Money::from_micros(1), 34));
    }
}
