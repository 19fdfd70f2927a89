//! Budgets through the facade: a real SQLite file, a real budget file, a fixed clock, and a
//! recording notifier (the real notification server is tested in `tokenwise-notify`).

use std::sync::Arc;

use async_trait::async_trait;
use tokenwise_app::{AppPaths, AskInput, RouteQuery, Tokenwise};
use tokenwise_core::{BudgetWindow, WindowKind};
use tokenwise_core::{
    CancellationToken, ChatEngine, Error, FixedClock, GenerationOutcome, GenerationRequest,
    GenerationStats, Money, Placement, PromptMessage, RouteReason, UserChoice,
};
use tokenwise_notify::RecordingNotifier;
use tokenwise_store::{ReserveRequest, ScopeIds, ScopeKind, SettleInput, Store};
use tokio::sync::mpsc::UnboundedSender;

/// 2025-11-30 12:00 UTC (13:00 in Berlin).
const NOON: i64 = 1_764_504_000_000;
const HOUR: i64 = 3_600_000;

/// Answers "ok" with fixed usage: 1,000 tokens in, 100 out.
struct FixedEngine;

#[async_trait]
impl ChatEngine for FixedEngine {
    fn model_name(&self) -> String {
        "fixed".into()
    }
    fn context_tokens(&self) -> u32 {
        8192
    }
    async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error> {
        Ok(tokenwise_app::test_support::words_as_tokens(messages))
    }
    async fn generate(
        &self,
        _: GenerationRequest,
        tokens: UnboundedSender<String>,
        _: CancellationToken,
    ) -> Result<GenerationOutcome, Error> {
        tokens.send("ok".into()).unwrap();
        Ok(GenerationOutcome {
            stats: GenerationStats {
                model: "fixed".into(),
                tokens_in: 1_000,
                tokens_out: 100,
                time_to_first_token_ms: 1,
                prefill_tokens_per_second: 1.0,
                decode_tokens_per_second: 1.0,
                total_ms: 1,
            },
            stopped: false,
        })
    }
}

const BUDGETS: &str = r#"
time_zone = "Europe/Berlin"
[identity]
user_id = "alice"
team_id = "eng"

[[budget]]
scope = "user"
id = "alice"
window = "day"
limit_usd = "1.00"

[[budget]]
scope = "team"
id = "eng"
window = "month"
limit_usd = "100.00"
mode = "soft"
"#;

struct Fixture {
    dir: tempfile::TempDir,
    clock: Arc<FixedClock>,
}

impl Fixture {
    fn new(budgets: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = budgets {
            std::fs::write(dir.path().join("budgets.toml"), text).unwrap();
        }
        Self {
            dir,
            clock: Arc::new(FixedClock::at(NOON)),
        }
    }

    async fn app(&self) -> Tokenwise {
        let paths = AppPaths {
            data_dir: self.dir.path().to_path_buf(),
            models_dir: self.dir.path().join("models"),
        };
        let app = Tokenwise::open(paths, self.clock.clone()).await.unwrap();
        app.engine_ready(Arc::new(FixedEngine));
        app
    }

    /// Cloud spend written straight to the ledger, as the escalation path will: reserve,
    /// then settle to the actual cost.
    async fn spend(&self, request_id: &str, at_ms: i64, micros: i64) {
        let store = Store::open(&self.dir.path().join("tokenwise.sqlite3"))
            .await
            .unwrap();
        store
            .reserve(&ReserveRequest {
                request_id: request_id.into(),
                created_at_ms: at_ms,
                scopes: ScopeIds {
                    user_id: "alice".into(),
                    team_id: Some("eng".into()),
                    project_id: None,
                },
                conversation_id: None,
                tier: "frontier".into(),
                provider: "openai".into(),
                model: "gpt-4o".into(),
                estimate_micros: micros,
                amount_micros: micros,
                ttl_ms: HOUR,
                checks: vec![BudgetWindow {
                    scope_kind: ScopeKind::User,
                    scope_id: "alice".into(),
                    kind: WindowKind::Day,
                    start_ms: at_ms - HOUR,
                    end_ms: at_ms + HOUR,
                    limit: Money::from_micros(i64::MAX),
                    hard: false,
                }],
            })
            .await
            .unwrap();
        store
            .settle(
                request_id,
                &SettleInput {
                    tokens_in: 1,
                    tokens_out: 1,
                    cost_micros: micros,
                    settled_at_ms: at_ms,
                },
            )
            .await
            .unwrap();
        store.close().await;
    }
}

