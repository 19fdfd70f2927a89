//! A company that runs a LiteLLM proxy instead of `tokenwise-server`: the employee's virtual
//! key's budget, read from the proxy's `GET /key/info`, as a quota snapshot.
//!
//! LiteLLM keeps the books itself: it holds and records each call's spend and refuses calls
//! over the key's `max_budget` (the cloud client reports that refusal as the gateway's budget).
//! The app only reads the figures for the meter and the cost preview: `spend` of `max_budget`
//! in the window `budget_duration` that ends at `budget_reset_at`, with `soft_budget` as the
//! alert threshold. Dollars arrive as JSON numbers and become integer micro-dollars here, once.
//!
//! LiteLLM's budgets need its database (PostgreSQL plus Prisma engines), which cannot be
//! installed where Tokenwise is built, so this is tested against a small server answering the
//! documented `/key/info` shape, not a real LiteLLM with budgets.

use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;

use crate::protocol::{Person, QuotaSnapshot, Team, WindowView};

/// `GET /key/info` (the key from the `Authorization` header).
#[derive(Debug, Clone, Deserialize)]
pub struct KeyInfoAnswer {
    pub info: KeyInfo,
}

/// The fields of a virtual key that the meter needs; LiteLLM sends many more.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyInfo {
    #[serde(default)]
    pub key_alias: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
    /// Dollars spent in the current window.
    #[serde(default)]
    pub spend: f64,
    /// Dollars the key may spend per window; `None`: no limit.
    #[serde(default)]
    pub max_budget: Option<f64>,
    /// Dollars at which LiteLLM warns.
    #[serde(default)]
    pub soft_budget: Option<f64>,
    /// `30s`, `30m`, `30h`, `30d`, `1mo`, …; `None`: the budget never resets.
    #[serde(default)]
    pub budget_duration: Option<String>,
    /// When the window ends (ISO 8601).
    #[serde(default)]
    pub budget_reset_at: Option<String>,
}

const DAY_MS: i64 = 86_400_000;

impl KeyInfo {
    /// Who the key belongs to, for the status line.
    pub fn owner(&self) -> String {
        [&self.user_id, &self.key_alias]
            .into_iter()
            .flatten()
            .find(|name| !name.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| "virtual key".into())
    }

    /// The key's budget as a snapshot with one window (none without a `max_budget`), or why
    /// the figures cannot be used.
    pub fn to_snapshot(&self, now_ms: i64) -> Result<QuotaSnapshot, String> {
        let owner = self.owner();
        let mut windows = Vec::new();
        if let Some(limit) = self.max_budget {
            let limit_micros = micros("max_budget", limit)?;
            let spent_micros = micros("spend", self.spend)?;
            let length_ms = match &self.budget_duration {
                Some(duration) => duration_ms(duration)?,
                // A budget that never resets: shown as this month's, ending far away.
                None => 100 * 365 * DAY_MS,
            };
            let resets_at_ms = match &self.budget_reset_at {
                Some(text) => timestamp_ms(text)?,
                None => now_ms.saturating_add(length_ms),
            };
            let thresholds = match self.soft_budget {
                Some(soft) if limit > 0.0 && soft > 0.0 && soft < limit => {
                    let percent = ((soft / limit) * 100.0).round().clamp(1.0, 99.0) as u32;
                    vec![percent, 100]
                }
                _ => vec![50, 80, 100],
            };
            windows.push(WindowView {
                scope_kind: "user".into(),
                scope_id: owner.clone(),
                window: window_kind(length_ms).into(),
                start_ms: resets_at_ms.saturating_sub(length_ms),
                resets_at_ms,
                limit_micros,
                spent_micros,
                reserved_micros: 0,
                hard: true,
                thresholds,
                time_zone: "UTC".into(),
            });
        }
        Ok(QuotaSnapshot {
            user: Person {
                id: owner.clone(),
                name: owner,
            },
            team: Team {
                id: self.team_id.clone().unwrap_or_default(),
                name: self.team_id.clone().unwrap_or_default(),
                allowed_tiers: None,
            },
            projects: Vec::new(),
            windows,
            allowed_tiers: None,
            catalog_toml: String::new(),
        })
    }
}

/// Dollars as integer micro-dollars; a negative, infinite or absurd figure is refused.
fn micros(field: &str, dollars: f64) -> Result<i64, String> {
    if !dollars.is_finite() || !(0.0..=1e9).contains(&dollars) {
        return Err(format!("{field} is {dollars}, not an amount of dollars"));
    }
    Ok((dollars * 1_000_000.0).round() as i64)
}

