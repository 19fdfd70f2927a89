//! Conversations and messages: create, list, rename, delete, append, read.

use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use tokenwise_core::{
    ChatMessage, ConversationSummary, Difficulty, GenerationStats, MessageStatus, Money, Placement,
    Role, RouteBadge,
};

use crate::error::StoreError;
use crate::open::Store;

impl Store {
    /// Creates an empty conversation.
    pub async fn create_conversation(
        &self,
        id: &str,
        title: &str,
        now_ms: i64,
    ) -> Result<ConversationSummary, StoreError> {
        sqlx::query(
            "INSERT INTO conversations (id, title, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(title)
        .bind(now_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(ConversationSummary {
            id: id.to_string(),
            title: title.to_string(),
            updated_at_ms: now_ms,
            message_count: 0,
        })
    }

    /// All conversations, most recently active first.
    pub async fn list_conversations(&self) -> Result<Vec<ConversationSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.title, c.updated_at_ms, \
                    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count \
             FROM conversations c ORDER BY c.updated_at_ms DESC, c.rowid DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows
            .iter()
            .map(|row| ConversationSummary {
                id: row.get("id"),
                title: row.get("title"),
                updated_at_ms: row.get("updated_at_ms"),
                message_count: row.get::<i64, _>("message_count") as u32,
            })
            .collect())
    }

