//! The cost preview: what a cloud request will cost and what it leaves of the budget, shown
//! before anything leaves the machine.
//!
//! [`CostPreview::new`] is pure: the catalog entry, the prompt's token count, the budget
//! windows that apply now and the auto-approve rule go in; the numbers and sentences the
//! confirmation dialog (and `tokenwise ask`) show come out.
//!
//! - **Tokens in**: counted by the caller with the target model's tokenizer where one is
//!   available offline ([`TokenCount::exact`]), else estimated ([`TokenCount::method`] says
//!   which).
//! - **Tokens out**: expected = the entry's typical answer for its tier
//!   ([`TierEntry::expected_output_tokens`]), maximum = the request's `max_tokens`
//!   ([`TierEntry::max_output_tokens`]).
//! - **Cost**: catalog prices, rounded up to the micro-dollar ([`tokenwise_core::Price::cost`]).
//! - **Budget**: the *binding* window is the hard window with the least left (with no hard
//!   window: the window with the least left). "Leaves" is what it has left minus the
//!   estimate. When any hard window has less left than the **maximum** cost, the request is
//!   not [`CostPreview::affordable`]: the dialog says so and offers only the local model
//!   (the reservation made on confirm holds the maximum, so this is exactly when it would be
//!   refused).
//! - **Auto-approve**: when the budget file sets `auto_approve_below_usd`, a request whose
//!   maximum cost is strictly below it (and affordable) needs no click.

use serde::{Deserialize, Serialize};
use tokenwise_core::{Money, TierEntry, TokenCount};
use ts_rs::TS;

use crate::calendar::WindowKind;
use crate::scope::ScopeKind;
use crate::status::BudgetStatus;

/// The budget window a request is measured against, before and after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BudgetAfter {
    /// "today's", "this week's", "this month's", with the scope when it is not the user's own
    /// ("team platform's today's" reads badly, so: "today's (team platform)").
    pub label: String,
    pub limit: Money,
    /// Left now (limit − spent − reserved).
    pub remaining: Money,
    /// Left after a request of the estimated cost.
    pub remaining_after_estimate: Money,
    /// Left after a request of the maximum cost.
    pub remaining_after_max: Money,
    pub hard: bool,
}

/// Everything the confirmation dialog shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CostPreview {
    /// The catalog entry, e.g. "frontier".
    pub tier_id: String,
    /// The provider's model id, e.g. "gpt-4o".
    pub model: String,
    pub model_name: String,
    pub provider: String,
    pub tokens_in: TokenCount,
    pub expected_tokens_out: u32,
    pub max_tokens_out: u32,
    pub estimated_cost: Money,
    pub max_cost: Money,
    /// The binding window; `None` when no budget is configured.
    pub budget: Option<BudgetAfter>,
    /// False when a hard window has less left than `max_cost`: cloud is not offered.
    pub affordable: bool,
    /// Sent without a click (the budget file's auto-approve rule covers `max_cost`).
    pub auto_approved: bool,
    /// "≈ $0.012, at most $0.018 · leaves $3.21 of today's $5.00".
    pub summary: String,
    /// Why cloud is not offered, when it is not.
    pub blocked_reason: Option<String>,
    /// Soft windows the request may push over (warnings, not refusals).
    pub warnings: Vec<String>,
}

