//! `tokenwise usage`: the budget meter and the spend view as tables (or `--json`).

use crate::output::out;
use std::sync::Arc;

use chrono::TimeZone;
use serde::Serialize;
use tokenwise_app::{AppPaths, BudgetOverview, LedgerRow, ScopeFilter, SpendOverview, Tokenwise};
use tokenwise_core::{Clock, Money, ScopeKind, SystemClock};

#[derive(clap::Args)]
pub struct UsageArgs {
    /// Ledger rows from this day on: `YYYY-MM-DD` (UTC) or a number of days back, e.g. `7d`.
    /// Default: the last 30 days.
    #[arg(long)]
    since: Option<String>,
    /// Only rows charged to this scope: `user:ID`, `team:ID` or `project:ID`.
    #[arg(long)]
    scope: Option<String>,
    /// Print one JSON object (money as integer micro-dollars) instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageJson<'a> {
    budgets: &'a BudgetOverview,
    spend: &'a SpendOverview,
    since_ms: i64,
    rows: Vec<JsonRow<'a>>,
    totals: Totals,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRow<'a> {
    request_id: &'a str,
    created_at_ms: i64,
    conversation_id: Option<&'a str>,
    tier: &'a str,
    provider: &'a str,
    model: &'a str,
    status: &'a str,
    tokens_in: u32,
    tokens_out: u32,
    cost_micros: i64,
    saved_micros: i64,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Totals {
    requests: usize,
    cost_micros: i64,
    saved_micros: i64,
}

const DAY_MS: i64 = 86_400_000;

fn parse_since(text: &str, now_ms: i64) -> Result<i64, String> {
    if let Some(days) = text.strip_suffix('d') {
        let days: i64 = days
            .parse()
            .map_err(|_| format!("--since {text}: expected a number of days such as 7d"))?;
        return Ok(now_ms - days * DAY_MS);
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!("--since {text}: expected YYYY-MM-DD or a number of days such as 7d")
    })?;
    Ok(date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0))
}

fn parse_scope(text: &str) -> Result<ScopeFilter, String> {
    let (kind, id) = text
        .split_once(':')
        .ok_or_else(|| format!("--scope {text}: expected user:ID, team:ID or project:ID"))?;
    let kind = ScopeKind::parse(kind)
        .ok_or_else(|| format!("--scope {text}: the kind must be user, team or project"))?;
    if id.is_empty() {
        return Err(format!("--scope {text}: the id is empty"));
    }
    Ok(ScopeFilter::Scope {
        kind,
        id: id.to_string(),
    })
}

/// `ms` as this machine's local time of day ("14:02"), with the date when not today.
pub fn clock_time(ms: i64) -> String {
    let Some(time) = chrono::Local.timestamp_millis_opt(ms).single() else {
        return ms.to_string();
    };
    if time.date_naive() == chrono::Local::now().date_naive() {
        time.format("%H:%M").to_string()
    } else {
        time.format("%Y-%m-%d %H:%M").to_string()
    }
}

fn local_time(ms: i64, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    match tz.timestamp_millis_opt(ms).single() {
        Some(time) => time.format("%Y-%m-%d %H:%M").to_string(),
        None => ms.to_string(),
    }
}

