//! The spend ledger: local answers, cloud reservations (reserve → settle | release), window
//! totals, threshold alerts already raised, and the aggregates behind the spend view.
//!
//! Amounts are integer micro-dollars (`i64`, 1e-6 USD) named `*_micros`; times are milliseconds
//! since the Unix epoch, passed in by the caller. The app layer converts to and from its `Money`.
//!
//! # Reservations and hard limits
//!
//! [`Store::reserve`] runs in one `BEGIN IMMEDIATE` transaction: SQLite grants the write lock
//! before the transaction reads anything, so no other writer (in this process or another) can
//! commit between the moment the window sums are read and the moment the reservation row is
//! inserted. Reservations are therefore serialized, and concurrent requests can never overshoot a
//! hard limit. A writer that finds the lock taken waits up to [`crate::BUSY_TIMEOUT`].
//!
//! What counts against a window: the actual cost of settled requests plus the reserved amount of
//! reservations that have not expired, for requests created inside the window. Released and
//! expired reservations count for nothing; an expired reservation that is settled after all
//! counts its actual cost again (the money was spent), so the time-to-live must be longer than
//! the slowest cloud call.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use tokenwise_core::BudgetWindow;

use crate::error::StoreError;
use crate::open::Store;

pub use tokenwise_core::ScopeKind;

/// The ledger column holding a scope's id (a constant, safe to put into SQL).
fn column(kind: ScopeKind) -> &'static str {
    match kind {
        ScopeKind::User => "user_id",
        ScopeKind::Team => "team_id",
        ScopeKind::Project => "project_id",
    }
}

/// Where a ledger row is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LedgerStatus {
    /// A cloud call is under way; `reserved_micros` counts until it expires.
    Reserved,
    /// The cloud call finished; `cost_micros` is what it cost.
    Settled,
    /// The cloud call failed or was abandoned; it cost nothing.
    Released,
    /// The reservation outlived its time-to-live without being settled; it counts for nothing.
    Expired,
    /// Answered on this machine: cost 0, `saved_micros` is what the frontier tier would have cost.
    Local,
}

impl LedgerStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerStatus::Reserved => "reserved",
            LedgerStatus::Settled => "settled",
            LedgerStatus::Released => "released",
            LedgerStatus::Expired => "expired",
            LedgerStatus::Local => "local",
        }
    }

    /// The inverse of [`LedgerStatus::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reserved" => Some(LedgerStatus::Reserved),
            "settled" => Some(LedgerStatus::Settled),
            "released" => Some(LedgerStatus::Released),
            "expired" => Some(LedgerStatus::Expired),
            "local" => Some(LedgerStatus::Local),
            _ => None,
        }
    }
}

/// The scopes a request is charged to: always the user, and the user's team and the chosen
/// project where they apply.
pub type ScopeIds = tokenwise_core::Scopes;

/// Which rows a report covers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ScopeFilter {
    /// Every row in the ledger.
    #[default]
    All,
    /// Rows charged to one scope.
    Scope { kind: ScopeKind, id: String },
}

impl ScopeFilter {
    /// Rows charged to one user.
    pub fn user(id: impl Into<String>) -> Self {
        ScopeFilter::Scope {
            kind: ScopeKind::User,
            id: id.into(),
        }
    }

    /// The SQL condition (with at most one `?`) and its bound value.
    fn condition(&self) -> (String, Option<&str>) {
        match self {
            ScopeFilter::All => ("1 = 1".to_string(), None),
            ScopeFilter::Scope { kind, id } => (format!("{} = ?", column(*kind)), Some(id)),
        }
    }
}

/// A completed local answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalRecord {
    /// Client-generated, unique across the ledger.
    pub request_id: String,
    pub created_at_ms: i64,
    pub conversation_id: Option<String>,
    pub scopes: ScopeIds,
    pub tier: String,
    pub provider: String,
    pub model: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    /// What the frontier tier would have cost for the same tokens.
    pub saved_micros: i64,
}

