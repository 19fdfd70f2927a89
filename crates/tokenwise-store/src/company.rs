//! The link to the company's quota server and the outbox of what it has yet to hear.
//!
//! The link is one row: the server, this device's and user's ids there, the last snapshot it
//! sent (JSON, as sent) with its ETag, when it was last confirmed, and why the last attempt
//! failed. The outbox holds settlements, releases and usage records until the server has
//! answered; each is keyed by the id the server deduplicates on, so enqueueing or sending
//! twice never counts twice. Times are passed in.

use sqlx::Row;

use crate::error::StoreError;
use crate::open::Store;

/// What kind of server the company runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompanyKind {
    /// `tokenwise-server`: holds before cloud calls, an outbox of settlements and usage.
    TokenwiseServer,
    /// A LiteLLM proxy: the virtual key's budget is read; LiteLLM keeps its own books.
    LiteLlm,
}

impl CompanyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CompanyKind::TokenwiseServer => "tokenwise",
            CompanyKind::LiteLlm => "litellm",
        }
    }

    fn parse(text: &str) -> Option<CompanyKind> {
        match text {
            "tokenwise" => Some(CompanyKind::TokenwiseServer),
            "litellm" => Some(CompanyKind::LiteLlm),
            _ => None,
        }
    }
}

/// This device's link to a quota server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyLink {
    pub kind: CompanyKind,
    pub server_url: String,
    pub device_id: String,
    pub user_id: String,
    pub connected_at_ms: i64,
    /// The last snapshot the server sent (its JSON), if any yet.
    pub snapshot_json: Option<String>,
    pub etag: Option<String>,
    /// When the server last confirmed the snapshot current.
    pub synced_at_ms: Option<i64>,
    /// Why the last attempt failed (`None` once one succeeds), and when.
    pub failure: Option<String>,
    pub failed_at_ms: Option<i64>,
}

/// What an outbox entry tells the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    /// A cloud reservation's actual cost.
    Settle,
    /// A cloud reservation given back.
    Release,
    /// A local answer's usage record.
    Usage,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Settle => "settle",
            OutboxKind::Release => "release",
            OutboxKind::Usage => "usage",
        }
    }

    fn parse(text: &str) -> Option<OutboxKind> {
        match text {
            "settle" => Some(OutboxKind::Settle),
            "release" => Some(OutboxKind::Release),
            "usage" => Some(OutboxKind::Usage),
            _ => None,
        }
    }
}

/// One entry waiting for the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub kind: OutboxKind,
    /// The reservation's or the record's id.
    pub id: String,
    /// The request body (JSON).
    pub body: String,
    pub created_at_ms: i64,
    pub attempts: u32,
}

/// How many entries wait, and how many the server refused for good.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub refused: u64,
    /// The last refusal's reason.
    pub last_refusal: Option<String>,
}