pub async fn run(args: UsageArgs) -> Result<(), String> {
    let now_ms = SystemClock.now_ms();
    let since_ms = match &args.since {
        Some(text) => parse_since(text, now_ms)?,
        None => now_ms - 30 * DAY_MS,
    };
    let filter = match &args.scope {
        Some(text) => parse_scope(text)?,
        None => ScopeFilter::All,
    };
    let app = Tokenwise::open(AppPaths::from_env(), Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let result = print_usage(&app, since_ms, &filter, &args).await;
    app.close().await;
    result
}

async fn print_usage(
    app: &Tokenwise,
    since_ms: i64,
    filter: &ScopeFilter,
    args: &UsageArgs,
) -> Result<(), String> {
    for warning in app.status().warnings {
        eprintln!("warning: {warning}");
    }
    let budgets = app.budget_overview().await.map_err(|e| e.to_string())?;
    let spend = app.spend_overview().await.map_err(|e| e.to_string())?;
    let rows = app
        .ledger(since_ms, filter)
        .await
        .map_err(|e| e.to_string())?;
    let totals = rows.iter().fold(Totals::default(), |mut t, row| {
        t.requests += 1;
        t.cost_micros += row.cost_micros;
        t.saved_micros += row.saved_micros;
        t
    });

    if args.json {
        let json = UsageJson {
            budgets: &budgets,
            spend: &spend,
            since_ms,
            rows: rows.iter().map(json_row).collect(),
            totals,
        };
        out!(
            "{}",
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
        );
        return budget_file_ok(&budgets);
    }
    print_budgets(&budgets);
    print_rows(&rows, &totals, since_ms, &budgets.time_zone);
    out!(
        "\nLast {} days: {} spent, {} saved by local answers.",
        spend.days.len(),
        spend.spent,
        spend.saved
    );
    budget_file_ok(&budgets)
}

/// A budget file with a problem fails the command, after the figures (the last good budgets)
/// are printed: a script must not read "all is well" from a file that did not load.
fn budget_file_ok(budgets: &BudgetOverview) -> Result<(), String> {
    match &budgets.problem {
        Some(problem) => Err(format!(
            "{problem} The budgets shown are the last good ones."
        )),
        None => Ok(()),
    }
}

fn json_row(row: &LedgerRow) -> JsonRow<'_> {
    JsonRow {
        request_id: &row.request_id,
        created_at_ms: row.created_at_ms,
        conversation_id: row.conversation_id.as_deref(),
        tier: &row.tier,
        provider: &row.provider,
        model: &row.model,
        status: row.status.as_str(),
        tokens_in: row.tokens_in,
        tokens_out: row.tokens_out,
        cost_micros: row.cost_micros,
        saved_micros: row.saved_micros,
    }
}

fn print_budgets(budgets: &BudgetOverview) {
    if let Some(company) = &budgets.company {
        crate::company::print_status(company);
    }
    if budgets.statuses.is_empty() {
        out!("No budgets configured ({}).", budgets.file);
        return;
    }
    out!("Budgets, tightest first (time zone {}):", budgets.time_zone);
    out!(
        "{:<20} {:<6} {:>12} {:>12} {:>12} {:>12} {:>5}  {:<5} resets",
        "scope",
        "window",
        "spent",
        "reserved",
        "limit",
        "left",
        "used",
        "mode"
    );
    for status in &budgets.statuses {
        out!(
            "{:<20} {:<6} {:>12} {:>12} {:>12} {:>12} {:>4}%  {:<5} {}",
            format!("{} {}", status.scope_kind.as_str(), status.scope_id),
            status.window_kind.as_str(),
            status.spent.to_string(),
            status.reserved.to_string(),
            status.limit.to_string(),
            status.remaining.to_string(),
            status.percent_used,
            if status.hard { "hard" } else { "soft" },
            local_time(status.resets_at_ms, &budgets.time_zone),
        );
    }
}

fn print_rows(rows: &[LedgerRow], totals: &Totals, since_ms: i64, zone: &str) {
    out!("\nRequests since {}:", local_time(since_ms, zone));
    if rows.is_empty() {
        out!("(none)");
        return;
    }
    out!(
        "{:<16} {:<9} {:<28} {:<9} {:>8} {:>8} {:>11} {:>11}",
        "time",
        "tier",
        "model",
        "status",
        "in",
        "out",
        "cost",
        "saved"
    );
    for row in rows {
        out!(
            "{:<16} {:<9} {:<28} {:<9} {:>8} {:>8} {:>11} {:>11}",
            local_time(row.created_at_ms, zone),
            row.tier,
            row.model,
            row.status.as_str(),
            row.tokens_in,
            row.tokens_out,
            Money::from_micros(row.cost_micros).to_string(),
            Money::from_micros(row.saved_micros).to_string(),
        );
    }
    out!(
        "total: {} requests, {} spent, {} saved",
        totals.requests,
        Money::from_micros(totals.cost_micros),
        Money::from_micros(totals.saved_micros)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_date_or_days_back() {
        assert_eq!(parse_since("2026-11-30", 0).unwrap(), 1_795_996_800_000);
        assert_eq!(parse_since("7d", 10 * DAY_MS).unwrap(), 3 * DAY_MS);
        assert!(parse_since("yesterday", 0)
            .unwrap_err()
            .contains("YYYY-MM-DD"));
    }

    #[test]
    fn scope_names_kind_and_id() {
        assert_eq!(
            parse_scope("team:eng").unwrap(),
            ScopeFilter::Scope {
                kind: ScopeKind::Team,
                id: "eng".into()
            }
        );
        assert!(parse_scope("eng").is_err());
        assert!(parse_scope("org:eng").is_err());
        assert!(parse_scope("user:").is_err());
    }
}
