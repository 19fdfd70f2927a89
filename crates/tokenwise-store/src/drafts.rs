//! Answers while they stream: a draft row rewritten as text arrives, so a killed process loses
//! at most the last moment of what the user saw, and the recovery of drafts whose process is
//! gone (on the next start) into stopped answers, settling a cloud call from what streamed.
//!
//! [`Store::append_message`] deletes an answer's draft in the same transaction that saves the
//! finished answer, so an answer is either a draft or a message, never both.

use sqlx::Row;
use tokenwise_core::{ChatMessage, GenerationStats, MessageStatus, Money, Price, Role};

use crate::error::StoreError;
use crate::open::Store;

/// An answer that has started streaming.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerDraft {
    /// The answer as it will be saved: id, conversation, route badge, time. Its content is the
    /// text so far; its status and stats are ignored.
    pub message: ChatMessage,
    /// The model answering (its id, for the saved answer's figures).
    pub model: String,
    /// The process writing the draft.
    pub owner_pid: u32,
    /// For a cloud answer, what a killed call is charged from (its ledger reservation has the
    /// answer's id as request id); `None` for a local answer.
    pub charge: Option<DraftCharge>,
}

/// What a cloud draft costs: the prompt sent, and the answer so far, at the catalog's price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DraftCharge {
    pub model_tokens_in: u32,
    pub price: Price,
}

/// A draft turned into a stopped answer by [`Store::recover_drafts`].
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveredAnswer {
    pub message: ChatMessage,
    /// What the killed cloud call was charged (prompt + streamed answer); `None` for a local
    /// answer, or when its reservation had already been settled or released.
    pub charged: Option<Money>,
}

/// A draft as it stands: what a killed process would leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftText {
    pub message_id: String,
    pub conversation_id: String,
    /// The answer's text as last written.
    pub content: String,
    pub owner_pid: u32,
    pub updated_at_ms: i64,
}

/// A draft not rewritten for this long is recovered even if a process with its owner's id
/// runs (the id was reused after a crash): a live answer rewrites its draft every fraction of a
/// second while text arrives, and no answer waits this long for its first words.
pub const STALE_DRAFT_MS: i64 = 60 * 60 * 1000;

