//! For integration tests only (feature `test-support`, never on in a shipped build): the
//! ledger steps of a cloud answer, so a test can hold, settle and release money through the
//! facade without a cloud call.

use tokenwise_core::{Money, RouteDecision};
use tokenwise_store::Reservation;

use crate::error::AppError;
use crate::facade::Tokenwise;

impl Tokenwise {
    /// See the cloud answer's reserve step.
    pub async fn test_reserve_cloud(
        &self,
        request_id: &str,
        conversation_id: Option<&str>,
        decision: &RouteDecision,
    ) -> Result<Reservation, AppError> {
        self.reserve_cloud(request_id, conversation_id, decision)
            .await
    }

    /// See the cloud answer's settle step.
    pub async fn test_settle_cloud(
        &self,
        request_id: &str,
        tokens_in: u32,
        tokens_out: u32,
        cost: Money,
    ) -> Result<Vec<String>, AppError> {
        self.settle_cloud(request_id, tokens_in, tokens_out, cost)
            .await
    }

    /// See the cloud answer's release step.
    pub async fn test_release_cloud(&self, request_id: &str) -> Result<(), AppError> {
        self.release_cloud(request_id).await
    }
}
