//! Cloud spend in the ledger: reserve the maximum before a call, settle to the actual cost,
//! release on failure; and the ledger rows for `tokenwise usage`.
//!
//! Reserve, settle and release are the cloud answer's steps ([`crate::cloud_answer`]), not
//! front-end API; integration tests reach them through the `test-support` feature.

use tokenwise_core::{Money, RouteDecision, ScopeKind};
use tokenwise_quota::window_checks;
use tokenwise_store::{
    LedgerRow, Reservation, ReserveRequest, ScopeFilter, SettleInput, StoreError,
};

use crate::error::AppError;
use crate::facade::Tokenwise;

/// How long a reservation holds its money if it is never settled or released (a crashed
/// call): longer than the slowest cloud answer, short enough to free the budget the same hour.
pub const RESERVATION_TTL_MS: i64 = 15 * 60 * 1000;

impl Tokenwise {
    /// Reserves `decision.max_cost` in every budget window that applies, atomically: refused
    /// (`budget_exceeded`, naming the window) if any hard window would go over. The caller
    /// then [`settle`](Self::settle_cloud)s to the actual cost or
    /// [`release`](Self::release_cloud)s on failure; an abandoned reservation expires after
    /// [`RESERVATION_TTL_MS`].
    pub(crate) async fn reserve_cloud(
        &self,
        request_id: &str,
        conversation_id: Option<&str>,
        decision: &RouteDecision,
    ) -> Result<Reservation, AppError> {
        let (config, _) = self.budgets.config();
        let now = self.budget_now();
        let scopes = self.scopes(config.as_ref());
        let plans = match &config {
            Some(config) => window_checks(config, &scopes, now)?,
            None => Vec::new(),
        };
        let checks = plans.into_iter().map(|plan| plan.window).collect();
        self.store
            .reserve(&ReserveRequest {
                request_id: request_id.to_string(),
                created_at_ms: now,
                scopes: scopes.clone(),
                conversation_id: conversation_id.map(str::to_string),
                tier: decision.tier_id.clone(),
                provider: decision.provider.clone(),
                model: decision.model.clone(),
                estimate_micros: decision.estimated_cost.micros(),
                amount_micros: decision.max_cost.micros(),
                ttl_ms: RESERVATION_TTL_MS,
                checks,
            })
            .await
            .map_err(over_budget)
    }

    /// Settles a reservation to what the call actually cost, then raises any alert the spend
    /// crossed.
    pub(crate) async fn settle_cloud(
        &self,
        request_id: &str,
        tokens_in: u32,
        tokens_out: u32,
        cost: Money,
    ) -> Result<Vec<String>, AppError> {
        self.store
            .settle(
                request_id,
                &SettleInput {
                    tokens_in,
                    tokens_out,
                    cost_micros: cost.micros(),
                    settled_at_ms: self.budget_now(),
                },
            )
            .await?;
        self.check_budget_alerts().await
    }

    /// Gives a reservation's money back (the call failed or was cancelled).
    pub(crate) async fn release_cloud(&self, request_id: &str) -> Result<(), AppError> {
        Ok(self.store.release(request_id, self.budget_now()).await?)
    }

    /// Ledger rows since `since_ms`, for `tokenwise usage`.
    pub async fn ledger(
        &self,
        since_ms: i64,
        filter: &ScopeFilter,
    ) -> Result<Vec<LedgerRow>, AppError> {
        Ok(self.store.ledger_rows(since_ms, filter).await?)
    }
}

/// The ledger's refusal, phrased for the person: what the request needed, what the window has
/// left, and what they can do. Other store errors pass through.
fn over_budget(error: StoreError) -> AppError {
    let StoreError::BudgetExceeded {
        scope_kind,
        scope_id,
        window_kind,
        limit_micros,
        committed_micros,
        requested_micros,
    } = error
    else {
        return error.into();
    };
    let scope = match scope_kind {
        ScopeKind::User => format!("your account ({scope_id})"),
        ScopeKind::Team => format!("team {scope_id}"),
        ScopeKind::Project => format!("project {scope_id}"),
    };
    let window = match window_kind.as_str() {
        "day" => "daily",
        "week" => "weekly",
        "month" => "monthly",
        other => other,
    };
    let left = Money::from_micros(limit_micros.saturating_sub(committed_micros).max(0));
    AppError::OverBudget(format!(
        "Over budget: this request may cost up to {requested}, but {scope} has {committed} of \
         its {window} limit of {limit} already spent or reserved, which leaves {left}. Answer it \
         locally, pick a cheaper tier, wait for the window to reset, or ask your administrator \
         for a higher limit.",
        requested = Money::from_micros(requested_micros),
        committed = Money::from_micros(committed_micros),
        limit = Money::from_micros(limit_micros),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_core::WindowKind;

    #[test]
    fn a_refusal_says_which_budget_and_what_to_do() {
        let error = over_budget(StoreError::BudgetExceeded {
            scope_kind: ScopeKind::Team,
            scope_id: "eng".into(),
            window_kind: WindowKind::Day,
            limit_micros: 1_000_000,
            committed_micros: 950_000,
            requested_micros: 70_000,
        });
        assert_eq!(error.code(), "budget_exceeded");
        let message = error.to_string();
        for part in [
            "$0.07",
            "team eng",
            "daily",
            "$1.00",
            "$0.95",
            "$0.05",
            "administrator",
        ] {
            assert!(message.contains(part), "{part:?} missing from: {message}");
        }
    }

    #[test]
    fn other_store_errors_pass_through() {
        let error = over_budget(StoreError::RequestNotFound("r1".into()));
        assert_eq!(error.code(), "request_not_found");
    }
}