    /// Renames a conversation. Blank titles are refused by the caller's validation.
    pub async fn rename_conversation(
        &self,
        id: &str,
        title: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE conversations SET title = ?, updated_at_ms = ? WHERE id = ?")
                .bind(title)
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(|e| self.error(e))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::ConversationNotFound(id.to_string()));
        }
        Ok(())
    }

    /// Deletes a conversation and all its messages.
    pub async fn delete_conversation(&self, id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM conversations WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::ConversationNotFound(id.to_string()));
        }
        Ok(())
    }

    /// Deletes every conversation last active before `cutoff_ms`, with its messages and
    /// drafts (the ledger keeps what they cost: it is not linked). Returns how many.
    pub async fn delete_conversations_idle_before(
        &self,
        cutoff_ms: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM conversations WHERE updated_at_ms < ?")
            .bind(cutoff_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(done.rows_affected())
    }

    /// The messages of a conversation in the order they were written.
    pub async fn messages(&self, conversation_id: &str) -> Result<Vec<ChatMessage>, StoreError> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM conversations WHERE id = ?")
            .bind(conversation_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        if exists.is_none() {
            return Err(StoreError::ConversationNotFound(
                conversation_id.to_string(),
            ));
        }
        let rows = sqlx::query(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY created_at_ms, rowid",
        )
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        rows.iter().map(|row| self.message_from_row(row)).collect()
    }

    /// Appends a message and marks its conversation as just active, in one transaction. An
    /// answer's draft with the same id (see [`Store::begin_draft`]) is deleted with it.
    pub async fn append_message(&self, message: &ChatMessage) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        self.insert_message(&mut tx, message).await?;
        tx.commit().await.map_err(|e| self.error(e))
    }

    /// The body of [`Store::append_message`], inside the caller's transaction.
    pub(crate) async fn insert_message(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        message: &ChatMessage,
    ) -> Result<(), StoreError> {
        let stats = message.stats.as_ref();
        let route = message.route.as_ref();
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, role, content, status, model, tokens_in, \
             tokens_out, time_to_first_token_ms, prefill_tokens_per_second, \
             decode_tokens_per_second, total_ms, created_at_ms, route_tier_id, route_tier, \
             route_kind, route_model_name, route_explanation, route_estimated_micros, \
             route_actual_micros) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&message.id)
        .bind(&message.conversation_id)
        .bind(message.role.as_str())
        .bind(&message.content)
        .bind(message.status.as_str())
        .bind(stats.map(|s| s.model.clone()))
        .bind(stats.map(|s| s.tokens_in as i64))
        .bind(stats.map(|s| s.tokens_out as i64))
        .bind(stats.map(|s| s.time_to_first_token_ms as i64))
        .bind(stats.map(|s| s.prefill_tokens_per_second as f64))
        .bind(stats.map(|s| s.decode_tokens_per_second as f64))
        .bind(stats.map(|s| s.total_ms as i64))
        .bind(message.created_at_ms)
        .bind(route.map(|r| r.tier_id.clone()))
        .bind(route.map(|r| r.difficulty.as_str()))
        .bind(route.map(|r| r.kind.as_str()))
        .bind(route.map(|r| r.model_name.clone()))
        .bind(route.map(|r| r.explanation.clone()))
        .bind(route.and_then(|r| r.estimated_cost).map(|m| m.micros()))
        .bind(route.and_then(|r| r.actual_cost).map(|m| m.micros()))
        .execute(&mut **tx)
        .await
        .map_err(|e| self.error(e))?;
        let touched = sqlx::query(
            "UPDATE conversations SET updated_at_ms = MAX(updated_at_ms, ?) WHERE id = ?",
        )
        .bind(message.created_at_ms)
        .bind(&message.conversation_id)
        .execute(&mut **tx)
        .await
        .map_err(|e| self.error(e))?;
        if touched.rows_affected() == 0 {
            return Err(StoreError::ConversationNotFound(
                message.conversation_id.clone(),
            ));
        }
        sqlx::query("DELETE FROM answer_drafts WHERE message_id = ?")
            .bind(&message.id)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    fn message_from_row(&self, row: &SqliteRow) -> Result<ChatMessage, StoreError> {
        let damaged = |what: &str| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("unexpected {what} in the messages table"),
        };
        let role: String = row.get("role");
        let status: String = row.get("status");
        let model: Option<String> = row.get("model");
        let stats = model.map(|model| GenerationStats {
            model,
            tokens_in: row.get::<Option<i64>, _>("tokens_in").unwrap_or(0) as u32,
            tokens_out: row.get::<Option<i64>, _>("tokens_out").unwrap_or(0) as u32,
            time_to_first_token_ms: row
                .get::<Option<i64>, _>("time_to_first_token_ms")
                .unwrap_or(0) as u32,
            prefill_tokens_per_second: row
                .get::<Option<f64>, _>("prefill_tokens_per_second")
                .unwrap_or(0.0) as f32,
            decode_tokens_per_second: row
                .get::<Option<f64>, _>("decode_tokens_per_second")
                .unwrap_or(0.0) as f32,
            total_ms: row.get::<Option<i64>, _>("total_ms").unwrap_or(0) as u32,
        });
        Ok(ChatMessage {
            id: row.get("id"),
            conversation_id: row.get("conversation_id"),
            role: Role::parse(&role).ok_or_else(|| damaged("role"))?,
            content: row.get("content"),
            status: MessageStatus::parse(&status).ok_or_else(|| damaged("status"))?,
            stats,
            route: self.route_from_row(row)?,
            created_at_ms: row.get("created_at_ms"),
        })
    }

    pub(crate) fn route_from_row(&self, row: &SqliteRow) -> Result<Option<RouteBadge>, StoreError> {
        let Some(tier_id) = row.get::<Option<String>, _>("route_tier_id") else {
            return Ok(None);
        };
        let damaged = |what: &str| StoreError::Corrupt {
            path: self.path.clone(),
            detail: format!("unexpected {what} in the messages table"),
        };
        let tier: Option<String> = row.get("route_tier");
        let kind: Option<String> = row.get("route_kind");
        Ok(Some(RouteBadge {
            tier_id,
            difficulty: tier
                .as_deref()
                .and_then(Difficulty::parse)
                .ok_or_else(|| damaged("route tier"))?,
            kind: kind
                .as_deref()
                .and_then(Placement::parse)
                .ok_or_else(|| damaged("route kind"))?,
            model_name: row
                .get::<Option<String>, _>("route_model_name")
                .unwrap_or_default(),
            explanation: row
                .get::<Option<String>, _>("route_explanation")
                .unwrap_or_default(),
            estimated_cost: row
                .get::<Option<i64>, _>("route_estimated_micros")
                .map(Money::from_micros),
            actual_cost: row
                .get::<Option<i64>, _>("route_actual_micros")
                .map(Money::from_micros),
        }))
    }
}
