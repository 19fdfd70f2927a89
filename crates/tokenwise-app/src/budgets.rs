//! Budgets and spend: the windows that apply now and what they have left,
//! the ledger row of every local answer, threshold alerts, and the spend view.
//!
//! Rules live in `tokenwise-quota` (windows, thresholds, levels) and `tokenwise-store` (the
//! ledger, atomic reservations, alert memory); this module composes them with the clock.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokenwise_core::{Difficulty, GenerationStats, Money, RouteDecision, ScopeKind};
use tokenwise_notify::{budget_alert, Notifier};
use tokenwise_policy::EffectivePolicy;
use tokenwise_quota::{
    tightest, window_checks, BudgetConfig, BudgetStatus, Calendar, Headroom, Scopes, WindowKind,
};
use tokenwise_store::{LocalRecord, ScopeFilter};
use tokenwise_sync::protocol::UsageRecord;
use ts_rs::TS;

use crate::company::CompanyStatus;
use crate::error::AppError;
use crate::facade::Tokenwise;

/// Days shown in the spend chart.
pub const SPEND_CHART_DAYS: usize = 30;

/// The budget meter's data: every window that applies now, tightest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BudgetOverview {
    /// Tightest first (smallest share left); empty when no budget is configured.
    pub statuses: Vec<BudgetStatus>,
    /// The budget file read.
    pub file: String,
    /// Why the file could not be used (the last good budgets stay in force).
    pub problem: Option<String>,
    /// The IANA time zone the windows are aligned to.
    pub time_zone: String,
    /// The company's quota server, when connected: its windows are in `statuses`, as of
    /// `synced_at_ms`; `offline` says why they may be out of date.
    pub company: Option<CompanyStatus>,
}

impl BudgetOverview {
    /// One line for the tray menu: what is left of the tightest window ("$3.20 left today",
    /// "Team: $0.00 left this week"), or that there is no budget.
    pub fn headline(&self) -> String {
        let Some(tightest) = self.statuses.first() else {
            return match &self.problem {
                Some(_) => "Budget file broken: cloud blocked".into(),
                None => "No budget set".into(),
            };
        };
        let period = match tightest.window_kind {
            tokenwise_core::WindowKind::Day => "today",
            tokenwise_core::WindowKind::Week => "this week",
            tokenwise_core::WindowKind::Month => "this month",
        };
        let whose = match tightest.scope_kind {
            ScopeKind::User => String::new(),
            ScopeKind::Team => "Team: ".into(),
            ScopeKind::Project => format!("{}: ", tightest.scope_id),
        };
        let left = tightest.remaining.max(Money::ZERO);
        let offline = match &self.company {
            Some(company) if company.offline.is_some() => " (offline)",
            _ => "",
        };
        format!("{whose}{left} left {period}{offline}")
    }
}

/// One tier's spend in a bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TierSpend {
    pub tier: String,
    pub cost: Money,
}

/// One day of the spend chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DaySpend {
    #[ts(type = "number")]
    pub start_ms: i64,
    pub by_tier: Vec<TierSpend>,
    /// What local answers that day would have cost at the frontier tier.
    pub saved: Money,
}

/// A conversation ranked by cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConversationCost {
    pub conversation_id: String,
    /// `None` once the conversation was deleted (its cost stays in the ledger).
    pub title: Option<String>,
    pub cost: Money,
    pub saved: Money,
    pub requests: u32,
}

/// What one local model answered and saved over the spend view's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ModelSaving {
    /// The model's name as the engine reported it (the stats line under its answers).
    pub model: String,
    pub answers: u32,
    pub saved: Money,
}

/// The spend view: daily spend by tier, the costliest conversations, and what local answers
/// saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SpendOverview {
    /// The last [`SPEND_CHART_DAYS`] days, oldest first, in the budget's time zone.
    pub days: Vec<DaySpend>,
    pub top_conversations: Vec<ConversationCost>,
    pub spent: Money,
    pub saved: Money,
    /// The saving by local model, most first: what switching to a stronger one brought.
    pub saved_by_model: Vec<ModelSaving>,
    pub time_zone: String,
}

