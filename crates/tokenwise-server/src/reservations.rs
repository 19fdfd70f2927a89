//! Reservations: hold a cloud call's maximum cost in every window of every scope it is charged
//! to, then settle to the actual cost or release.
//!
//! **A hard limit is never overshot, with any number of clients and server instances.** A
//! reservation runs in one transaction that first locks its scopes' rows in `scope_locks`
//! (created on first use, always in the same order, so two reservations never wait on each
//! other in a circle), then reads the window sums, then inserts. On PostgreSQL the row locks
//! (`SELECT … FOR UPDATE`) make every other reservation on the same scope wait until this one
//! commits, whichever instance it came through; under READ COMMITTED the sums read after the
//! lock include everything committed before it. On SQLite the pool's single connection runs
//! transactions one at a time.
//!
//! The id is the client's: a retried reservation (the answer was lost) returns the same hold
//! instead of holding twice. A hold that is never settled stops counting when it expires and is
//! marked `expired` by the next reservation or report; settling it late still records the cost.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::company::{check_name, parsed_catalog};
use crate::db::Db;
use crate::devices::Caller;
use crate::error::ServerError;
use crate::windows::{mark_expired_holds, scopes_of, window_views, Scope, WindowView};

/// How long a hold lasts unless the client asks otherwise.
pub const DEFAULT_TTL_MS: i64 = 15 * 60 * 1000;
/// The longest hold a client may ask for.
pub const MAX_TTL_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    /// Made by the client, unique; a retry sends the same id.
    pub id: String,
    /// The catalog tier of the call.
    pub tier: String,
    /// The most the call may cost, in micro-dollars.
    pub max_cost_micros: i64,
    /// The project charged, if any (one the user may charge).
    #[serde(default)]
    pub project_id: Option<String>,
    /// How long to hold, in ms (default 15 min, at most 1 h).
    #[serde(default)]
    pub ttl_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationView {
    pub id: String,
    pub status: String,
    pub reserved_micros: i64,
    pub cost_micros: i64,
    pub expires_at_ms: Option<i64>,
    /// The windows it is held in, with this hold included.
    pub windows: Vec<WindowView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettleRequest {
    pub cost_micros: i64,
    #[serde(default)]
    pub tokens_in: i64,
    #[serde(default)]
    pub tokens_out: i64,
}

/// The scopes of a charge to `project_id`, in the one order every reservation locks them.
fn locked_scopes(caller: &Caller, project_id: Option<&str>) -> Vec<Scope> {
    let mut scopes = scopes_of(caller, project_id.map(str::to_string));
    scopes.sort();
    scopes
}

/// Checks the request against the catalog, the team's tiers and the user's projects.
async fn validate(
    db: &Db,
    caller: &Caller,
    request: &ReserveRequest,
) -> Result<String, ServerError> {
    check_name("reservation id", &request.id)?;
    if request.max_cost_micros < 0 {
        return Err(ServerError::BadRequest(
            "max_cost_micros cannot be negative.".into(),
        ));
    }
    if let Some(ttl) = request.ttl_ms {
        if !(1_000..=MAX_TTL_MS).contains(&ttl) {
            return Err(ServerError::BadRequest(format!(
                "ttl_ms must be between 1000 and {MAX_TTL_MS}."
            )));
        }
    }
    let catalog = parsed_catalog(db).await?;
    let entry = catalog.get(&request.tier).ok_or_else(|| {
        ServerError::BadRequest(format!("The catalog has no tier {:?}.", request.tier))
    })?;
    let team = crate::company::team(db, &caller.team_id).await?;
    if let Some(allowed) = &team.allowed_tiers {
        if !allowed.iter().any(|tier| tier == &request.tier) {
            return Err(ServerError::Forbidden(format!(
                "Team {} may not use the {} tier (allowed: {}).",
                team.id,
                request.tier,
                allowed.join(", ")
            )));
        }
    }
    if let Some(project) = &request.project_id {
        let member =
            sqlx::query("SELECT 1 FROM user_projects WHERE user_id = $1 AND project_id = $2")
                .bind(&caller.user_id)
                .bind(project)
                .fetch_optional(&db.pool)
                .await?;
        if member.is_none() {
            return Err(ServerError::Forbidden(format!(
                "You may not charge project {project:?}."
            )));
        }
    }
    Ok(entry.model.clone())
}

/// Holds `max_cost_micros` in every window, or refuses naming the first hard window that is
/// short. Idempotent by id.
pub async fn reserve(
    db: &Db,
    caller: &Caller,
    request: &ReserveRequest,
    now_ms: i64,
) -> Result<ReservationView, ServerError> {
    let model = validate(db, caller, request).await?;
    let scopes = locked_scopes(caller, request.project_id.as_deref());
    let mut tx = db.pool.begin().await?;
    for scope in &scopes {
        sqlx::query(
            "INSERT INTO scope_locks (scope_kind, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(scope.kind)
        .bind(&scope.id)
        .execute(&mut *tx)
        .await?;
        let lock = format!(
            "SELECT scope_kind FROM scope_locks WHERE scope_kind = $1 AND scope_id = $2{}",
            db.dialect.for_update()
        );
        sqlx::query(&lock)
            .bind(scope.kind)
            .bind(&scope.id)
            .fetch_one(&mut *tx)
            .await?;
    }
    if let Some(existing) = find(&mut tx, &request.id).await? {
        if existing.user_id != caller.user_id {
            return Err(ServerError::Conflict(format!(
                "The id {:?} is already used; make a new one.",
                request.id
            )));
        }
        tx.commit().await?;
        return view(db, caller, &request.id, now_ms).await;
    }
    mark_expired_holds(&mut tx, now_ms).await?;
    let windows = window_views(&mut tx, &scopes, now_ms).await?;
    for window in &windows {
        if window.hard
            && window
                .committed_micros()
                .saturating_add(request.max_cost_micros)
                > window.limit_micros
        {
            return Err(ServerError::BudgetExceeded {
                scope_kind: window.scope_kind.clone(),
                scope_id: window.scope_id.clone(),
                window: window.window.clone(),
                limit_micros: window.limit_micros,
                committed_micros: window.committed_micros(),
                requested_micros: request.max_cost_micros,
            });
        }
    }
    let expires_at_ms = now_ms + request.ttl_ms.unwrap_or(DEFAULT_TTL_MS);
    sqlx::query(
        "INSERT INTO charges (id, user_id, team_id, project_id, device_id, kind, status, tier, \
         model, reserved_micros, created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, $5, 'cloud', 'reserved', $6, $7, $8, $9, $10)",
    )
    .bind(&request.id)
    .bind(&caller.user_id)
    .bind(&caller.team_id)
    .bind(&request.project_id)
    .bind(&caller.device_id)
    .bind(&request.tier)
    .bind(&model)
    .bind(request.max_cost_micros)
    .bind(now_ms)
    .bind(expires_at_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ReservationView {
        id: request.id.clone(),
        status: "reserved".into(),
        reserved_micros: request.max_cost_micros,
        cost_micros: 0,
        expires_at_ms: Some(expires_at_ms),
        windows: windows
            .into_iter()
            .map(|mut window| {
                window.reserved_micros += request.max_cost_micros;
                window
            })
            .collect(),
    })
}

struct Found {
    user_id: String,
}

async fn find(
    connection: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<Found>, ServerError> {
    let row = sqlx::query("SELECT user_id FROM charges WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *connection)
        .await?;
    row.map(|row| {
        Ok(Found {
            user_id: row.try_get("user_id")?,
        })
    })
    .transpose()
}

/// One of the caller's reservations; another user's is "not found".
pub async fn view(
    db: &Db,
    caller: &Caller,
    id: &str,
    now_ms: i64,
) -> Result<ReservationView, ServerError> {
    let row = sqlx::query(
        "SELECT status, reserved_micros, cost_micros, expires_at_ms, project_id FROM charges \
         WHERE id = $1 AND user_id = $2 AND kind = 'cloud'",
    )
    .bind(id)
    .bind(&caller.user_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| ServerError::NotFound(format!("You have no reservation {id:?}.")))?;
    let project: Option<String> = row.try_get("project_id")?;
    let mut connection = db.pool.acquire().await?;
    let windows = window_views(
        &mut connection,
        &locked_scopes(caller, project.as_deref()),
        now_ms,
    )
    .await?;
    Ok(ReservationView {
        id: id.to_string(),
        status: row.try_get("status")?,
        reserved_micros: row.try_get("reserved_micros")?,
        cost_micros: row.try_get("cost_micros")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
        windows,
    })
}

/// Records what the call cost (it may exceed the hold: it is recorded as is). Settling a
/// settled reservation again with the same cost is a no-op (a retry); anything else about a
/// reservation that is no longer open is a conflict.
pub async fn settle(
    db: &Db,
    caller: &Caller,
    id: &str,
    request: &SettleRequest,
    now_ms: i64,
) -> Result<ReservationView, ServerError> {
    if request.cost_micros < 0 || request.tokens_in < 0 || request.tokens_out < 0 {
        return Err(ServerError::BadRequest(
            "cost_micros, tokens_in and tokens_out cannot be negative.".into(),
        ));
    }
    let done = sqlx::query(
        "UPDATE charges SET status = 'settled', cost_micros = $1, tokens_in = $2, \
         tokens_out = $3, settled_at_ms = $4 \
         WHERE id = $5 AND user_id = $6 AND kind = 'cloud' AND status IN ('reserved', 'expired')",
    )
    .bind(request.cost_micros)
    .bind(request.tokens_in)
    .bind(request.tokens_out)
    .bind(now_ms)
    .bind(id)
    .bind(&caller.user_id)
    .execute(&db.pool)
    .await?;
    let current = view(db, caller, id, now_ms).await?;
    if done.rows_affected() == 1
        || (current.status == "settled" && current.cost_micros == request.cost_micros)
    {
        return Ok(current);
    }
    Err(ServerError::Conflict(format!(
        "Reservation {id:?} is {}, not open: its cost is recorded once.",
        current.status
    )))
}

/// Gives the hold back: the call failed and cost nothing. Releasing twice is a no-op.
pub async fn release(
    db: &Db,
    caller: &Caller,
    id: &str,
    now_ms: i64,
) -> Result<ReservationView, ServerError> {
    let done = sqlx::query(
        "UPDATE charges SET status = 'released', cost_micros = 0, settled_at_ms = $1 \
         WHERE id = $2 AND user_id = $3 AND kind = 'cloud' AND status IN ('reserved', 'expired')",
    )
    .bind(now_ms)
    .bind(id)
    .bind(&caller.user_id)
    .execute(&db.pool)
    .await?;
    let current = view(db, caller, id, now_ms).await?;
    if done.rows_affected() == 1 || current.status == "released" {
        return Ok(current);
    }
    Err(ServerError::Conflict(format!(
        "Reservation {id:?} is {}, not open: its cost is recorded once.",
        current.status
    )))
}
