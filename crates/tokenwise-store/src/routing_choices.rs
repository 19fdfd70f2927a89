//! A person's routing choices, kept to correct the classifier for them (see the migration
//! `0007_routing_choices.sql`): bounded, written in one transaction, cleared by a reset.

use sqlx::Row;

use crate::error::StoreError;
use crate::open::Store;

/// At most this many choices are kept; the oldest go first.
pub const MAX_ROUTING_CHOICES: i64 = 500;

/// One stored choice, in plain types (the classifier's types are not the store's business).
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingChoice {
    pub created_at_ms: i64,
    /// `simple`, `medium` or `complex`.
    pub wanted: String,
    /// What the shipped classifier said.
    pub shipped: String,
    /// The correction features.
    pub features: Vec<f32>,
    /// The shipped classifier's three calibrated scores.
    pub scores: [f32; 3],
}

impl Store {
    /// Stores a choice and drops the oldest beyond [`MAX_ROUTING_CHOICES`], in one transaction.
    pub async fn add_routing_choice(&self, choice: &RoutingChoice) -> Result<(), StoreError> {
        let numbers = choice.features.iter().chain(&choice.scores);
        if numbers.into_iter().any(|value| !value.is_finite()) {
            return Err(StoreError::InvalidInput(
                "a routing choice's numbers must be finite".into(),
            ));
        }
        let mut transaction = self.pool.begin().await.map_err(|e| self.error(e))?;
        sqlx::query(
            "INSERT INTO routing_choices (created_at_ms, wanted, shipped, features, scores) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(choice.created_at_ms)
        .bind(&choice.wanted)
        .bind(&choice.shipped)
        .bind(encode(&choice.features))
        .bind(encode(&choice.scores))
        .execute(&mut *transaction)
        .await
        .map_err(|e| self.error(e))?;
        sqlx::query(
            "DELETE FROM routing_choices WHERE id NOT IN \
             (SELECT id FROM routing_choices ORDER BY id DESC LIMIT ?)",
        )
        .bind(MAX_ROUTING_CHOICES)
        .execute(&mut *transaction)
        .await
        .map_err(|e| self.error(e))?;
        transaction.commit().await.map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Every kept choice, oldest first. A row that does not parse (written by a later version,
    /// or damaged) is skipped: a correction is an improvement, never a reason to fail.
    pub async fn routing_choices(&self) -> Result<Vec<RoutingChoice>, StoreError> {
        let rows = sqlx::query(
            "SELECT created_at_ms, wanted, shipped, features, scores FROM routing_choices \
             ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let features: String = row.get("features");
                let scores: String = row.get("scores");
                Some(RoutingChoice {
                    created_at_ms: row.get("created_at_ms"),
                    wanted: row.get("wanted"),
                    shipped: row.get("shipped"),
                    features: decode(&features)?,
                    scores: decode(&scores)?.try_into().ok()?,
                })
            })
            .collect())
    }

    /// Forgets every choice (the person's "Reset").
    pub async fn clear_routing_choices(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM routing_choices")
            .execute(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        Ok(done.rows_affected())
    }
}

/// Numbers as text: space-separated, each the shortest form that reads back exactly.
fn encode(values: &[f32]) -> String {
    values
        .iter()
        .map(f32::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The numbers of [`encode`]; `None` when any is not a finite number.
fn decode(text: &str) -> Option<Vec<f32>> {
    text.split_whitespace()
        .map(|part| part.parse::<f32>().ok().filter(|v| v.is_finite()))
        .collect()
}
