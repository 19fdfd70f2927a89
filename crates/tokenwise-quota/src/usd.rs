//! Dollar amounts written as decimal text (`"5.00"`), parsed exactly into [`Money`].
//!
//! The grammar is deliberately small: one or more digits, optionally a point and one to six
//! more digits (`5`, `5.0`, `5.00`, `0.25`, `1234.5`, `0.000001`). No sign, no exponent, no
//! thousands separators, no currency symbol, no surrounding spaces. The digits are read as
//! integers, never through a float, so `"0.1"` is exactly 100 000 micro-dollars. More than six
//! decimals is an error rather than a rounding: the smallest unit is one micro-dollar.

use tokenwise_core::Money;

use crate::error::QuotaError;

/// Decimal places of a micro-dollar.
const MAX_DECIMALS: usize = 6;

/// Parses a non-negative dollar amount such as `"5.00"` into micro-dollars, exactly.
pub fn parse_usd(text: &str) -> Result<Money, QuotaError> {
    let fail = |problem: &str| QuotaError::InvalidAmount {
        text: text.to_string(),
        problem: problem.to_string(),
    };
    if text.is_empty() {
        return Err(fail("it is empty; write dollars and cents, e.g. \"5.00\""));
    }
    if text.starts_with('-') {
        return Err(fail("an amount here cannot be negative"));
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let plain = digits(whole) && fraction.is_none_or(digits);
    if !plain {
        return Err(fail(
            "write digits with an optional decimal point, e.g. \"5.00\" or \"0.25\" (no sign, \
             exponent, separators or currency symbol)",
        ));
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > MAX_DECIMALS {
        return Err(fail(
            "it has more than 6 decimal places; the smallest unit is one micro-dollar (0.000001)",
        ));
    }
    let too_large = || fail("it is too large");
    // Leading zeros are harmless; a very long run of them must not overflow the parse.
    let whole = whole.trim_start_matches('0');
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let fraction_micros: i64 = if fraction.is_empty() {
        0
    } else {
        let padded = format!("{fraction:0<width$}", width = MAX_DECIMALS);
        padded.parse().map_err(|_| too_large())?
    };
    let micros = whole
        .checked_mul(tokenwise_core::money::MICROS_PER_DOLLAR)
        .and_then(|micros| micros.checked_add(fraction_micros))
        .ok_or_else(too_large)?;
    Ok(Money::from_micros(micros))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(text: &str) -> i64 {
        parse_usd(text).unwrap().micros()
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(micros("5"), 5_000_000);
        assert_eq!(micros("5.0"), 5_000_000);
        assert_eq!(micros("5.00"), 5_000_000);
        assert_eq!(micros("0.25"), 250_000);
        assert_eq!(micros("0.1"), 100_000);
        assert_eq!(micros("1234.5"), 1_234_500_000);
        assert_eq!(micros("0.000001"), 1);
        assert_eq!(micros("0"), 0);
        assert_eq!(micros("000012.340000"), 12_340_000);
        assert_eq!(micros("9223372036854.775807"), i64::MAX);
    }

    #[test]
    fn malformed_amounts_say_why() {
        for (text, needle) in [
            ("", "empty"),
            ("-5", "negative"),
            ("+5", "digits"),
            ("5.", "digits"),
            (".5", "digits"),
            ("1e3", "digits"),
            ("1,000", "digits"),
            ("$5", "digits"),
            (" 5", "digits"),
            ("5.5.5", "digits"),
            ("0.0000001", "more than 6 decimal places"),
            ("9223372036854.775808", "too large"),
            ("99999999999999999999", "too large"),
        ] {
            let error = parse_usd(text).unwrap_err();
            assert!(error.to_string().contains(needle), "{text:?}: {error}");
            assert_eq!(error.code(), "invalid_amount");
        }
    }
}
