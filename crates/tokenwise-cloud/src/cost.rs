//! Turning what a provider reports into [`Money`]: the gateway's cost header, or usage × price.

use tokenwise_core::{Money, Price};

use crate::Usage;

/// The header in which a LiteLLM proxy reports what a request cost, in dollars.
pub const LITELLM_COST_HEADER: &str = "x-litellm-response-cost";

/// Parses a decimal dollar amount as a gateway writes it (`"0.000123"`, `"1.5e-05"`, `"2"`)
/// into micro-dollars, **exactly** in integers (no floats), rounding any fraction of a
/// micro-dollar **up** — the same direction as [`Price::cost`], so a charge is never below
/// what the gateway reported and at most one micro-dollar above it.
///
/// `None` for anything that is not a finite, non-negative decimal number within [`Money`]'s
/// range (`"nan"`, `"None"`, `"-0.1"`, `""`, more than 38 significant digits).
pub fn parse_dollars(text: &str) -> Option<Money> {
    let text = text.trim();
    let text = text.strip_prefix('+').unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (mantissa, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // value = digits × 10^(exponent − fraction.len()) dollars
    //       = digits × 10^(exponent − fraction.len() + 6) micro-dollars.
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 38 {
        return None;
    }
    let value: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let shift = i64::from(exponent) - fraction.len() as i64 + 6;
    let micros: u128 = if shift >= 0 {
        let factor = 10u128.checked_pow(u32::try_from(shift).ok()?)?;
        value.checked_mul(factor)?
    } else {
        match 10u128.checked_pow(u32::try_from(-shift).ok()?) {
            Some(divisor) => value.div_ceil(divisor),
            // 10^-shift exceeds u128, so it exceeds value too: a positive fraction of a µ$.
            None => u128::from(value > 0),
        }
    };
    i64::try_from(micros).ok().map(Money::from_micros)
}

/// The cost of a request from its reported usage and the catalog price
/// ([`Price::cost`]: exact, rounded up once). Use it when the endpoint sends no cost header
/// (OpenRouter, vLLM, Ollama, a provider's own API, or a LiteLLM stream without it).
pub fn cost_from_usage(price: Price, usage: Usage) -> Money {
    price.cost(usage.prompt_tokens, usage.completion_tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_scientific_dollars_exactly() {
        let cases = [
            ("0", 0),
            ("0.0", 0),
            ("1", 1_000_000),
            ("2.5", 2_500_000),
            ("0.000123", 123),
            (".5", 500_000),
            ("3.", 3_000_000),
            ("1.5e-05", 15),
            ("1.5E-05", 15),
            ("6e-06", 6),
            ("1e+2", 100_000_000),
            (" 0.012 ", 12_000),
            ("+0.25", 250_000),
            // Fractions of a micro-dollar round up.
            ("0.0000001", 1),
            ("3.0000000001", 3_000_001),
            ("2.9e-07", 1),
            ("1e-300", 1),
            ("0e-300", 0),
            ("0.0000010000", 1),
        ];
        for (text, micros) in cases {
            assert_eq!(
                parse_dollars(text),
                Some(Money::from_micros(micros)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_finite_non_negative_amount() {
        for text in [
            "",
            " ",
            ".",
            "-0.1",
            "nan",
            "NaN",
            "inf",
            "None",
            "1,5",
            "0x10",
            "1e",
            "e5",
            "1.2.3",
            "1e99",
            "99999999999999",
            "1 2",
        ] {
            assert_eq!(parse_dollars(text), None, "{text:?}");
        }
    }

    #[test]
    fn cost_from_usage_uses_the_catalog_price() {
        let price = Price::per_mtok(Money::from_micros(150_000), Money::from_micros(600_000));
        let usage = Usage {
            prompt_tokens: 1000,
            completion_tokens: 500,
        };
        // 1000 × 0.15 + 500 × 0.60 = 150 + 300 = 450 µ$.
        assert_eq!(cost_from_usage(price, usage), Money::from_micros(450));
    }
}