fn ask(prompt: &str) -> AskInput {
    AskInput {
        conversation_id: None,
        prompt: prompt.into(),
        greedy: true,
        choice: UserChoice::Auto,
        approval: None,
        project_id: None,
    }
}

#[tokio::test]
async fn a_local_answer_is_a_free_ledger_row_that_records_what_it_saved() {
    let fixture = Fixture::new(None);
    let app = fixture.app().await;
    let answer = app.ask(ask("What is 2 + 2?"), |_| {}).await.unwrap();
    let rows = app
        .ledger(0, &tokenwise_app::ScopeFilter::All)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.request_id, answer.id);
    assert_eq!(
        row.conversation_id.as_deref(),
        Some(answer.conversation_id.as_str())
    );
    assert_eq!(row.cost_micros, 0);
    assert_eq!(row.provider, "local");
    // gpt-4o at $2.50 / $10.00 per million: 1,000 in + 100 out = $0.0025 + $0.001.
    assert_eq!(row.saved_micros, 3_500);
    let spend = app.spend_overview().await.unwrap();
    assert_eq!(spend.days.len(), 30);
    assert_eq!(spend.saved, Money::from_micros(3_500));
    assert_eq!(spend.spent, Money::ZERO);
    // By the model that answered: what a switch to a stronger one brings shows here.
    assert_eq!(spend.saved_by_model.len(), 1);
    assert_eq!(spend.saved_by_model[0].model, row.model);
    assert_eq!(spend.saved_by_model[0].answers, 1);
    assert_eq!(spend.saved_by_model[0].saved, Money::from_micros(3_500));
    assert!(app.budget_overview().await.unwrap().statuses.is_empty());
}

#[tokio::test]
async fn the_meter_shows_each_window_tightest_first_and_alerts_fire_once_ever() {
    let fixture = Fixture::new(Some(BUDGETS));
    fixture.spend("r1", NOON - HOUR, 850_000).await;
    let app = fixture.app().await;
    let notifier = Arc::new(RecordingNotifier::new());
    app.set_notifier(notifier.clone());

    let overview = app.budget_overview().await.unwrap();
    assert_eq!(overview.time_zone, "Europe/Berlin");
    assert_eq!(overview.problem, None);
    assert_eq!(overview.statuses.len(), 2);
    let day = &overview.statuses[0];
    assert_eq!(
        (day.scope_id.as_str(), day.window_kind.as_str()),
        ("alice", "day"),
        "85 % used: the tightest"
    );
    assert_eq!(day.spent, Money::from_micros(850_000));
    assert_eq!(day.remaining, Money::from_micros(150_000));
    assert_eq!(day.percent_used, 85);
    // Berlin midnight, 2025-12-01 00:00 CET = 23:00 UTC.
    assert_eq!(day.resets_at_ms, NOON + 11 * HOUR);

    let raised = app.check_budget_alerts().await.unwrap();
    assert_eq!(raised.len(), 2, "50 % and 80 % of the day: {raised:?}");
    let alerts = notifier.take();
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts.iter().any(|a| a.title.contains("80 %")),
        "{alerts:?}"
    );
    assert!(alerts[0].body.contains("$0.85"), "{alerts:?}");
    assert!(
        app.check_budget_alerts().await.unwrap().is_empty(),
        "once only"
    );

    // Remembered across a restart; the next threshold still fires.
    drop(app);
    fixture.spend("r2", NOON, 200_000).await;
    let app = fixture.app().await;
    app.set_notifier(notifier.clone());
    let raised = app.check_budget_alerts().await.unwrap();
    assert_eq!(raised.len(), 1, "only 100 %: {raised:?}");
    assert!(notifier.take()[0].title.contains("used up"));
}

