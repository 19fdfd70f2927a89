//! IANA time zone names: looked up in the tz database compiled into the app (chrono-tz), with
//! a suggestion for a near miss ("Europe/Berln" → "Europe/Berlin", "europe/berlin" →
//! "Europe/Berlin").

use chrono_tz::{Tz, TZ_VARIANTS};

use crate::error::QuotaError;

/// The version of the IANA tz database compiled in, e.g. "2025b".
pub const TZDB_VERSION: &str = chrono_tz::IANA_TZDB_VERSION;

/// The zone named `name` exactly (IANA spelling and case, e.g. "Europe/Berlin", "UTC").
pub(crate) fn parse_zone(name: &str) -> Result<Tz, QuotaError> {
    name.parse::<Tz>().map_err(|_| QuotaError::UnknownTimeZone {
        name: name.to_string(),
        suggestion: suggest(name),
    })
}

/// The known name closest to `name`, if it is close: the same name in another case, or one
/// at most two edits away (a typo, for names of six characters or more), or the only zone
/// whose city part matches.
fn suggest(name: &str) -> Option<String> {
    let names = TZ_VARIANTS.iter().map(|zone| zone.name());
    if let Some(same) = names.clone().find(|known| known.eq_ignore_ascii_case(name)) {
        return Some(same.to_string());
    }
    let lowered = name.to_ascii_lowercase();
    let best = names
        .clone()
        .map(|known| (edit_distance(&lowered, &known.to_ascii_lowercase()), known))
        .min_by_key(|(distance, _)| *distance);
    if let Some((distance, known)) = best {
        // Short names are too easily two edits from an unrelated zone ("" → "GB").
        if distance <= 2 && lowered.chars().count() >= 6 {
            return Some(known.to_string());
        }
    }
    // "Berlin" → "Europe/Berlin".
    let mut by_city = names.filter(|known| {
        known
            .rsplit('/')
            .next()
            .is_some_and(|city| city.eq_ignore_ascii_case(&lowered.replace(' ', "_")))
    });
    match (by_city.next(), by_city.next()) {
        (Some(only), None) => Some(only.to_string()),
        _ => None,
    }
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_parse() {
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            assert_eq!(parse_zone(name).unwrap().name(), name);
        }
        assert_eq!(TZDB_VERSION.len(), 5);
    }

    #[test]
    fn near_misses_get_a_suggestion() {
        for (wrong, right) in [
            ("Europe/Berln", Some("Europe/Berlin")),
            ("europe/berlin", Some("Europe/Berlin")),
            ("America/New York", Some("America/New_York")),
            ("Berlin", Some("Europe/Berlin")),
            ("Mars/Olympus_Mons", None),
            ("", None),
        ] {
            match parse_zone(wrong).unwrap_err() {
                QuotaError::UnknownTimeZone { name, suggestion } => {
                    assert_eq!(name, wrong);
                    assert_eq!(suggestion.as_deref(), right, "{wrong}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("berln", "berlin"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("abc", ""), 3);
    }
}
