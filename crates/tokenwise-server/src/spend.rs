//! `GET /v1/admin/spend`: where the money went, grouped by team, user, project, tier or UTC
//! day, since an instant; with what local answers saved and the holds that expired without
//! being settled (a client that crashed or lost its connection).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::Db;
use crate::error::ServerError;
use crate::windows::mark_expired_holds;

/// How to group the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Team,
    User,
    Project,
    Tier,
    Day,
}

impl GroupBy {
    /// The SQL expression of the group key (constants only).
    fn key(self) -> &'static str {
        match self {
            GroupBy::Team => "team_id",
            GroupBy::User => "user_id",
            GroupBy::Project => "COALESCE(project_id, '')",
            GroupBy::Tier => "tier",
            GroupBy::Day => "CAST(created_at_ms / 86400000 AS BIGINT)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendRow {
    /// The team, user, project or tier id, or the UTC date (`2026-12-05`). Charges without a
    /// project are grouped under `""`.
    pub key: String,
    pub cost_micros: i64,
    pub saved_micros: i64,
    pub cloud_requests: i64,
    pub local_answers: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendReport {
    pub group_by: GroupBy,
    pub since_ms: i64,
    pub rows: Vec<SpendRow>,
    pub total_cost_micros: i64,
    pub total_saved_micros: i64,
    /// Open holds right now, and holds that expired unsettled.
    pub open_holds: i64,
    pub expired_holds: i64,
}

/// `since` as an instant: milliseconds since the epoch, or a UTC date `YYYY-MM-DD`.
pub fn parse_since(text: &str) -> Result<i64, ServerError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let date = chrono_date(text).ok_or_else(|| {
        ServerError::BadRequest(format!(
            "since {text:?} is neither a date (2026-12-01) nor milliseconds since the epoch."
        ))
    })?;
    Ok(date)
}

/// Days since 1970-01-01 of a proleptic Gregorian date, times a day in ms.
fn chrono_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

/// The date of a day number (days since 1970-01-01).
fn date_of_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

pub async fn report(
    db: &Db,
    group_by: GroupBy,
    since_ms: i64,
    now_ms: i64,
) -> Result<SpendReport, ServerError> {
    mark_expired_holds(&mut *db.pool.acquire().await?, now_ms).await?;
    let sql = format!(
        "SELECT {key} AS key, \
         CAST(COALESCE(SUM(CASE WHEN status IN ('settled', 'recorded') THEN cost_micros ELSE 0 END), 0) AS BIGINT) AS cost, \
         CAST(COALESCE(SUM(saved_micros), 0) AS BIGINT) AS saved, \
         CAST(COALESCE(SUM(CASE WHEN kind = 'cloud' AND status IN ('settled', 'recorded') THEN 1 ELSE 0 END), 0) AS BIGINT) AS cloud_requests, \
         CAST(COALESCE(SUM(CASE WHEN kind = 'local' THEN 1 ELSE 0 END), 0) AS BIGINT) AS local_answers, \
         CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT) AS tokens_in, \
         CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT) AS tokens_out \
         FROM charges WHERE created_at_ms >= $1 GROUP BY {key} ORDER BY {key}",
        key = group_by.key()
    );
    let rows = sqlx::query(&sql).bind(since_ms).fetch_all(&db.pool).await?;
    let mut report_rows = Vec::with_capacity(rows.len());
    for row in &rows {
        let key = match group_by {
            GroupBy::Day => date_of_day(row.try_get::<i64, _>("key")?),
            _ => row.try_get::<String, _>("key")?,
        };
        report_rows.push(SpendRow {
            key,
            cost_micros: row.try_get("cost")?,
            saved_micros: row.try_get("saved")?,
            cloud_requests: row.try_get("cloud_requests")?,
            local_answers: row.try_get("local_answers")?,
            tokens_in: row.try_get("tokens_in")?,
            tokens_out: row.try_get("tokens_out")?,
        });
    }
    let holds = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'reserved' THEN 1 ELSE 0 END), 0) AS BIGINT) AS open, \
         CAST(COALESCE(SUM(CASE WHEN status = 'expired' THEN 1 ELSE 0 END), 0) AS BIGINT) AS expired \
         FROM charges WHERE created_at_ms >= $1",
    )
    .bind(since_ms)
    .fetch_one(&db.pool)
    .await?;
    Ok(SpendReport {
        group_by,
        since_ms,
        total_cost_micros: report_rows.iter().map(|r| r.cost_micros).sum(),
        total_saved_micros: report_rows.iter().map(|r| r.saved_micros).sum(),
        rows: report_rows,
        open_holds: holds.try_get("open")?,
        expired_holds: holds.try_get("expired")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_day_numbers_round_trip() {
        assert_eq!(parse_since("1970-01-01").unwrap(), 0);
        assert_eq!(parse_since("2026-12-05").unwrap(), 1_796_428_800_000);
        assert_eq!(date_of_day(1_796_428_800_000 / 86_400_000), "2026-12-05");
        assert_eq!(
            date_of_day(parse_since("2024-02-29").unwrap() / 86_400_000),
            "2024-02-29"
        );
        for bad in ["2025-02-29", "2026-13-01", "yesterday", "2026-1-5", ""] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_since("12345").unwrap(), 12_345);
    }
}