impl Store {
    /// Starts the draft of an answer (its text may be empty).
    pub async fn begin_draft(&self, draft: &AnswerDraft, now_ms: i64) -> Result<(), StoreError> {
        let message = &draft.message;
        let route = message.route.as_ref();
        let charge = draft.charge.as_ref();
        sqlx::query(
            "INSERT INTO answer_drafts (message_id, conversation_id, content, owner_pid, \
             created_at_ms, updated_at_ms, route_tier_id, route_tier, route_kind, \
             route_model_name, route_explanation, route_estimated_micros, model, tokens_in, \
             input_micros_per_mtok, output_micros_per_mtok, charged) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&message.id)
        .bind(&message.conversation_id)
        .bind(&message.content)
        .bind(i64::from(draft.owner_pid))
        .bind(message.created_at_ms)
        .bind(now_ms)
        .bind(route.map(|r| r.tier_id.clone()))
        .bind(route.map(|r| r.difficulty.as_str()))
        .bind(route.map(|r| r.kind.as_str()))
        .bind(route.map(|r| r.model_name.clone()))
        .bind(route.map(|r| r.explanation.clone()))
        .bind(route.and_then(|r| r.estimated_cost).map(|m| m.micros()))
        .bind(&draft.model)
        .bind(i64::from(charge.map_or(0, |c| c.model_tokens_in)))
        .bind(charge.map_or(0, |c| c.price.input_per_mtok.micros().max(0)))
        .bind(charge.map_or(0, |c| c.price.output_per_mtok.micros().max(0)))
        .bind(i64::from(charge.is_some()))
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Rewrites a draft's text so far (and, for a cloud draft, the answer tokens it counts).
    pub async fn update_draft(
        &self,
        message_id: &str,
        content: &str,
        tokens_out: u32,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE answer_drafts SET content = ?, tokens_out = ?, updated_at_ms = ? \
             WHERE message_id = ?",
        )
        .bind(content)
        .bind(i64::from(tokens_out))
        .bind(now_ms)
        .bind(message_id)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The answers streaming now (or left by a process that is gone), oldest first.
    pub async fn drafts(&self) -> Result<Vec<DraftText>, StoreError> {
        let rows = sqlx::query(
            "SELECT message_id, conversation_id, content, owner_pid, updated_at_ms \
             FROM answer_drafts ORDER BY created_at_ms",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        rows.iter()
            .map(|row| {
                let owner_pid: i64 = row.try_get("owner_pid")?;
                Ok(DraftText {
                    message_id: row.try_get("message_id")?,
                    conversation_id: row.try_get("conversation_id")?,
                    content: row.try_get("content")?,
                    owner_pid: u32::try_from(owner_pid).unwrap_or(0),
                    updated_at_ms: row.try_get("updated_at_ms")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.error(e))
    }

    /// Drops a draft that will not become an answer (nothing arrived before the call failed).
    pub async fn discard_draft(&self, message_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM answer_drafts WHERE message_id = ?")
            .bind(message_id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Turns every draft whose owner process is gone (`owner_alive(pid)` is false, or the draft
    /// is older than [`STALE_DRAFT_MS`]) into a
    /// stopped answer, and settles a cloud draft's reservation (if still open or expired) to
    /// the prompt plus the answer so far at the draft's price: the provider was paid for those
    /// tokens. Each draft is recovered in its own transaction; one that fails is left for the
    /// next start. Returns what was recovered.
    pub async fn recover_drafts(
        &self,
        owner_alive: impl Fn(u32) -> bool,
        now_ms: i64,
    ) -> Result<Vec<RecoveredAnswer>, StoreError> {
        let rows = sqlx::query("SELECT * FROM answer_drafts ORDER BY created_at_ms")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        let mut recovered = Vec::new();
        for row in &rows {
            let pid = u32::try_from(row.get::<i64, _>("owner_pid")).unwrap_or(0);
            let stale = now_ms.saturating_sub(row.get::<i64, _>("updated_at_ms")) > STALE_DRAFT_MS;
            if pid == std::process::id() || (!stale && owner_alive(pid)) {
                continue;
            }
            recovered.push(self.recover_one(row, now_ms).await?);
        }
        Ok(recovered)
    }

    async fn recover_one(
        &self,
        row: &sqlx::sqlite::SqliteRow,
        now_ms: i64,
    ) -> Result<RecoveredAnswer, StoreError> {
        let message_id: String = row.get("message_id");
        let tokens_in = u32::try_from(row.get::<i64, _>("tokens_in")).unwrap_or(u32::MAX);
        let tokens_out = u32::try_from(row.get::<i64, _>("tokens_out")).unwrap_or(u32::MAX);
        let charge = (row.get::<i64, _>("charged") == 1).then(|| Price {
            input_per_mtok: Money::from_micros(row.get("input_micros_per_mtok")),
            output_per_mtok: Money::from_micros(row.get("output_micros_per_mtok")),
        });
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        let mut charged = None;
        if let Some(price) = charge {
            let cost = price.cost(tokens_in, tokens_out);
            let settled = sqlx::query(
                "UPDATE ledger SET status = 'settled', cost_micros = ?, tokens_in = ?, \
                 tokens_out = ?, settled_at_ms = ? \
                 WHERE request_id = ? AND status IN ('reserved', 'expired')",
            )
            .bind(cost.micros())
            .bind(i64::from(tokens_in))
            .bind(i64::from(tokens_out))
            .bind(now_ms)
            .bind(&message_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
            if settled.rows_affected() == 1 {
                charged = Some(cost);
            }
        }
        let mut route = self.route_from_row(row)?;
        if let Some(route) = route.as_mut() {
            route.actual_cost = charged;
        }
        let model: Option<String> = row.get("model");
        let created_at_ms: i64 = row.get("created_at_ms");
        let updated_at_ms: i64 = row.get("updated_at_ms");
        let message = ChatMessage {
            id: message_id,
            conversation_id: row.get("conversation_id"),
            role: Role::Assistant,
            content: row.get("content"),
            status: MessageStatus::Stopped,
            stats: model.map(|model| GenerationStats {
                model,
                tokens_in,
                tokens_out,
                time_to_first_token_ms: 0,
                prefill_tokens_per_second: 0.0,
                decode_tokens_per_second: 0.0,
                total_ms: u32::try_from(updated_at_ms.saturating_sub(created_at_ms).max(0))
                    .unwrap_or(u32::MAX),
            }),
            route,
            created_at_ms,
        };
        // Deletes the draft too.
        self.insert_message(&mut tx, &message).await?;
        tx.commit().await.map_err(|e| self.error(e))?;
        Ok(RecoveredAnswer { message, charged })
    }
}
