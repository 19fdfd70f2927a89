//! Budget windows as the server sees them: which budgets apply to a caller, the calendar
//! window of each at an instant (in the budget's own time zone, through the quota crate's
//! calendar, so DST and month lengths follow the app's rules), and what is spent and reserved
//! in it.
//!
//! What counts in a window: the cost of settled reservations and of recorded cloud usage, plus
//! the held maximum of reservations that are open and not expired, for charges created inside
//! the window.

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use tokenwise_core::WindowKind;

use crate::company::Budget;
use crate::devices::Caller;
use crate::error::ServerError;

/// A scope a charge counts against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    /// `project`, `team` or `user`.
    pub kind: &'static str,
    pub id: String,
}

impl Scope {
    fn column(&self) -> &'static str {
        match self.kind {
            "user" => "user_id",
            "team" => "team_id",
            _ => "project_id",
        }
    }
}

/// The scopes a caller's charges count against: the user, the team, and `project_ids`.
pub fn scopes_of(caller: &Caller, project_ids: impl IntoIterator<Item = String>) -> Vec<Scope> {
    let mut scopes = vec![
        Scope {
            kind: "user",
            id: caller.user_id.clone(),
        },
        Scope {
            kind: "team",
            id: caller.team_id.clone(),
        },
    ];
    scopes.extend(project_ids.into_iter().map(|id| Scope {
        kind: "project",
        id,
    }));
    scopes
}

/// Marks the holds that expired by `now_ms` as `expired` (they stopped counting already; this
/// makes the report and the books say so).
pub async fn mark_expired_holds(
    connection: &mut AnyConnection,
    now_ms: i64,
) -> Result<(), ServerError> {
    sqlx::query(
        "UPDATE charges SET status = 'expired' WHERE status = 'reserved' AND expires_at_ms <= $1",
    )
    .bind(now_ms)
    .execute(connection)
    .await?;
    Ok(())
}

/// One window of one budget, with its figures at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowView {
    pub scope_kind: String,
    pub scope_id: String,
    /// `day`, `week` or `month`.
    pub window: String,
    pub start_ms: i64,
    /// When the window ends and the next begins.
    pub resets_at_ms: i64,
    pub limit_micros: i64,
    /// Settled and recorded cost.
    pub spent_micros: i64,
    /// Open reservations that have not expired.
    pub reserved_micros: i64,
    pub hard: bool,
    pub thresholds: Vec<u32>,
    pub time_zone: String,
}

impl WindowView {
    /// Spent plus reserved.
    pub fn committed_micros(&self) -> i64 {
        self.spent_micros.saturating_add(self.reserved_micros)
    }
}

/// Every budget window of `scopes` at `now_ms`, with its figures, read on `connection` (a
/// reservation reads them inside its transaction, after locking the scopes).
pub async fn window_views(
    connection: &mut AnyConnection,
    scopes: &[Scope],
    now_ms: i64,
) -> Result<Vec<WindowView>, ServerError> {
    let mut views = Vec::new();
    for scope in scopes {
        let rows = sqlx::query(
            "SELECT * FROM budgets WHERE scope_kind = $1 AND scope_id = $2 ORDER BY window_kind",
        )
        .bind(scope.kind)
        .bind(&scope.id)
        .fetch_all(&mut *connection)
        .await?;
        for row in &rows {
            let budget = Budget::from_row(row)?;
            let kind = WindowKind::parse(&budget.window).ok_or_else(|| {
                ServerError::Database(format!("stored window kind {:?}", budget.window))
            })?;
            let window = budget
                .calendar()?
                .window(kind, now_ms)
                .map_err(|e| ServerError::Database(e.to_string()))?;
            let sql = format!(
                "SELECT \
                 CAST(COALESCE(SUM(CASE WHEN status IN ('settled', 'recorded') THEN cost_micros \
                 ELSE 0 END), 0) AS BIGINT) AS spent, \
                 CAST(COALESCE(SUM(CASE WHEN status = 'reserved' AND expires_at_ms > $1 \
                 THEN reserved_micros ELSE 0 END), 0) AS BIGINT) AS reserved \
                 FROM charges WHERE {} = $2 AND created_at_ms >= $3 AND created_at_ms < $4",
                scope.column()
            );
            let sums = sqlx::query(&sql)
                .bind(now_ms)
                .bind(&scope.id)
                .bind(window.start_ms)
                .bind(window.end_ms)
                .fetch_one(&mut *connection)
                .await?;
            views.push(WindowView {
                scope_kind: budget.scope_kind.clone(),
                scope_id: budget.scope_id.clone(),
                window: budget.window.clone(),
                start_ms: window.start_ms,
                resets_at_ms: window.end_ms,
                limit_micros: budget.limit_micros,
                spent_micros: sums.try_get("spent")?,
                reserved_micros: sums.try_get("reserved")?,
                hard: budget.hard,
                thresholds: budget.thresholds.clone(),
                time_zone: budget.time_zone.clone(),
            });
        }
    }
    Ok(views)
}