/// `30s`, `30m`, `30h`, `30d`, `2w`, `1mo` as milliseconds (a month as 30 days).
fn duration_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let count: i64 = number
        .parse()
        .map_err(|_| format!("budget_duration {text:?} is not a number and a unit"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        "mo" => 30 * DAY_MS,
        _ => return Err(format!("budget_duration {text:?} has an unknown unit")),
    };
    match count.checked_mul(unit_ms) {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("budget_duration {text:?} is not a usable length")),
    }
}

/// The meter's label for a window of this length: up to a day is "today", up to a week "this
/// week", longer "this month" (the reset time shown is LiteLLM's own).
fn window_kind(length_ms: i64) -> &'static str {
    if length_ms <= DAY_MS {
        "day"
    } else if length_ms <= 7 * DAY_MS {
        "week"
    } else {
        "month"
    }
}

/// An ISO 8601 time (with an offset, or without one meaning UTC) as Unix milliseconds.
fn timestamp_ms(text: &str) -> Result<i64, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(time.timestamp_millis());
    }
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f")
        .map(|time| time.and_utc().timestamp_millis())
        .map_err(|_| format!("budget_reset_at {text:?} is not an ISO 8601 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_950_400_000; // 2025-12-05T16:00:00Z

    fn documented() -> KeyInfo {
        let answer: KeyInfoAnswer = serde_json::from_str(
            r#"{"key": "sk-...Q7w2", "info": {"key_name": "sk-...Q7w2", "key_alias": "ada-laptop",
                "spend": 1.234567, "max_budget": 10.0, "soft_budget": 8.0, "budget_duration": "30d",
                "budget_reset_at": "2025-12-31T00:00:00.000000+00:00", "user_id": "ada@example.com",
                "team_id": "eng", "models": [], "metadata": {}, "tpm_limit": null}}"#,
        )
        .unwrap();
        answer.info
    }

    #[test]
    fn the_documented_answer_becomes_one_hard_month_window_in_micro_dollars() {
        let snapshot = documented().to_snapshot(NOW).unwrap();
        assert_eq!(snapshot.user.id, "ada@example.com");
        assert_eq!(snapshot.team.id, "eng");
        let [window] = snapshot.windows.as_slice() else {
            panic!("{:?}", snapshot.windows)
        };
        assert_eq!(window.window, "month");
        assert_eq!(window.limit_micros, 10_000_000);
        assert_eq!(window.spent_micros, 1_234_567);
        assert!(window.hard);
        assert_eq!(window.thresholds, vec![80, 100]);
        assert_eq!(window.resets_at_ms, 1_767_139_200_000);
        assert_eq!(window.resets_at_ms - window.start_ms, 30 * DAY_MS);
    }

    #[test]
    fn durations_and_times_in_their_spellings() {
        assert_eq!(duration_ms("1d").unwrap(), DAY_MS);
        assert_eq!(duration_ms("24h").unwrap(), DAY_MS);
        assert_eq!(window_kind(duration_ms("7d").unwrap()), "week");
        assert_eq!(window_kind(duration_ms("1mo").unwrap()), "month");
        assert_eq!(window_kind(duration_ms("30m").unwrap()), "day");
        for bad in ["", "d", "30x", "0d", "99999999999999999999d", "-1d"] {
            assert!(duration_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(
            timestamp_ms("2025-12-31T00:00:00Z").unwrap(),
            timestamp_ms("2025-12-31T00:00:00").unwrap()
        );
        assert!(timestamp_ms("next tuesday").is_err());
    }

    #[test]
    fn no_limit_no_window_and_bad_figures_are_refused() {
        let unlimited = KeyInfo {
            max_budget: None,
            ..documented()
        };
        assert!(unlimited.to_snapshot(NOW).unwrap().windows.is_empty());
        for spend in [-1.0, f64::NAN, f64::INFINITY, 1e12] {
            let bad = KeyInfo {
                spend,
                ..documented()
            };
            assert!(bad.to_snapshot(NOW).is_err(), "{spend}");
        }
        let no_one = KeyInfo {
            user_id: None,
            key_alias: Some("  ".into()),
            ..documented()
        };
        assert_eq!(no_one.owner(), "virtual key");
    }
}