#[tokio::test]
async fn the_router_steps_down_when_the_budget_cannot_cover_the_estimate() {
    let fixture = Fixture::new(Some(BUDGETS));
    fixture.spend("r1", NOON - HOUR, 999_990).await;
    let app = fixture.app().await;
    let hard = "Design a distributed rate limiter for a multi-region API: compare token bucket \
        and sliding window approaches, analyse the consistency trade-offs step by step, prove \
        the bound on over-admission, and write the Rust implementation with tests. "
        .repeat(6);
    let decision = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: hard,
            choice: UserChoice::Auto,
        })
        .await
        .unwrap()
        .decision;
    assert_eq!(decision.kind, Placement::Local, "{}", decision.explanation);
    assert_eq!(decision.reason, RouteReason::LocalOnly);
    assert_eq!(decision.budget_remaining, Some(Money::from_micros(10)));
    assert!(
        decision.explanation.contains("budget"),
        "{}",
        decision.explanation
    );
}

#[tokio::test]
async fn a_broken_budget_file_names_its_line_and_keeps_the_last_good_budgets() {
    let fixture = Fixture::new(Some(BUDGETS));
    let app = fixture.app().await;
    assert_eq!(app.budget_overview().await.unwrap().statuses.len(), 2);

    let broken = BUDGETS.replace("Europe/Berlin", "Europe/Berln");
    std::fs::write(fixture.dir.path().join("budgets.toml"), broken).unwrap();
    let file = std::fs::File::options()
        .append(true)
        .open(fixture.dir.path().join("budgets.toml"))
        .unwrap();
    // The modification time moves on even on coarse file systems: set it, do not wait for it.
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();

    let overview = app.budget_overview().await.unwrap();
    let problem = overview.problem.expect("the problem is reported");
    assert!(problem.contains("budgets.toml, line 2"), "{problem}");
    assert!(problem.contains("Europe/Berln"), "{problem}");
    assert_eq!(overview.statuses.len(), 2, "last good budgets kept");
    assert_eq!(overview.time_zone, "Europe/Berlin");
}

#[tokio::test]
async fn a_clock_set_back_does_not_reopen_a_closed_day() {
    let fixture = Fixture::new(Some(BUDGETS));
    // Spend late on the 30th, Berlin time...
    fixture.spend("r1", NOON + 10 * HOUR, 900_000).await;
    // ...then the machine's clock goes back to the 29th.
    fixture.clock.advance(-36 * HOUR);
    let app = fixture.app().await;
    let day = app.budget_overview().await.unwrap().statuses[0].clone();
    assert_eq!(day.window_kind.as_str(), "day");
    assert_eq!(
        day.spent,
        Money::from_micros(900_000),
        "still the 30th's window"
    );
}

fn frontier_decision(max_cost: i64) -> tokenwise_core::RouteDecision {
    tokenwise_core::RouteDecision {
        tier_id: "frontier".into(),
        difficulty: tokenwise_core::Difficulty::Complex,
        model: "gpt-4o".into(),
        model_name: "gpt-4o".into(),
        provider: "openai".into(),
        kind: Placement::Cloud,
        estimated_cost: Money::from_micros(max_cost / 2),
        max_cost: Money::from_micros(max_cost),
        budget_remaining: None,
        needs_confirmation: true,
        cloud_available: true,
        reason: RouteReason::Classified,
        skipped: Vec::new(),
        explanation: "complex → frontier".into(),
    }
}

