//! Money and prices, in integer micro-dollars: no floats anywhere in accounting.
//!
//! - [`Money`] is a signed count of micro-dollars (1 µ$ = 10⁻⁶ USD). `i64` holds ±9.2 trillion
//!   dollars, far beyond any budget; arithmetic is checked or saturating, never wrapping.
//! - [`Price`] is what a model charges per million tokens read and written.
//!   [`Price::cost`] turns token counts into [`Money`], rounding **up** to the next micro-dollar.
//!
//! Rounding happens in exactly two places: [`Price::cost`] (up, once per request) and
//! [`Money`]'s `Display` (to a readable number of digits, for people only).

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Micro-dollars in one dollar.
pub const MICROS_PER_DOLLAR: i64 = 1_000_000;

/// Tokens in the "per million tokens" unit prices are quoted in.
pub const TOKENS_PER_MTOK: i64 = 1_000_000;

/// An amount of money in micro-dollars (10⁻⁶ USD); negative for overspend or refunds.
///
/// Serialised as a plain integer count of micro-dollars (`12000` is $0.012), both in JSON and
/// in TypeScript (`number`: exact up to ±9 billion dollars).
///
/// `Display` rounds for reading: at least two decimals and two significant digits, trailing
/// zeros past the cents trimmed, e.g. `$12.35`, `$0.40`, `$0.012`, `$0.003`, `-$1.00`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS,
)]
// A newtype struct: serde writes the bare integer.
#[ts(export, type = "number")]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);
    pub const MAX: Money = Money(i64::MAX);
    pub const MIN: Money = Money(i64::MIN);

    /// An amount of micro-dollars.
    pub const fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    /// Whole cents, e.g. `Money::from_cents(40)` is $0.40. Saturates at the range's ends.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents.saturating_mul(10_000))
    }

    /// Whole dollars. Saturates at the range's ends.
    pub const fn from_dollars(dollars: i64) -> Money {
        Money(dollars.saturating_mul(MICROS_PER_DOLLAR))
    }

    /// The amount in micro-dollars.
    pub const fn micros(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `None` on overflow.
    pub const fn checked_add(self, other: Money) -> Option<Money> {
        match self.0.checked_add(other.0) {
            Some(sum) => Some(Money(sum)),
            None => None,
        }
    }

    /// `None` on overflow.
    pub const fn checked_sub(self, other: Money) -> Option<Money> {
        match self.0.checked_sub(other.0) {
            Some(difference) => Some(Money(difference)),
            None => None,
        }
    }

    /// Clamps at [`Money::MAX`] / [`Money::MIN`] instead of overflowing.
    pub const fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    /// Clamps at [`Money::MAX`] / [`Money::MIN`] instead of overflowing.
    pub const fn saturating_sub(self, other: Money) -> Money {
        Money(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let micros = self.0.unsigned_abs();
        // Fewest decimals (2..=6) that still show two significant digits.
        let decimals = (2u32..=6)
            .find(|&d| micros >= 10u64.pow(7 - d))
            .unwrap_or(6);
        let unit = 10u128.pow(6 - decimals);
        // Round half away from zero, in u128 so i64::MIN's magnitude cannot overflow.
        let rounded = (u128::from(micros) + unit / 2) / unit;
        let scale = 10u128.pow(decimals);
        let whole = rounded / scale;
        let mut fraction = format!("{:0width$}", rounded % scale, width = decimals as usize);
        while fraction.len() > 2 && fraction.ends_with('0') {
            fraction.pop();
        }
        write!(f, "{sign}${whole}.{fraction}")
    }
}

/// What a model charges, per million tokens, for reading the prompt and writing the answer.
///
/// Serialised as `{ "inputPerMtok": micros, "outputPerMtok": micros }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Price {
    /// Price of one million prompt (input) tokens.
    pub input_per_mtok: Money,
    /// Price of one million answer (output) tokens.
    pub output_per_mtok: Money,
}

impl Price {
    /// A model that costs nothing (the local one).
    pub const FREE: Price = Price {
        input_per_mtok: Money::ZERO,
        output_per_mtok: Money::ZERO,
    };

    pub const fn per_mtok(input: Money, output: Money) -> Price {
        Price {
            input_per_mtok: input,
            output_per_mtok: output,
        }
    }

    pub const fn is_free(&self) -> bool {
        self.input_per_mtok.is_zero() && self.output_per_mtok.is_zero()
    }

