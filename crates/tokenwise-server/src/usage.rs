//! `POST /v1/usage`: batches of usage records a client made (local answers with what they
//! saved, cloud calls made without a reservation), each with the client's own id. A record
//! already stored is counted once: a batch retried after a lost answer, or sent twice from an
//! outbox after a crash, changes nothing. No prompt text is ever sent or kept.

use serde::{Deserialize, Serialize};

use crate::company::check_name;
use crate::db::Db;
use crate::devices::Caller;
use crate::error::ServerError;

/// The most records one batch may carry.
pub const MAX_BATCH_RECORDS: usize = 500;
/// How far back a client may date a record (an outbox that was offline for a while).
pub const MAX_RECORD_AGE_MS: i64 = 62 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageBatch {
    pub records: Vec<UsageRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageRecord {
    /// Made by the client, unique.
    pub id: String,
    /// `local` (answered on the laptop, cost 0) or `cloud`.
    pub kind: String,
    pub tier: String,
    pub model: String,
    #[serde(default)]
    pub tokens_in: i64,
    #[serde(default)]
    pub tokens_out: i64,
    /// What it cost (0 for a local answer).
    #[serde(default)]
    pub cost_micros: i64,
    /// What the frontier tier would have cost (local answers).
    #[serde(default)]
    pub saved_micros: i64,
    #[serde(default)]
    pub project_id: Option<String>,
    /// When it happened, by the client's clock (ms since the epoch).
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageReceipt {
    /// Records stored by this batch.
    pub accepted: usize,
    /// Records already stored earlier (a retry), not counted again.
    pub duplicates: usize,
}

fn check(record: &UsageRecord, now_ms: i64) -> Result<(), ServerError> {
    check_name("record id", &record.id)?;
    check_name("tier", &record.tier)?;
    check_name("model", &record.model)?;
    let bad = |what: String| ServerError::BadRequest(format!("Record {:?}: {what}", record.id));
    if !matches!(record.kind.as_str(), "local" | "cloud") {
        return Err(bad(format!(
            "kind {:?} is not local or cloud.",
            record.kind
        )));
    }
    if [
        record.tokens_in,
        record.tokens_out,
        record.cost_micros,
        record.saved_micros,
    ]
    .iter()
    .any(|n| *n < 0)
    {
        return Err(bad("counts and amounts cannot be negative.".into()));
    }
    if record.kind == "local" && record.cost_micros != 0 {
        return Err(bad(
            "a local answer costs nothing (cost_micros must be 0).".into()
        ));
    }
    if record.created_at_ms > now_ms + 5 * 60 * 1000 {
        return Err(bad(
            "created_at_ms is in the future (is the laptop's clock right?).".into(),
        ));
    }
    if record.created_at_ms < now_ms - MAX_RECORD_AGE_MS {
        return Err(bad("created_at_ms is more than 62 days old.".into()));
    }
    Ok(())
}

/// Stores a batch in one transaction: all records valid, or none stored.
pub async fn record(
    db: &Db,
    caller: &Caller,
    batch: &UsageBatch,
    now_ms: i64,
) -> Result<UsageReceipt, ServerError> {
    if batch.records.len() > MAX_BATCH_RECORDS {
        return Err(ServerError::BadRequest(format!(
            "A batch carries at most {MAX_BATCH_RECORDS} records; send the rest in another."
        )));
    }
    for record in &batch.records {
        check(record, now_ms)?;
    }
    let projects = crate::quota::projects_of(db, &caller.user_id).await?;
    for record in &batch.records {
        if let Some(project) = &record.project_id {
            if !projects.iter().any(|p| &p.id == project) {
                return Err(ServerError::Forbidden(format!(
                    "Record {:?}: you may not charge project {project:?}.",
                    record.id
                )));
            }
        }
    }
    let mut tx = db.pool.begin().await?;
    let mut accepted = 0;
    for record in &batch.records {
        let done = sqlx::query(
            "INSERT INTO charges (id, user_id, team_id, project_id, device_id, kind, status, \
             tier, model, tokens_in, tokens_out, cost_micros, saved_micros, created_at_ms, \
             settled_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, 'recorded', $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&record.id)
        .bind(&caller.user_id)
        .bind(&caller.team_id)
        .bind(&record.project_id)
        .bind(&caller.device_id)
        .bind(&record.kind)
        .bind(&record.tier)
        .bind(&record.model)
        .bind(record.tokens_in)
        .bind(record.tokens_out)
        .bind(record.cost_micros)
        .bind(record.saved_micros)
        .bind(record.created_at_ms.min(now_ms))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        accepted += done.rows_affected() as usize;
    }
    tx.commit().await?;
    Ok(UsageReceipt {
        accepted,
        duplicates: batch.records.len() - accepted,
    })
}