/// The budget windows as they stand at one moment (empty: no budget configured).
pub(crate) struct BudgetSnapshot {
    pub statuses: Vec<BudgetStatus>,
    /// The budget file's problem, if it has one: cloud answers are blocked until it is fixed.
    pub problem: Option<String>,
    /// The budget file's `auto_approve_below_usd`.
    pub auto_approve_below: Option<Money>,
    /// The catalog entries the company allows the user's team (`None`: every entry).
    pub allowed_tiers: Option<Vec<String>>,
    /// The company's server cannot be reached and an offline allowance is left: this much.
    pub offline_allowance_left: Option<Money>,
}

impl BudgetSnapshot {
    /// What the router may spend: the tightest hard window's remainder (none: no limit).
    pub fn headroom(&self) -> Headroom {
        Headroom::from_statuses(&self.statuses)
    }
}

impl Tokenwise {
    /// Where new alerts go (the desktop's notification service, or a test's recorder).
    pub fn set_notifier(&self, notifier: Arc<dyn Notifier>) {
        self.budgets.set_notifier(notifier);
    }

    /// "Now" for budgets: the clock, but never earlier than a time already recorded.
    pub(crate) fn budget_now(&self) -> i64 {
        self.budgets.now(self.clock.now_ms())
    }

    /// Who requests are charged to: the budget file's identity, else the system user.
    pub(crate) fn scopes(&self, config: Option<&BudgetConfig>) -> Scopes {
        match config {
            Some(config) => config.identity().scopes(),
            None => Scopes {
                user_id: std::env::var("USER")
                    .or_else(|_| std::env::var("USERNAME"))
                    .unwrap_or_else(|_| "me".to_string()),
                team_id: None,
                project_id: None,
            },
        }
    }

    /// Every budget window that applies now, with what is spent and reserved, tightest first.
    pub async fn budget_overview(&self) -> Result<BudgetOverview, AppError> {
        let (config, problem) = self.budgets.config();
        let now = self.budget_now();
        let mut statuses = match &config {
            Some(config) => self.statuses(config, now).await?,
            None => Vec::new(),
        };
        let company = match self.company_budget(&self.policy()).await? {
            Some(company) => {
                statuses.extend(company.statuses);
                self.company_status().await?
            }
            None => None,
        };
        Ok(BudgetOverview {
            statuses: tightest(&statuses).into_iter().cloned().collect(),
            file: self.budgets.file().display().to_string(),
            problem,
            time_zone: config.as_ref().map_or("UTC", |c| c.time_zone()).to_string(),
            company,
        })
    }

    pub(crate) async fn statuses(
        &self,
        config: &BudgetConfig,
        now: i64,
    ) -> Result<Vec<BudgetStatus>, AppError> {
        let scopes = self.scopes(Some(config));
        let plans = window_checks(config, &scopes, now)?;
        let mut statuses = Vec::with_capacity(plans.len());
        for plan in &plans {
            let kind = plan.window.scope_kind;
            let totals = self
                .store
                .window_totals(
                    kind,
                    &plan.window.scope_id,
                    plan.window.start_ms,
                    plan.window.end_ms,
                    now,
                )
                .await?;
            statuses.push(BudgetStatus::new(
                plan,
                Money::from_micros(totals.spent_micros),
                Money::from_micros(totals.reserved_micros),
            ));
        }
        Ok(statuses)
    }