/// A request to reserve money for a cloud call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReserveRequest {
    /// Client-generated, unique across the ledger.
    pub request_id: String,
    /// "Now" for this request: the reservation's time, and the moment expiry is judged at.
    pub created_at_ms: i64,
    pub scopes: ScopeIds,
    pub conversation_id: Option<String>,
    pub tier: String,
    pub provider: String,
    pub model: String,
    /// The cost estimate shown to the user (recorded for reports; not used in the checks).
    pub estimate_micros: i64,
    /// The maximum the call may cost: what is held against every window until settled.
    pub amount_micros: i64,
    /// How long the reservation holds if it is neither settled nor released.
    pub ttl_ms: i64,
    /// Each window's `scope_id` must be the request's id for its `scope_kind` (see
    /// [`ScopeIds::id`]), and `created_at_ms` must lie in its `[start_ms, end_ms)`.
    pub checks: Vec<BudgetWindow>,
}

/// A window's standing after a granted reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowUse {
    pub window: BudgetWindow,
    /// Settled cost plus live reservations in the window, this reservation included. For a
    /// soft window this may exceed the limit: the caller warns.
    pub committed_micros: i64,
}

/// A granted reservation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub request_id: String,
    pub reserved_micros: i64,
    pub expires_at_ms: i64,
    /// One entry per checked window, in the same order.
    pub windows: Vec<WindowUse>,
}

/// What a finished cloud call actually used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettleInput {
    pub tokens_in: u32,
    pub tokens_out: u32,
    /// The actual cost; may exceed the reservation and is recorded as is.
    pub cost_micros: i64,
    pub settled_at_ms: i64,
}

/// A window's totals for one scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowTotals {
    /// Actual cost of settled requests.
    pub spent_micros: i64,
    /// Reservations not yet settled and not expired at `now_ms`.
    pub reserved_micros: i64,
    /// What local answers would have cost at the frontier tier.
    pub local_saved_micros: i64,
    /// Requests that count: settled, local, and live reservations.
    pub requests: i64,
}

/// Spend in one bucket of the spend chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BucketSpend {
    pub start_ms: i64,
    /// Settled cost per tier, by tier name; tiers without settled requests are absent.
    pub by_tier: Vec<(String, i64)>,
    /// What local answers in the bucket would have cost at the frontier tier.
    pub saved_micros: i64,
}

/// A conversation's spend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationSpend {
    pub conversation_id: String,
    /// `None` when the conversation was deleted (its spend stays in the ledger).
    pub title: Option<String>,
    pub cost_micros: i64,
    pub saved_micros: i64,
    /// Settled and local requests.
    pub requests: i64,
}

/// What one local model answered and saved over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSavings {
    pub model: String,
    pub answers: i64,
    pub saved_micros: i64,
}

/// One ledger row, as `tokenwise usage` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRow {
    pub request_id: String,
    pub created_at_ms: i64,
    pub conversation_id: Option<String>,
    pub scopes: ScopeIds,
    pub tier: String,
    pub provider: String,
    pub model: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub cost_micros: i64,
    pub estimate_micros: i64,
    pub saved_micros: i64,
    pub status: LedgerStatus,
    pub reserved_micros: i64,
    pub expires_at_ms: Option<i64>,
    pub settled_at_ms: Option<i64>,
}

fn invalid(detail: impl Into<String>) -> StoreError {
    StoreError::InvalidInput(detail.into())
}

fn not_negative(name: &str, value: i64) -> Result<(), StoreError> {
    if value < 0 {
        return Err(invalid(format!("{name} is negative ({value})")));
    }
    Ok(())
}

impl ReserveRequest {
    fn validate(&self) -> Result<(), StoreError> {
        if self.request_id.is_empty() {
            return Err(invalid("the request id is empty"));
        }
        not_negative("the reserved amount", self.amount_micros)?;
        not_negative("the cost estimate", self.estimate_micros)?;
        if self.ttl_ms <= 0 {
            return Err(invalid(format!(
                "the reservation's time-to-live must be positive, not {} ms",
                self.ttl_ms
            )));
        }
        for check in &self.checks {
            let scope = format!("{} {}", check.scope_kind.as_str(), check.scope_id);
            if self.scopes.id(check.scope_kind) != Some(check.scope_id.as_str()) {
                return Err(invalid(format!(
                    "the budget window of {scope} was checked, but the request is not charged \
                     to {scope}"
                )));
            }
            if !(check.start_ms <= self.created_at_ms && self.created_at_ms < check.end_ms) {
                return Err(invalid(format!(
                    "the {} window of {scope} [{}, {}) does not contain the request's time {}",
                    check.kind, check.start_ms, check.end_ms, self.created_at_ms
                )));
            }
            not_negative("a window limit", check.limit.micros())?;
        }
        Ok(())
    }
}