#[tokio::test]
async fn cloud_reservations_hold_the_maximum_in_every_window_then_settle_to_the_actual() {
    let fixture = Fixture::new(Some(BUDGETS));
    let app = fixture.app().await;
    let notifier = Arc::new(RecordingNotifier::new());
    app.set_notifier(notifier.clone());

    let reservation = app
        .test_reserve_cloud("c1", None, &frontier_decision(700_000))
        .await
        .unwrap();
    assert_eq!(reservation.reserved_micros, 700_000);
    assert_eq!(
        reservation.windows.len(),
        2,
        "the day (hard) and the team month (soft)"
    );
    let day = &app.budget_overview().await.unwrap().statuses[0];
    assert_eq!(day.reserved, Money::from_micros(700_000));

    // A second maximum that does not fit today's hard $1.00 is refused, naming the window.
    let error = app
        .test_reserve_cloud("c2", None, &frontier_decision(400_000))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "budget_exceeded");
    assert!(error.to_string().contains("daily"), "{error}");

    // The call cost less than its maximum: settle frees the rest, and 50 % is announced.
    let raised = app
        .test_settle_cloud("c1", 900, 300, Money::from_micros(520_000))
        .await
        .unwrap();
    assert_eq!(raised.len(), 1, "{raised:?}");
    let day = &app.budget_overview().await.unwrap().statuses[0];
    assert_eq!(
        (day.spent, day.reserved),
        (Money::from_micros(520_000), Money::ZERO)
    );

    app.test_reserve_cloud("c3", None, &frontier_decision(400_000))
        .await
        .unwrap();
    app.test_release_cloud("c3").await.unwrap();
    let day = &app.budget_overview().await.unwrap().statuses[0];
    assert_eq!(
        (day.spent, day.reserved),
        (Money::from_micros(520_000), Money::ZERO)
    );
}

#[tokio::test]
async fn a_tier_catalog_file_replaces_the_built_in_one_and_a_broken_one_is_reported() {
    let fixture = Fixture::new(None);
    // The company's catalog: "mid" through its own gateway.
    let catalog = tokenwise_core::tiers::BUILTIN_CATALOG_TOML.replace(
        "provider = \"openai\"\nmodel = \"gpt-4o-mini\"",
        "provider = \"company-gw\"\nmodel = \"company-mini\"",
    ) + "\n[[provider]]\nid = \"company-gw\"\napi = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n";
    std::fs::write(fixture.dir.path().join("tiers.toml"), &catalog).unwrap();
    let app = fixture.app().await;
    assert!(app.status().warnings.is_empty());
    let medium = "Explain how a hash map works and when to prefer a B-tree instead, with a short example in Python. ".repeat(3);
    let decision = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: medium,
            choice: UserChoice::Entry { id: "mid".into() },
        })
        .await
        .unwrap()
        .decision;
    assert_eq!(decision.model, "company-mini", "{}", decision.explanation);

    drop(app);
    std::fs::write(fixture.dir.path().join("tiers.toml"), "[[tier]]\nid = 7\n").unwrap();
    let app = fixture.app().await;
    let [warning] = app.status().warnings.try_into().expect("one warning");
    assert!(warning.contains("tiers.toml"), "{warning}");
    assert!(warning.contains("Cloud answers are off"), "{warning}");
    // The company's last good catalog is what the window lists, not the built-in one.
    assert!(
        warning.contains("The last good catalog is shown"),
        "{warning}"
    );
    let providers = app.provider_keys().await.unwrap();
    let gateway = providers
        .iter()
        .find(|p| p.provider_id == "company-gw")
        .expect("the company's provider is still listed");
    assert_eq!(gateway.used_by, vec!["mid".to_string()]);
    // Fail closed: the built-in cloud tiers do not come back while the file is broken.
    let plan = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: "Explain how a hash map works and when to prefer a B-tree instead.".into(),
            choice: UserChoice::Entry { id: "mid".into() },
        })
        .await
        .unwrap();
    assert_eq!(
        plan.decision.kind,
        Placement::Local,
        "{}",
        plan.decision.explanation
    );
    assert!(plan.preview.is_none());
    assert_eq!(plan.cloud_blocked.as_deref(), Some(warning.as_str()));
}