impl Store {
    /// The link, if this device is connected to a company.
    pub async fn company_link(&self) -> Result<Option<CompanyLink>, StoreError> {
        let row = sqlx::query("SELECT * FROM company_link WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        row.map(|row| -> Result<CompanyLink, sqlx::Error> {
            let kind: String = row.try_get("kind")?;
            Ok(CompanyLink {
                kind: CompanyKind::parse(&kind).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown company kind {kind:?}").into())
                })?,
                server_url: row.try_get("server_url")?,
                device_id: row.try_get("device_id")?,
                user_id: row.try_get("user_id")?,
                connected_at_ms: row.try_get("connected_at_ms")?,
                snapshot_json: row.try_get("snapshot_json")?,
                etag: row.try_get("etag")?,
                synced_at_ms: row.try_get("synced_at_ms")?,
                failure: row.try_get("failure")?,
                failed_at_ms: row.try_get("failed_at_ms")?,
            })
        })
        .transpose()
        .map_err(|e| self.error(e))
    }

    /// Links this device to a server (replacing any earlier link and its snapshot).
    pub async fn set_company_link(
        &self,
        kind: CompanyKind,
        server_url: &str,
        device_id: &str,
        user_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR REPLACE INTO company_link (id, kind, server_url, device_id, user_id, \
             connected_at_ms) VALUES (1, ?, ?, ?, ?, ?)",
        )
        .bind(kind.as_str())
        .bind(server_url)
        .bind(device_id)
        .bind(user_id)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Records a successful poll: a new snapshot and its ETag, or (`snapshot_json` `None`) the
    /// server's word that the kept one is current. Clears the failure.
    pub async fn save_company_snapshot(
        &self,
        snapshot_json: Option<&str>,
        etag: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let query = match snapshot_json {
            Some(json) => sqlx::query(
                "UPDATE company_link SET snapshot_json = ?, etag = ?, synced_at_ms = ?, \
                 failure = NULL, failed_at_ms = NULL WHERE id = 1",
            )
            .bind(json)
            .bind(etag)
            .bind(now_ms),
            None => sqlx::query(
                "UPDATE company_link SET synced_at_ms = ?, failure = NULL, failed_at_ms = NULL \
                 WHERE id = 1",
            )
            .bind(now_ms),
        };
        query.execute(&self.pool).await.map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Records why the server could not be used just now (the snapshot is kept).
    pub async fn note_company_failure(&self, failure: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE company_link SET failure = ?, failed_at_ms = ? WHERE id = 1")
            .bind(failure)
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Removes the link and everything still waiting for that server; returns how many
    /// outbox entries were dropped.
    pub async fn remove_company_link(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        let dropped = sqlx::query("DELETE FROM sync_outbox")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?
            .rows_affected();
        sqlx::query("DELETE FROM company_link")
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(dropped)
    }

    /// Puts an entry in the outbox, due at once. An entry of the same kind and id already
    /// there is kept as it is (the same fact told twice).
    pub async fn enqueue_outbox(
        &self,
        kind: OutboxKind,
        id: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR IGNORE INTO sync_outbox (kind, id, body, created_at_ms, next_attempt_ms) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(body)
        .bind(now_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// What cloud calls made while the server could not be reached cost, in µ$, as long as
    /// their usage records wait in the outbox (refused ones too: that money was spent).
    pub async fn unreported_offline_cost(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(json_extract(body, '$.cost_micros')), 0) AS cost \
             FROM sync_outbox WHERE kind = 'usage' AND json_extract(body, '$.kind') = 'cloud'",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        row.try_get("cost").map_err(|e| self.error(e))
    }

    /// Entries due at `now_ms` (not refused), oldest first, at most `limit`.
    pub async fn due_outbox(&self, now_ms: i64, limit: u32) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, id, body, created_at_ms, attempts FROM sync_outbox \
             WHERE refused = 0 AND next_attempt_ms <= ? ORDER BY created_at_ms, id LIMIT ?",
        )
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = row.try_get("kind").map_err(|e| self.error(e))?;
            let attempts: i64 = row.try_get("attempts").map_err(|e| self.error(e))?;
            items.push(OutboxItem {
                kind: OutboxKind::parse(&kind).ok_or_else(|| StoreError::Database {
                    path: self.path().to_path_buf(),
                    detail: format!("unknown outbox kind {kind:?}"),
                })?,
                id: row.try_get("id").map_err(|e| self.error(e))?,
                body: row.try_get("body").map_err(|e| self.error(e))?,
                created_at_ms: row.try_get("created_at_ms").map_err(|e| self.error(e))?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            });
        }
        Ok(items)
    }

    /// The server has these: they leave the outbox.
    pub async fn outbox_delivered(
        &self,
        kind: OutboxKind,
        ids: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        for id in ids {
            sqlx::query("DELETE FROM sync_outbox WHERE kind = ? AND id = ?")
                .bind(kind.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(e))?;
        }
        tx.commit().await.map_err(|e| self.error(e))
    }

    /// Sending failed: try again at `next_attempt_ms`, or (`refused`) never: the server said
    /// no for good, and the entry is kept for the person to see.
    pub async fn outbox_failed(
        &self,
        kind: OutboxKind,
        ids: &[String],
        error: &str,
        next_attempt_ms: i64,
        refused: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        for id in ids {
            sqlx::query(
                "UPDATE sync_outbox SET attempts = attempts + 1, last_error = ?, \
                 next_attempt_ms = ?, refused = ? WHERE kind = ? AND id = ?",
            )
            .bind(error)
            .bind(next_attempt_ms)
            .bind(i64::from(refused))
            .bind(kind.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        }
        tx.commit().await.map_err(|e| self.error(e))
    }

    /// Makes every waiting entry due at `now_ms` (the server is back, or the person asked to
    /// sync): the backoff is for an outage, not for a server that answers again.
    pub async fn outbox_due_now(&self, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sync_outbox SET next_attempt_ms = ? WHERE refused = 0 AND next_attempt_ms > ?",
        )
        .bind(now_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// How much waits, and how much was refused.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN refused = 0 THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(refused), 0) AS refused, \
             (SELECT last_error FROM sync_outbox WHERE refused = 1 \
              ORDER BY created_at_ms DESC LIMIT 1) AS last_refusal \
             FROM sync_outbox",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        let pending: i64 = row.try_get("pending").map_err(|e| self.error(e))?;
        let refused: i64 = row.try_get("refused").map_err(|e| self.error(e))?;
        Ok(OutboxCounts {
            pending: u64::try_from(pending).unwrap_or(0),
            refused: u64::try_from(refused).unwrap_or(0),
            last_refusal: row.try_get("last_refusal").map_err(|e| self.error(e))?,
        })
    }
}