/// Sum of what counts against a window: settled cost plus live reservations. Binds: now, scope
/// id, start, end.
fn committed_sql(kind: ScopeKind) -> String {
    format!(
        "SELECT COALESCE(SUM(CASE \
             WHEN status = 'settled' THEN cost_micros \
             WHEN status = 'reserved' AND expires_at_ms > ?1 THEN reserved_micros \
             ELSE 0 END), 0) \
         FROM ledger WHERE {} = ?2 AND created_at_ms >= ?3 AND created_at_ms < ?4",
        column(kind)
    )
}

impl Store {
    /// Records a completed local answer: status `local`, cost 0, with what it saved.
    pub async fn record_local(&self, record: &LocalRecord) -> Result<(), StoreError> {
        if record.request_id.is_empty() {
            return Err(invalid("the request id is empty"));
        }
        not_negative("the saved amount", record.saved_micros)?;
        sqlx::query(
            "INSERT INTO ledger (request_id, created_at_ms, conversation_id, user_id, team_id, \
             project_id, tier, provider, model, tokens_in, tokens_out, cost_micros, \
             estimate_micros, saved_micros, status, reserved_micros) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, 'local', 0)",
        )
        .bind(&record.request_id)
        .bind(record.created_at_ms)
        .bind(&record.conversation_id)
        .bind(&record.scopes.user_id)
        .bind(&record.scopes.team_id)
        .bind(&record.scopes.project_id)
        .bind(&record.tier)
        .bind(&record.provider)
        .bind(&record.model)
        .bind(i64::from(record.tokens_in))
        .bind(i64::from(record.tokens_out))
        .bind(record.saved_micros)
        .execute(&self.pool)
        .await
        .map_err(|e| self.insert_error(e, &record.request_id))?;
        Ok(())
    }

    /// Reserves `amount_micros` in every window of `request.checks`, atomically: either the
    /// reservation fits under every hard limit and is recorded, or nothing is written and the
    /// first window without room is reported as [`StoreError::BudgetExceeded`].
    ///
    /// Reservations that expired by `created_at_ms` are marked `expired` on the way. A request id
    /// already in the ledger is refused with [`StoreError::DuplicateRequest`].
    ///
    /// Atomicity: the work runs in one `BEGIN IMMEDIATE` transaction, which takes SQLite's
    /// single write lock before reading the window sums, so no other reservation or settlement
    /// (from this process or another) can commit between the check and the insert. Concurrent
    /// reservations are serialized; a waiting writer waits up to [`crate::BUSY_TIMEOUT`].
    ///
    /// What counts against a window: settled cost plus reservations not expired at
    /// `created_at_ms`, of requests created inside the window. Checks must name the request's
    /// own scopes and windows containing `created_at_ms` ([`StoreError::InvalidInput`]
    /// otherwise). Soft windows never refuse; their standing is returned in
    /// [`Reservation::windows`] for warnings and alerts.
    pub async fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, StoreError> {
        request.validate()?;
        let now = request.created_at_ms;
        let expires_at_ms = now.saturating_add(request.ttl_ms);

        // The write lock is taken here, before anything is read (see the module docs).
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.error(e))?;