    /// The budget windows that apply now and the auto-approve rule, read once for a routing
    /// decision and the cost preview that follows it.
    pub(crate) async fn budget_snapshot(
        &self,
        policy: &EffectivePolicy,
    ) -> Result<BudgetSnapshot, AppError> {
        let (config, mut problem) = self.budgets.config();
        let mut statuses = match &config {
            Some(config) => self.statuses(config, self.budget_now()).await?,
            None => Vec::new(),
        };
        // The company's windows count like the file's; a server that cannot be reached
        // blocks cloud answers like a broken budget file does.
        let (mut allowed_tiers, mut offline_allowance_left) = (None, None);
        if let Some(company) = self.company_budget(policy).await? {
            statuses.extend(company.statuses);
            problem = problem.or(company.blocked);
            allowed_tiers = company.allowed_tiers;
            offline_allowance_left = company.offline_allowance_left;
        }
        Ok(BudgetSnapshot {
            statuses,
            problem,
            // The policy's value is a ceiling over the budget file's.
            auto_approve_below: policy.cost_setting(
                "auto_approve_below_usd",
                config.and_then(|c| c.auto_approve_below()),
            ),
            allowed_tiers,
            offline_allowance_left,
        })
    }

    /// Writes the ledger row of a local answer: free, with what the frontier tier would have
    /// charged for the same tokens.
    pub(crate) async fn record_local_answer(
        &self,
        request_id: &str,
        conversation_id: &str,
        decision: &RouteDecision,
        stats: &GenerationStats,
    ) -> Result<(), AppError> {
        let (config, _) = self.budgets.config();
        let scopes = self.scopes(config.as_ref());
        let saved = self
            .triage
            .catalog()
            .for_tier(Difficulty::Complex)
            .map_or(Money::ZERO, |frontier| {
                frontier.price.cost(stats.tokens_in, stats.tokens_out)
            });
        self.store
            .record_local(&LocalRecord {
                request_id: request_id.to_string(),
                created_at_ms: self.budget_now(),
                conversation_id: Some(conversation_id.to_string()),
                scopes: scopes.clone(),
                tier: decision.tier_id.clone(),
                provider: decision.provider.clone(),
                model: stats.model.clone(),
                tokens_in: stats.tokens_in,
                tokens_out: stats.tokens_out,
                saved_micros: saved.micros(),
            })
            .await?;
        self.report_local_answer(UsageRecord {
            id: request_id.to_string(),
            kind: "local".into(),
            tier: decision.tier_id.clone(),
            model: stats.model.clone(),
            tokens_in: i64::from(stats.tokens_in),
            tokens_out: i64::from(stats.tokens_out),
            cost_micros: 0,
            saved_micros: saved.micros(),
            project_id: None,
            created_at_ms: self.clock.now_ms(),
        })
        .await
    }

    /// Raises one desktop notification per window per threshold reached by settled spend,
    /// remembered in the database so a restart does not repeat it. Returns the alerts raised.
    pub async fn check_budget_alerts(&self) -> Result<Vec<String>, AppError> {
        let (config, _) = self.budgets.config();
        let now = self.budget_now();
        let mut statuses = match &config {
            Some(config) => self.statuses(config, now).await?,
            None => Vec::new(),
        };
        // The company's windows alert the same way, from the figures last synced.
        if let Some(company) = self.company_budget(&self.policy()).await? {
            statuses.extend(company.statuses);
        }
        let notifier = self.budgets.notifier();
        let mut raised = Vec::new();
        for status in statuses {
            for &threshold in &status.thresholds {
                if !tokenwise_quota::thresholds::reached(status.limit, status.spent, threshold) {
                    continue;
                }
                let first_time = self
                    .store
                    .mark_alert_sent(
                        status.scope_kind,
                        &status.scope_id,
                        status.window_kind.as_str(),
                        status.start_ms,
                        threshold,
                        now,
                    )
                    .await?;
                if !first_time {
                    continue;
                }
                let alert = budget_alert(
                    &scope_label(&status),
                    window_label(status.window_kind),
                    threshold,
                    &status.spent.to_string(),
                    &status.limit.to_string(),
                );
                let title = alert.title.clone();
                if let Some(notifier) = notifier.clone() {
                    // Delivery blocks (up to a few seconds on a hung service): off the async
                    // threads. The alert is remembered either way; a missing notification
                    // service must not stop the answer that triggered the check.
                    let delivered =
                        tokio::task::spawn_blocking(move || notifier.notify(&alert)).await;
                    match delivered {
                        Ok(Ok(())) => {}
                        Ok(Err(error)) => {
                            eprintln!("tokenwise: could not show a budget alert: {error}")
                        }
                        Err(join) => eprintln!("tokenwise: budget alert crashed: {join}"),
                    }
                }
                raised.push(title);
            }
        }
        Ok(raised)
    }

