//! The offline allowance: cloud spend allowed while the company's quota server cannot be
//! reached.
//!
//! By default a laptop that cannot reach its company's server sends nothing to the cloud
//! (fail closed). A budget file may set `offline_allowance_usd`: that much may be spent
//! without the server's hold, each call still approved in the cost dialog (never
//! auto-approved, and the dialog says it is offline). Every such call becomes a usage record
//! in the outbox, reported when the server is back; what is left of the allowance is the
//! allowance minus the offline spend the server has not heard of yet, so it refills once
//! the server has it. The last known company figures still limit the call like any window.

use tokenwise_core::Money;
use tokenwise_policy::EffectivePolicy;
use tokenwise_quota::CostPreview;

use crate::error::AppError;
use crate::facade::Tokenwise;

impl Tokenwise {
    /// What is left of the budget file's `offline_allowance_usd` under `policy`'s ceiling;
    /// `None` when neither sets one.
    pub(crate) async fn offline_allowance_left(
        &self,
        policy: &EffectivePolicy,
    ) -> Result<Option<Money>, AppError> {
        let (config, _) = self.budgets.config();
        let own = config.and_then(|c| c.offline_allowance());
        // The policy's value is a ceiling over the budget file's.
        let Some(allowance) = policy.cost_setting("offline_allowance_usd", own) else {
            return Ok(None);
        };
        let unreported = self.store.unreported_offline_cost().await?;
        Ok(Some(Money::from_micros(
            allowance.micros().saturating_sub(unreported).max(0),
        )))
    }
}

/// The cost preview of a call made offline: refused when its maximum is more than what is
/// left of the allowance, otherwise marked as paid from it; never sent without a click.
pub(crate) fn limit_to_allowance(preview: &mut CostPreview, left: Money) {
    preview.auto_approved = false;
    if preview.blocked_reason.is_some() {
        return;
    }
    if preview.max_cost > left {
        preview.affordable = false;
        preview.blocked_reason = Some(format!(
            "The company's quota server cannot be reached, and this call may cost up to {}, \
             more than the {left} left of your offline allowance. Nothing was sent; local \
             answers work as usual.",
            preview.max_cost
        ));
    } else {
        preview.warnings.push(format!(
            "Offline: the company's quota server cannot be reached. This call is paid from \
             your offline allowance ({left} left) and reported to the company when it is back."
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_core::{TierCatalog, TokenCount};

    fn preview() -> CostPreview {
        let catalog = TierCatalog::builtin();
        let frontier = catalog.get("frontier").unwrap();
        let tokens = TokenCount {
            tokens: 1200,
            exact: true,
            method: "test".into(),
        };
        CostPreview::new(frontier, tokens, &[], Some(Money::from_dollars(10)))
    }

    #[test]
    fn a_call_within_the_allowance_asks_and_says_it_is_offline() {
        let mut offline = preview();
        assert!(
            offline.auto_approved,
            "the fixture would be auto-approved online"
        );
        let max_cost = offline.max_cost;
        limit_to_allowance(&mut offline, max_cost);
        assert!(offline.affordable && offline.blocked_reason.is_none());
        assert!(!offline.auto_approved, "offline, every call asks");
        assert!(offline
            .warnings
            .iter()
            .any(|w| w.contains("offline allowance")));
    }

    #[test]
    fn a_call_over_what_is_left_is_refused_with_both_figures() {
        let mut offline = preview();
        let left = Money::from_micros(offline.max_cost.micros() - 1);
        limit_to_allowance(&mut offline, left);
        assert!(!offline.affordable);
        let reason = offline.blocked_reason.unwrap();
        assert!(reason.contains(&left.to_string()), "{reason}");
        assert!(reason.contains("Nothing was sent"), "{reason}");
    }
}