        let existing: Option<i64> = sqlx::query_scalar("SELECT 1 FROM ledger WHERE request_id = ?")
            .bind(&request.request_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        if existing.is_some() {
            // Dropping `tx` rolls back; nothing was written.
            return Err(StoreError::DuplicateRequest(request.request_id.clone()));
        }

        sqlx::query(
            "UPDATE ledger SET status = 'expired' WHERE status = 'reserved' AND expires_at_ms <= ?",
        )
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;

        let mut windows = Vec::with_capacity(request.checks.len());
        for check in &request.checks {
            let committed: i64 = sqlx::query_scalar(&committed_sql(check.scope_kind))
                .bind(now)
                .bind(&check.scope_id)
                .bind(check.start_ms)
                .bind(check.end_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| self.error(e))?;
            let after = committed.saturating_add(request.amount_micros);
            if check.hard && after > check.limit.micros() {
                // A failed rollback changes nothing: the transaction wrote only expiry marks,
                // and an unfinished transaction is rolled back by SQLite in any case.
                let _ = tx.rollback().await;
                return Err(StoreError::BudgetExceeded {
                    scope_kind: check.scope_kind,
                    scope_id: check.scope_id.clone(),
                    window_kind: check.kind,
                    limit_micros: check.limit.micros(),
                    committed_micros: committed,
                    requested_micros: request.amount_micros,
                });
            }
            windows.push(WindowUse {
                window: check.clone(),
                committed_micros: after,
            });
        }

        sqlx::query(
            "INSERT INTO ledger (request_id, created_at_ms, conversation_id, user_id, team_id, \
             project_id, tier, provider, model, tokens_in, tokens_out, cost_micros, \
             estimate_micros, saved_micros, status, reserved_micros, expires_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, 0, 'reserved', ?, ?)",
        )
        .bind(&request.request_id)
        .bind(now)
        .bind(&request.conversation_id)
        .bind(&request.scopes.user_id)
        .bind(&request.scopes.team_id)
        .bind(&request.scopes.project_id)
        .bind(&request.tier)
        .bind(&request.provider)
        .bind(&request.model)
        .bind(request.estimate_micros)
        .bind(request.amount_micros)
        .bind(expires_at_ms)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.insert_error(e, &request.request_id))?;

        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(Reservation {
            request_id: request.request_id.clone(),
            reserved_micros: request.amount_micros,
            expires_at_ms,
            windows,
        })
    }

    /// Settles a reservation to what the call actually cost (recorded as is, even above the
    /// reservation). An expired reservation is settled too: the money was spent.
    ///
    /// Settling twice, or settling a released or local request, is [`StoreError::NotReserved`];
    /// an unknown id is [`StoreError::RequestNotFound`].
    pub async fn settle(&self, request_id: &str, input: &SettleInput) -> Result<(), StoreError> {
        not_negative("the actual cost", input.cost_micros)?;
        let done = sqlx::query(
            "UPDATE ledger SET status = 'settled', cost_micros = ?, tokens_in = ?, \
             tokens_out = ?, settled_at_ms = ? \
             WHERE request_id = ? AND status IN ('reserved', 'expired')",
        )
        .bind(input.cost_micros)
        .bind(i64::from(input.tokens_in))
        .bind(i64::from(input.tokens_out))
        .bind(input.settled_at_ms)
        .bind(request_id)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        if done.rows_affected() == 0 {
            return Err(self.why_not_open(request_id).await);
        }
        Ok(())
    }

    /// Releases a reservation whose call failed or was abandoned: it costs nothing. An expired
    /// reservation may be released too. Errors as for [`Store::settle`].
    pub async fn release(&self, request_id: &str, at_ms: i64) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE ledger SET status = 'released', cost_micros = 0, settled_at_ms = ? \
             WHERE request_id = ? AND status IN ('reserved', 'expired')",
        )
        .bind(at_ms)
        .bind(request_id)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        if done.rows_affected() == 0 {
            return Err(self.why_not_open(request_id).await);
        }
        Ok(())
    }

    /// Why a settle or release found no open reservation.
    async fn why_not_open(&self, request_id: &str) -> StoreError {
        let status: Result<Option<String>, _> =
            sqlx::query_scalar("SELECT status FROM ledger WHERE request_id = ?")
                .bind(request_id)
                .fetch_optional(&self.pool)
                .await;
        match status {
            Ok(Some(status)) => StoreError::NotReserved {
                request_id: request_id.to_string(),
                status,
            },
            Ok(None) => StoreError::RequestNotFound(request_id.to_string()),
            Err(e) => self.error(e),
        }
    }

    /// The latest time written to the ledger, if any: the floor for "now", so a clock set back
    /// never reopens a closed window.
    pub async fn latest_ledger_ms(&self) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT MAX(created_at_ms) FROM ledger")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    /// Totals of one scope's window `[start_ms, end_ms)`, judging expiry at `now_ms`.
    pub async fn window_totals(
        &self,
        scope_kind: ScopeKind,
        scope_id: &str,
        start_ms: i64,
        end_ms: i64,
        now_ms: i64,
    ) -> Result<WindowTotals, StoreError> {
        let sql = format!(
            "SELECT \
               COALESCE(SUM(CASE WHEN status = 'settled' THEN cost_micros ELSE 0 END), 0) AS spent, \
               COALESCE(SUM(CASE WHEN status = 'reserved' AND expires_at_ms > ?1 \
                                 THEN reserved_micros ELSE 0 END), 0) AS reserved, \
               COALESCE(SUM(CASE WHEN status = 'local' THEN saved_micros ELSE 0 END), 0) AS saved, \
               COUNT(CASE WHEN status IN ('settled', 'local') \
                            OR (status = 'reserved' AND expires_at_ms > ?1) THEN 1 END) AS requests \
             FROM ledger WHERE {} = ?2 AND created_at_ms >= ?3 AND created_at_ms < ?4",
            column(scope_kind)
        );
        let row = sqlx::query(&sql)
            .bind(now_ms)
            .bind(scope_id)
            .bind(start_ms)
            .bind(end_ms)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(WindowTotals {
            spent_micros: row.get("spent"),
            reserved_micros: row.get("reserved"),
            local_saved_micros: row.get("saved"),
            requests: row.get("requests"),
        })
    }

    /// Records that the `threshold_pct` alert of a window was raised. True only the first time
    /// for the same scope, window and threshold, also across restarts.
    pub async fn mark_alert_sent(
        &self,
        scope_kind: ScopeKind,
        scope_id: &str,
        window_kind: &str,
        window_start_ms: i64,
        threshold_pct: u32,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO alerts_sent (scope_kind, scope_id, window_kind, window_start_ms, \
             threshold_pct, sent_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(scope_kind.as_str())
        .bind(scope_id)
        .bind(window_kind)
        .bind(window_start_ms)
        .bind(i64::from(threshold_pct))
        .bind(at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Spend per bucket for the spend chart. `bucket_starts_ms` are the sorted bucket
    /// boundaries; the last one is the end of the last bucket, so `n + 1` boundaries give `n`
    /// buckets (fewer than two give none). Rows count by their creation time.
    pub async fn spend_by_bucket(
        &self,
        filter: &ScopeFilter,
        bucket_starts_ms: &[i64],
    ) -> Result<Vec<BucketSpend>, StoreError> {
        if bucket_starts_ms.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(invalid(
                "the spend chart's bucket boundaries are not strictly increasing",
            ));
        }
        let (condition, scope_id) = filter.condition();
        let by_tier_sql = format!(
            "SELECT tier, SUM(cost_micros) AS cost FROM ledger \
             WHERE {condition} AND status = 'settled' AND created_at_ms >= ? AND created_at_ms < ? \
             GROUP BY tier ORDER BY tier"
        );
        let saved_sql = format!(
            "SELECT COALESCE(SUM(saved_micros), 0) FROM ledger \
             WHERE {condition} AND status = 'local' AND created_at_ms >= ? AND created_at_ms < ?"
        );
        // One read transaction: every bucket sees the same snapshot.
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        let mut buckets = Vec::with_capacity(bucket_starts_ms.len().saturating_sub(1));
        for pair in bucket_starts_ms.windows(2) {
            let (start, end) = (pair[0], pair[1]);
            let mut query = sqlx::query(&by_tier_sql);
            if let Some(id) = scope_id {
                query = query.bind(id);
            }
            let by_tier = query
                .bind(start)
                .bind(end)
                .fetch_all(&mut *tx)
                .await
                .map_err(|e| self.error(e))?
                .iter()
                .map(|row| (row.get::<String, _>("tier"), row.get::<i64, _>("cost")))
                .collect();
            let mut query = sqlx::query_scalar(&saved_sql);
            if let Some(id) = scope_id {
                query = query.bind(id);
            }
            let saved_micros: i64 = query
                .bind(start)
                .bind(end)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| self.error(e))?;
            buckets.push(BucketSpend {
                start_ms: start,
                by_tier,
                saved_micros,
            });
        }
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(buckets)
    }

    /// The conversations that cost the most since `since_ms` (settled cost, then number of
    /// requests), with their titles where the conversation still exists.
    pub async fn top_conversations(
        &self,
        since_ms: i64,
        limit: u32,
    ) -> Result<Vec<ConversationSpend>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.conversation_id AS conversation_id, c.title AS title, \
                    SUM(CASE WHEN l.status = 'settled' THEN l.cost_micros ELSE 0 END) AS cost, \
                    SUM(CASE WHEN l.status = 'local' THEN l.saved_micros ELSE 0 END) AS saved, \
                    COUNT(*) AS requests \
             FROM ledger l LEFT JOIN conversations c ON c.id = l.conversation_id \
             WHERE l.conversation_id IS NOT NULL AND l.created_at_ms >= ? \
               AND l.status IN ('settled', 'local') \
             GROUP BY l.conversation_id \
             ORDER BY cost DESC, requests DESC, l.conversation_id \
             LIMIT ?",
        )
        .bind(since_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows
            .iter()
            .map(|row| ConversationSpend {
                conversation_id: row.get("conversation_id"),
                title: row.get("title"),
                cost_micros: row.get("cost"),
                saved_micros: row.get("saved"),
                requests: row.get("requests"),
            })
            .collect())
    }

    /// Local answers since `since_ms` by the model that gave them, most saved first: what a
    /// stronger local model, once switched to, has kept off the paid tiers.
    pub async fn local_savings_by_model(
        &self,
        since_ms: i64,
    ) -> Result<Vec<ModelSavings>, StoreError> {
        let rows = sqlx::query(
            "SELECT model, COUNT(*) AS answers, SUM(saved_micros) AS saved FROM ledger \
             WHERE status = 'local' AND created_at_ms >= ? \
             GROUP BY model ORDER BY saved DESC, model",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows
            .iter()
            .map(|row| ModelSavings {
                model: row.get("model"),
                answers: row.get("answers"),
                saved_micros: row.get("saved"),
            })
            .collect())
    }

    /// Every ledger row created since `since_ms` that the filter selects, oldest first.
    pub async fn ledger_rows(
        &self,
        since_ms: i64,
        filter: &ScopeFilter,
    ) -> Result<Vec<LedgerRow>, StoreError> {
        let (condition, scope_id) = filter.condition();
        let sql = format!(
            "SELECT * FROM ledger WHERE {condition} AND created_at_ms >= ? \
             ORDER BY created_at_ms, request_id"
        );
        let mut query = sqlx::query(&sql);
        if let Some(id) = scope_id {
            query = query.bind(id);
        }
        let rows = query
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        rows.iter().map(|row| self.ledger_row(row)).collect()
    }

    fn ledger_row(&self, row: &SqliteRow) -> Result<LedgerRow, StoreError> {
        let damaged = |what: &str| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("unexpected {what} in the ledger table"),
        };
        let status: String = row.get("status");
        let tokens = |column: &str| -> Result<u32, StoreError> {
            u32::try_from(row.get::<i64, _>(column)).map_err(|_| damaged(column))
        };
        Ok(LedgerRow {
            request_id: row.get("request_id"),
            created_at_ms: row.get("created_at_ms"),
            conversation_id: row.get("conversation_id"),
            scopes: ScopeIds {
                user_id: row.get("user_id"),
                team_id: row.get("team_id"),
                project_id: row.get("project_id"),
            },
            tier: row.get("tier"),
            provider: row.get("provider"),
            model: row.get("model"),
            tokens_in: tokens("tokens_in")?,
            tokens_out: tokens("tokens_out")?,
            cost_micros: row.get("cost_micros"),
            estimate_micros: row.get("estimate_micros"),
            saved_micros: row.get("saved_micros"),
            status: LedgerStatus::parse(&status).ok_or_else(|| damaged("status"))?,
            reserved_micros: row.get("reserved_micros"),
            expires_at_ms: row.get("expires_at_ms"),
            settled_at_ms: row.get("settled_at_ms"),
        })
    }

    /// An insert's error, with a reused request id named as such.
    fn insert_error(&self, error: sqlx::Error, request_id: &str) -> StoreError {
        match &error {
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                StoreError::DuplicateRequest(request_id.to_string())
            }
            _ => self.error(error),
        }
    }
}