    /// The spend view: the last 30 days by tier, the costliest conversations, the savings.
    pub async fn spend_overview(&self) -> Result<SpendOverview, AppError> {
        let (config, _) = self.budgets.config();
        let calendar = config
            .as_ref()
            .map_or_else(Calendar::utc, |c| *c.calendar());
        let now = self.budget_now();
        let today = calendar.window(WindowKind::Day, now)?;
        // Bucket boundaries, oldest first: 30 day starts, then today's end. Days are walked back
        // through the calendar (not 24-hour steps) so DST days keep their length.
        let mut starts = vec![today.end_ms, today.start_ms];
        for _ in 1..SPEND_CHART_DAYS {
            let earliest = *starts.last().unwrap_or(&today.start_ms);
            starts.push(calendar.window(WindowKind::Day, earliest - 1)?.start_ms);
        }
        starts.reverse();
        let filter = ScopeFilter::user(self.scopes(config.as_ref()).user_id);
        let buckets = self.store.spend_by_bucket(&filter, &starts).await?;
        let days: Vec<DaySpend> = buckets
            .into_iter()
            .map(|bucket| DaySpend {
                start_ms: bucket.start_ms,
                by_tier: bucket
                    .by_tier
                    .into_iter()
                    .map(|(tier, cost)| TierSpend {
                        tier,
                        cost: Money::from_micros(cost),
                    })
                    .collect(),
                saved: Money::from_micros(bucket.saved_micros),
            })
            .collect();
        let spent = days
            .iter()
            .flat_map(|d| d.by_tier.iter())
            .fold(Money::ZERO, |sum, t| sum.saturating_add(t.cost));
        let saved = days
            .iter()
            .fold(Money::ZERO, |sum, d| sum.saturating_add(d.saved));
        let top_conversations = self
            .store
            .top_conversations(starts[0], 5)
            .await?
            .into_iter()
            .map(|c| ConversationCost {
                conversation_id: c.conversation_id,
                title: c.title,
                cost: Money::from_micros(c.cost_micros),
                saved: Money::from_micros(c.saved_micros),
                requests: u32::try_from(c.requests).unwrap_or(u32::MAX),
            })
            .collect();
        let saved_by_model = self
            .store
            .local_savings_by_model(starts[0])
            .await?
            .into_iter()
            .map(|m| ModelSaving {
                model: m.model,
                answers: u32::try_from(m.answers).unwrap_or(u32::MAX),
                saved: Money::from_micros(m.saved_micros),
            })
            .collect();
        Ok(SpendOverview {
            days,
            top_conversations,
            spent,
            saved,
            saved_by_model,
            time_zone: calendar.zone_name().to_string(),
        })
    }
}

fn scope_label(status: &BudgetStatus) -> String {
    match status.scope_kind {
        ScopeKind::User => format!("You ({})", status.scope_id),
        ScopeKind::Team => format!("Team {}", status.scope_id),
        ScopeKind::Project => format!("Project {}", status.scope_id),
    }
}

fn window_label(kind: WindowKind) -> &'static str {
    match kind {
        WindowKind::Day => "day",
        WindowKind::Week => "week",
        WindowKind::Month => "month",
    }
}