    /// The cost of one request reading `tokens_in` and writing `tokens_out` tokens.
    ///
    /// Computed exactly in 128-bit integers as
    /// `(tokens_in × input_per_mtok + tokens_out × output_per_mtok) / 1 000 000`, then rounded
    /// **up** to the next whole micro-dollar, once for the whole request: an estimate or a
    /// charge is never below the exact price, and at most one micro-dollar above it. (Negative
    /// prices, which a validated catalog never has, round towards +∞ as well.) Results beyond
    /// the range of [`Money`] saturate.
    pub fn cost(&self, tokens_in: u32, tokens_out: u32) -> Money {
        let exact_times_mtok = i128::from(tokens_in) * i128::from(self.input_per_mtok.micros())
            + i128::from(tokens_out) * i128::from(self.output_per_mtok.micros());
        let micros = div_ceil(exact_times_mtok, i128::from(TOKENS_PER_MTOK));
        Money(micros.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    }
}

/// Integer division rounding towards +∞ (for a positive divisor).
fn div_ceil(numerator: i128, divisor: i128) -> i128 {
    -((-numerator).div_euclid(divisor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_keeps_cents_and_two_significant_digits() {
        let cases = [
            (0, "$0.00"),
            (1, "$0.000001"),
            (450, "$0.00045"),
            (1_234, "$0.0012"),
            (3_000, "$0.003"),
            (9_999, "$0.01"),
            (12_000, "$0.012"),
            (12_345, "$0.012"),
            (99_999, "$0.10"),
            (100_000, "$0.10"),
            (400_000, "$0.40"),
            (520_000, "$0.52"),
            (1_000_000, "$1.00"),
            (12_345_678, "$12.35"),
            (12_344_999, "$12.34"),
            (1_234_567_890_000, "$1234567.89"),
            (-400_000, "-$0.40"),
            (-3_000, "-$0.003"),
            (i64::MAX, "$9223372036854.78"),
            (i64::MIN, "-$9223372036854.78"),
        ];
        for (micros, expected) in cases {
            assert_eq!(Money::from_micros(micros).to_string(), expected, "{micros}");
        }
    }

    #[test]
    fn constructors_agree() {
        assert_eq!(Money::from_cents(40), Money::from_micros(400_000));
        assert_eq!(Money::from_dollars(3), Money::from_micros(3_000_000));
        assert_eq!(Money::from_dollars(i64::MAX), Money::MAX);
        assert_eq!(Money::default(), Money::ZERO);
        assert!(Money::ZERO.is_zero() && !Money::ZERO.is_negative());
        assert!(Money::from_micros(-1).is_negative());
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        let a = Money::from_micros(5);
        let b = Money::from_micros(7);
        assert_eq!(a.checked_add(b), Some(Money::from_micros(12)));
        assert_eq!(a.checked_sub(b), Some(Money::from_micros(-2)));
        assert_eq!(Money::MAX.checked_add(Money::from_micros(1)), None);
        assert_eq!(Money::MIN.checked_sub(Money::from_micros(1)), None);
    }

    #[test]
    fn saturating_arithmetic_clamps() {
        let one = Money::from_micros(1);
        assert_eq!(Money::MAX.saturating_add(one), Money::MAX);
        assert_eq!(Money::MIN.saturating_sub(one), Money::MIN);
        assert_eq!(
            Money::from_cents(40).saturating_sub(Money::from_cents(52)),
            Money::from_cents(-12)
        );
    }

    #[test]
    fn money_is_a_plain_integer_in_json() {
        let money = Money::from_micros(12_000);
        assert_eq!(serde_json::to_string(&money).unwrap(), "12000");
        assert_eq!(
            serde_json::from_str::<Money>("-5").unwrap(),
            Money::from_micros(-5)
        );
        let price = Price::per_mtok(Money::from_micros(150_000), Money::from_micros(600_000));
        assert_eq!(
            serde_json::to_string(&price).unwrap(),
            r#"{"inputPerMtok":150000,"outputPerMtok":600000}"#
        );
    }

    #[test]
    fn cost_is_exact_when_it_divides() {
        // gpt-4o-mini list price: $0.15 in, $0.60 out per million tokens.
        let price = Price::per_mtok(Money::from_micros(150_000), Money::from_micros(600_000));
        assert_eq!(price.cost(1_000_000, 0), Money::from_cents(15));
        assert_eq!(price.cost(0, 1_000_000), Money::from_cents(60));
        // 1000 × 0.15 + 500 × 0.60 = 150 + 300 µ$.
        assert_eq!(price.cost(1_000, 500), Money::from_micros(450));
        assert_eq!(price.cost(0, 0), Money::ZERO);
    }

    #[test]
    fn cost_rounds_the_whole_request_up_once() {
        let price = Price::per_mtok(Money::from_micros(150_000), Money::from_micros(600_000));
        // One input token: 0.15 µ$ → 1 µ$.
        assert_eq!(price.cost(1, 0), Money::from_micros(1));
        // 3 in + 1 out = 0.45 + 0.60 = 1.05 µ$ → 2 µ$.
        assert_eq!(price.cost(3, 1), Money::from_micros(2));
        // 2 in + 1 out = 0.30 + 0.60 = 0.90 µ$ → 1 µ$ (rounding each part up would give 2).
        assert_eq!(price.cost(2, 1), Money::from_micros(1));
        // Never below exact, at most one micro-dollar above it.
        for (tokens_in, tokens_out) in [(7, 3), (12_345, 678), (999_999, 1), (1, 999_999)] {
            let cost = price.cost(tokens_in, tokens_out).micros() as i128;
            let exact_times_mtok = tokens_in as i128 * 150_000 + tokens_out as i128 * 600_000;
            assert!(cost * 1_000_000 >= exact_times_mtok);
            assert!((cost - 1) * 1_000_000 < exact_times_mtok);
        }
    }

    #[test]
    fn free_price_costs_nothing_and_huge_costs_saturate() {
        assert!(Price::FREE.is_free());
        assert_eq!(Price::FREE.cost(u32::MAX, u32::MAX), Money::ZERO);
        let absurd = Price::per_mtok(Money::MAX, Money::MAX);
        assert!(!absurd.is_free());
        assert_eq!(absurd.cost(u32::MAX, u32::MAX), Money::MAX);
    }

    #[test]
    fn negative_prices_round_towards_positive_infinity() {
        let refund = Price::per_mtok(Money::from_micros(-150_000), Money::ZERO);
        // -0.15 µ$ → 0 µ$.
        assert_eq!(refund.cost(1, 0), Money::ZERO);
        // -1.05 µ$ → -1 µ$.
        assert_eq!(refund.cost(7, 0), Money::from_micros(-1));
    }
}