impl CostPreview {
    /// The preview of sending a prompt of `tokens_in` to `entry`, against the budget windows
    /// `statuses` (as they stand now) and the auto-approve limit.
    pub fn new(
        entry: &TierEntry,
        tokens_in: TokenCount,
        statuses: &[BudgetStatus],
        auto_approve_below: Option<Money>,
    ) -> CostPreview {
        let expected_tokens_out = entry.expected_output_tokens();
        let max_tokens_out = entry.max_output_tokens;
        let estimated_cost = entry.price.cost(tokens_in.tokens, expected_tokens_out);
        let max_cost = entry.price.cost(tokens_in.tokens, max_tokens_out);

        let binding = binding_window(statuses);
        let budget = binding.map(|status| BudgetAfter {
            label: window_label(status),
            limit: status.limit,
            remaining: status.remaining,
            remaining_after_estimate: status.remaining.saturating_sub(estimated_cost),
            remaining_after_max: status.remaining.saturating_sub(max_cost),
            hard: status.hard,
        });
        let short_hard = statuses
            .iter()
            .filter(|s| s.hard && s.remaining < max_cost)
            .min_by_key(|s| s.remaining);
        let blocked_reason = short_hard.map(|status| {
            format!(
                "Not offered: this request can cost up to {max_cost}, and {} budget has {} left \
                 (limit {}). Answer locally, or ask your budget owner for more.",
                window_label(status),
                status.remaining.max(Money::ZERO),
                status.limit,
            )
        });
        let warnings = statuses
            .iter()
            .filter(|s| !s.hard && s.remaining < max_cost)
            .map(|status| {
                format!(
                    "May go over {} soft budget ({} left of {}).",
                    window_label(status),
                    status.remaining.max(Money::ZERO),
                    status.limit
                )
            })
            .collect();
        let affordable = blocked_reason.is_none();
        let auto_approved = affordable && auto_approve_below.is_some_and(|limit| max_cost < limit);
        let mut summary = format!("≈ {estimated_cost}, at most {max_cost}");
        if let Some(after) = &budget {
            summary.push_str(&format!(
                " · leaves {} of {} {}",
                after.remaining_after_estimate, after.label, after.limit
            ));
        }
        CostPreview {
            tier_id: entry.id.clone(),
            model: entry.model.clone(),
            model_name: entry.display_name.clone(),
            provider: entry.provider.clone(),
            tokens_in,
            expected_tokens_out,
            max_tokens_out,
            estimated_cost,
            max_cost,
            budget,
            affordable,
            auto_approved,
            summary,
            blocked_reason,
            warnings,
        }
    }
}

/// The hard window with the least left; without hard windows, any window with the least left.
fn binding_window(statuses: &[BudgetStatus]) -> Option<&BudgetStatus> {
    statuses
        .iter()
        .filter(|s| s.hard)
        .min_by_key(|s| s.remaining)
        .or_else(|| statuses.iter().min_by_key(|s| s.remaining))
}

/// "today's", "this week's", "this month's", plus the scope unless it is the user's own.
pub fn window_label(status: &BudgetStatus) -> String {
    let window = match status.window_kind {
        WindowKind::Day => "today's",
        WindowKind::Week => "this week's",
        WindowKind::Month => "this month's",
    };
    match status.scope_kind {
        ScopeKind::User => window.to_string(),
        ScopeKind::Team => format!("{window} (team {})", status.scope_id),
        ScopeKind::Project => format!("{window} (project {})", status.scope_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::WindowPlan;
    use tokenwise_core::TierCatalog;

    fn exact(tokens: u32) -> TokenCount {
        TokenCount {
            tokens,
            exact: true,
            method: "test".into(),
        }
    }

    fn window(
        kind: WindowKind,
        scope: ScopeKind,
        limit: Money,
        spent: Money,
        hard: bool,
    ) -> BudgetStatus {
        let plan = WindowPlan {
            window: tokenwise_core::BudgetWindow {
                scope_kind: scope,
                scope_id: "platform".into(),
                kind,
                start_ms: 0,
                end_ms: 86_400_000,
                limit,
                hard,
            },
            thresholds: vec![50, 80, 100],
        };
        BudgetStatus::new(&plan, spent, Money::ZERO)
    }

    fn frontier() -> TierEntry {
        TierCatalog::builtin().get("frontier").unwrap().clone()
    }

    #[test]
    fn numbers_and_the_sentence_match_the_catalog_price() {
        let statuses = [window(
            WindowKind::Day,
            ScopeKind::User,
            Money::from_dollars(5),
            Money::from_cents(179),
            true,
        )];
        let preview = CostPreview::new(&frontier(), exact(1200), &statuses, None);
        // gpt-4o: 1200 × $2.50/M + 1000 × $10/M = 3000 + 10000 µ$.
        assert_eq!(preview.estimated_cost, Money::from_micros(13_000));
        // 1200 × $2.50/M + 4096 × $10/M = 3000 + 40960 µ$.
        assert_eq!(preview.max_cost, Money::from_micros(43_960));
        assert_eq!(preview.expected_tokens_out, 1000);
        assert_eq!(preview.max_tokens_out, 4096);
        let after = preview.budget.as_ref().unwrap();
        assert_eq!(after.remaining, Money::from_cents(321));
        assert_eq!(
            after.remaining_after_estimate,
            Money::from_micros(3_197_000)
        );
        assert_eq!(
            preview.summary,
            "≈ $0.013, at most $0.044 · leaves $3.20 of today's $5.00"
        );
        assert!(preview.affordable && !preview.auto_approved);
        assert_eq!(preview.blocked_reason, None);
    }

    #[test]
    fn without_a_budget_there_is_nothing_to_leave() {
        let preview = CostPreview::new(&frontier(), exact(10), &[], None);
        assert_eq!(preview.budget, None);
        assert!(preview.affordable);
        assert!(preview.summary.starts_with("≈ $0.01") && !preview.summary.contains("leaves"));
    }

    #[test]
    fn a_hard_window_below_the_maximum_blocks_even_when_the_estimate_fits() {
        let statuses = [
            window(
                WindowKind::Month,
                ScopeKind::User,
                Money::from_dollars(50),
                Money::ZERO,
                true,
            ),
            // 3 cents left: the estimate (1.3 ¢) fits, the maximum (4.4 ¢) does not.
            window(
                WindowKind::Day,
                ScopeKind::Team,
                Money::from_dollars(1),
                Money::from_cents(97),
                true,
            ),
        ];
        let preview = CostPreview::new(&frontier(), exact(1200), &statuses, None);
        assert!(!preview.affordable);
        let reason = preview.blocked_reason.unwrap();
        assert!(reason.contains("up to $0.044"), "{reason}");
        assert!(
            reason.contains("today's (team platform) budget has $0.03 left"),
            "{reason}"
        );
        assert_eq!(preview.budget.unwrap().label, "today's (team platform)");
    }

    #[test]
    fn soft_windows_warn_and_do_not_block() {
        let statuses = [window(
            WindowKind::Week,
            ScopeKind::Project,
            Money::from_cents(2),
            Money::ZERO,
            false,
        )];
        let preview = CostPreview::new(&frontier(), exact(1200), &statuses, None);
        assert!(preview.affordable);
        assert_eq!(preview.warnings.len(), 1);
        assert!(preview.warnings[0].contains("this week's (project platform) soft budget"));
    }

    #[test]
    fn auto_approve_needs_the_maximum_strictly_below_the_limit() {
        let mini = TierCatalog::builtin().get("mid").unwrap().clone();
        // 100 × $0.15/M + 4096 × $0.60/M = 15 + 2457.6 → 2473 µ$.
        let preview = CostPreview::new(&mini, exact(100), &[], Some(Money::from_micros(2_474)));
        assert_eq!(preview.max_cost, Money::from_micros(2_473));
        assert!(preview.auto_approved);
        let preview = CostPreview::new(&mini, exact(100), &[], Some(Money::from_micros(2_473)));
        assert!(!preview.auto_approved);
        // Never auto-approved past a hard budget.
        let statuses = [window(
            WindowKind::Day,
            ScopeKind::User,
            Money::from_micros(1_000),
            Money::ZERO,
            true,
        )];
        let preview = CostPreview::new(&mini, exact(100), &statuses, Some(Money::from_dollars(1)));
        assert!(!preview.affordable && !preview.auto_approved);
    }
}
