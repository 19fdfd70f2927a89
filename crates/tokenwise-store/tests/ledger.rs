//! The ledger and reservations against real SQLite files.

use std::path::Path;
use std::sync::Arc;

use tokenwise_core::{BudgetWindow, Money, WindowKind};
use tokenwise_store::{
    BucketSpend, ConversationSpend, LedgerStatus, LocalRecord, ModelSavings, ReserveRequest,
    ScopeFilter, ScopeIds, ScopeKind, SettleInput, Store, StoreError, WindowTotals,
};

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn scopes() -> ScopeIds {
    ScopeIds {
        user_id: "ada".into(),
        team_id: Some("eng".into()),
        project_id: Some("apollo".into()),
    }
}

/// The day window starting at `day_start` of one of the request's scopes.
fn day(kind: ScopeKind, limit_micros: i64, hard: bool, day_start: i64) -> BudgetWindow {
    BudgetWindow {
        scope_kind: kind,
        scope_id: scopes().id(kind).unwrap().to_string(),
        kind: WindowKind::Day,
        start_ms: day_start,
        end_ms: day_start + DAY,
        limit: Money::from_micros(limit_micros),
        hard,
    }
}

fn request(id: &str, at: i64, amount: i64, checks: Vec<BudgetWindow>) -> ReserveRequest {
    ReserveRequest {
        request_id: id.into(),
        created_at_ms: at,
        scopes: scopes(),
        conversation_id: Some("c1".into()),
        tier: "frontier".into(),
        provider: "anthropic".into(),
        model: "claude-x".into(),
        estimate_micros: amount / 2,
        amount_micros: amount,
        ttl_ms: 10 * 60_000,
        checks,
    }
}

fn local(id: &str, at: i64, conversation: Option<&str>, saved: i64) -> LocalRecord {
    LocalRecord {
        request_id: id.into(),
        created_at_ms: at,
        conversation_id: conversation.map(Into::into),
        scopes: scopes(),
        tier: "local".into(),
        provider: "mistralrs".into(),
        model: "SmolLM2".into(),
        tokens_in: 40,
        tokens_out: 12,
        saved_micros: saved,
    }
}

fn settled(cost: i64, at: i64) -> SettleInput {
    SettleInput {
        tokens_in: 1_000,
        tokens_out: 250,
        cost_micros: cost,
        settled_at_ms: at,
    }
}

async fn totals(store: &Store, kind: ScopeKind, day_start: i64, now: i64) -> WindowTotals {
    let id = scopes().id(kind).unwrap().to_string();
    store
        .window_totals(kind, &id, day_start, day_start + DAY, now)
        .await
        .unwrap()
}

async fn status(store: &Store, request_id: &str) -> LedgerStatus {
    store
        .ledger_rows(i64::MIN, &ScopeFilter::All)
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.request_id == request_id)
        .unwrap_or_else(|| panic!("{request_id} is not in the ledger"))
        .status
}

/// Runs `count` reservations at once, alternating between two handles on the same file (two
/// pools: as two app windows or processes would), and returns the granted request ids.
async fn reserve_concurrently(
    stores: &[Store; 2],
    prefix: &str,
    count: usize,
    amount: i64,
    limit: i64,
    now: i64,
) -> Vec<String> {
    let start = Arc::new(tokio::sync::Barrier::new(count));
    let mut tasks = Vec::new();
    for i in 0..count {
        let store = stores[i % 2].clone();
        let start = start.clone();
        let id = format!("{prefix}-{i:03}");
        tasks.push(tokio::spawn(async move {
            let checks = vec![
                day(ScopeKind::User, limit, true, T0),
                day(ScopeKind::Team, 100 * limit, true, T0),
                day(ScopeKind::Project, limit / 2, false, T0),
            ];
            start.wait().await;
            let outcome = store.reserve(&request(&id, now, amount, checks)).await;
            (id, outcome)
        }));
    }
    let mut granted = Vec::new();
    for task in tasks {
        let (id, outcome) = task.await.unwrap();
        match outcome {
            Ok(reservation) => {
                assert_eq!(reservation.reserved_micros, amount);
                let user = &reservation.windows[0];
                assert!(user.committed_micros <= limit, "{reservation:?}");
                granted.push(id);
            }
            Err(StoreError::BudgetExceeded {
                scope_kind,
                limit_micros,
                committed_micros,
                requested_micros,
                ..
            }) => {
                assert_eq!(scope_kind, ScopeKind::User);
                assert_eq!(limit_micros, limit);
                assert_eq!(requested_micros, amount);
                assert!(committed_micros + amount > limit);
            }
            Err(other) => panic!("{id} failed with something other than a budget refusal: {other}"),
        }
    }
    granted.sort();
    granted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_never_overshoot_a_hard_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenwise.sqlite3");
    let stores = [
        Store::open(&path).await.unwrap(),
        Store::open(&path).await.unwrap(),
    ];
    const LIMIT: i64 = 1_000_000;
    const AMOUNT: i64 = 70_000;
    let now = T0 + 9 * HOUR;

    let granted = reserve_concurrently(&stores, "r", 200, AMOUNT, LIMIT, now).await;
    assert_eq!(
        granted.len() as i64,
        LIMIT / AMOUNT,
        "exactly floor(limit / amount) granted"
    );
    assert!(granted.len() as i64 * AMOUNT <= LIMIT);

    for kind in [ScopeKind::User, ScopeKind::Team, ScopeKind::Project] {
        assert_eq!(
            totals(&stores[1], kind, T0, now).await,
            WindowTotals {
                spent_micros: 0,
                reserved_micros: 14 * AMOUNT,
                local_saved_micros: 0,
                requests: 14,
            },
            "{kind:?}"
        );
    }

    // Half settle for less than they reserved (each a different amount), half are released:
    // all at once, through both handles.
    let mut spent = 0;
    let mut finishing = Vec::new();
    for (i, id) in granted.iter().cloned().enumerate() {
        let store = stores[(i / 2) % 2].clone();
        let cost = 40_000 + 1_234 * i as i64;
        if i % 2 == 0 {
            spent += cost;
        }
        finishing.push(tokio::spawn(async move {
            if i % 2 == 0 {
                store.settle(&id, &settled(cost, now + 1_000)).await
            } else {
                store.release(&id, now + 1_000).await
            }
        }));
    }
    for task in finishing {
        task.await.unwrap().unwrap();
    }
    let expected = WindowTotals {
        spent_micros: spent,
        reserved_micros: 0,
        local_saved_micros: 0,
        requests: 7,
    };
    assert_eq!(
        totals(&stores[0], ScopeKind::User, T0, now + 2_000).await,
        expected
    );
    assert_eq!(
        totals(&stores[1], ScopeKind::Team, T0, now + 2_000).await,
        expected
    );

    // What was released or settled below the reservation is room again, to the micro-dollar.
    let again = reserve_concurrently(&stores, "s", 60, AMOUNT, LIMIT, now + 3_000).await;
    assert_eq!(again.len() as i64, (LIMIT - spent) / AMOUNT);
    let after = totals(&stores[0], ScopeKind::User, T0, now + 3_000).await;
    assert_eq!(after.spent_micros, spent);
    assert_eq!(after.reserved_micros, again.len() as i64 * AMOUNT);
    assert!(after.spent_micros + after.reserved_micros <= LIMIT);
    assert!(after.spent_micros + after.reserved_micros + AMOUNT > LIMIT);

    // Nothing else was written: granted rows only, with the statuses they were given.
    let rows = stores[0]
        .ledger_rows(i64::MIN, &ScopeFilter::All)
        .await
        .unwrap();
    assert_eq!(rows.len(), granted.len() + again.len());
    let released = rows
        .iter()
        .filter(|row| row.status == LedgerStatus::Released)
        .count();
    assert_eq!(released, 7);
    stores[0].close().await;
    stores[1].close().await;
}

#[tokio::test]
async fn soft_windows_warn_but_never_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    let now = T0 + HOUR;
    let mut committed = Vec::new();
    for i in 0..3 {
        let checks = vec![
            day(ScopeKind::User, 1_000_000, true, T0),
            day(ScopeKind::Team, 100_000, false, T0),
        ];
        let reservation = store
            .reserve(&request(&format!("r{i}"), now, 70_000, checks))
            .await
            .unwrap();
        assert!(reservation.windows[0].window.hard && !reservation.windows[1].window.hard);
        committed.push(reservation.windows[1].committed_micros);
    }
    assert_eq!(
        committed,
        vec![70_000, 140_000, 210_000],
        "the soft window reports its overshoot for the caller to warn"
    );
    assert_eq!(
        totals(&store, ScopeKind::Team, T0, now)
            .await
            .reserved_micros,
        210_000
    );
}

#[tokio::test]
async fn expired_reservations_stop_counting_and_late_settlements_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    let hard = || vec![day(ScopeKind::User, 100_000, true, T0)];
    let t = T0 + HOUR;
    let mut first = request("r1", t, 70_000, hard());
    first.ttl_ms = 1_000;
    let reservation = store.reserve(&first).await.unwrap();
    assert_eq!(reservation.expires_at_ms, t + 1_000);

    let refused = store
        .reserve(&request("r2", t + 999, 70_000, hard()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::BudgetExceeded {
                committed_micros: 70_000,
                ..
            }
        ),
        "{refused:?}"
    );
    assert_eq!(
        totals(&store, ScopeKind::User, T0, t + 999)
            .await
            .reserved_micros,
        70_000
    );
    assert_eq!(
        totals(&store, ScopeKind::User, T0, t + 1_000).await,
        WindowTotals::default(),
        "an expired reservation counts for nothing"
    );

    store
        .reserve(&request("r3", t + 1_000, 70_000, hard()))
        .await
        .unwrap();
    assert_eq!(status(&store, "r1").await, LedgerStatus::Expired);
    let rows = store
        .ledger_rows(i64::MIN, &ScopeFilter::All)
        .await
        .unwrap();
    assert!(
        rows.iter().all(|row| row.request_id != "r2"),
        "a refused reservation leaves no row"
    );

    // The expired call finished after all: the money was spent, so it counts (as settled).
    store
        .settle("r1", &settled(60_000, t + 5_000))
        .await
        .unwrap();
    assert_eq!(status(&store, "r1").await, LedgerStatus::Settled);
    assert_eq!(
        totals(&store, ScopeKind::User, T0, t + 5_000).await,
        WindowTotals {
            spent_micros: 60_000,
            reserved_micros: 70_000,
            local_saved_micros: 0,
            requests: 2,
        }
    );
    let refused = store
        .reserve(&request("r4", t + 6_000, 1, hard()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::BudgetExceeded {
                committed_micros: 130_000,
                ..
            }
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_refusal_says_which_budget_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    let checks = || {
        vec![
            day(ScopeKind::User, 10_000_000, true, T0),
            day(ScopeKind::Team, 1_000_000, true, T0),
        ]
    };
    store
        .reserve(&request("r1", T0 + 1, 950_000, checks()))
        .await
        .unwrap();
    let error = store
        .reserve(&request("r2", T0 + 2, 70_000, checks()))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "budget_exceeded");
    // The facts of the refusal (the facade phrases them for people): which window, its limit,
    // what it already holds and what was asked for.
    match error {
        StoreError::BudgetExceeded {
            scope_kind,
            scope_id,
            window_kind,
            limit_micros,
            committed_micros,
            requested_micros,
        } => {
            assert_eq!(scope_kind, ScopeKind::Team);
            assert_eq!(scope_id, "eng");
            assert_eq!(window_kind, WindowKind::Day);
            assert_eq!(limit_micros, 1_000_000);
            assert_eq!(committed_micros, 950_000);
            assert_eq!(requested_micros, 70_000);
        }
        other => panic!("expected BudgetExceeded, got {other:?}"),
    }
}

#[tokio::test]
async fn a_reused_request_id_is_refused_and_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    let checks = || vec![day(ScopeKind::User, 1_000_000, true, T0)];
    store
        .reserve(&request("r1", T0 + 1, 70_000, checks()))
        .await
        .unwrap();
    let again = store
        .reserve(&request("r1", T0 + 2, 70_000, checks()))
        .await
        .unwrap_err();
    assert!(
        matches!(&again, StoreError::DuplicateRequest(id) if id == "r1"),
        "{again:?}"
    );
    assert_eq!(again.code(), "duplicate_request");
    let as_local = store.record_local(&local("r1", T0 + 3, None, 5)).await;
    assert!(
        matches!(as_local, Err(StoreError::DuplicateRequest(_))),
        "{as_local:?}"
    );

    store
        .record_local(&local("l1", T0 + 4, None, 500))
        .await
        .unwrap();
    let twice = store.record_local(&local("l1", T0 + 5, None, 500)).await;
    assert!(
        matches!(twice, Err(StoreError::DuplicateRequest(_))),
        "{twice:?}"
    );
    let twice = store
        .reserve(&request("l1", T0 + 6, 70_000, checks()))
        .await;
    assert!(
        matches!(twice, Err(StoreError::DuplicateRequest(_))),
        "{twice:?}"
    );

    assert_eq!(
        totals(&store, ScopeKind::User, T0, T0 + 10).await,
        WindowTotals {
            spent_micros: 0,
            reserved_micros: 70_000,
            local_saved_micros: 500,
            requests: 2,
        }
    );
}

#[tokio::test]
async fn settle_and_release_refuse_what_is_not_an_open_reservation() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    let checks = || vec![day(ScopeKind::User, 1_000_000, true, T0)];
    let at = T0 + HOUR;

    let unknown = store.settle("nope", &settled(1, at)).await.unwrap_err();
    assert!(
        matches!(&unknown, StoreError::RequestNotFound(id) if id == "nope"),
        "{unknown:?}"
    );
    let unknown = store.release("nope", at).await.unwrap_err();
    assert!(
        matches!(unknown, StoreError::RequestNotFound(_)),
        "{unknown:?}"
    );

    // Settled above the reservation: recorded as is.
    store
        .reserve(&request("a", at, 70_000, checks()))
        .await
        .unwrap();
    store.settle("a", &settled(91_000, at + 1)).await.unwrap();
    let twice = store
        .settle("a", &settled(91_000, at + 2))
        .await
        .unwrap_err();
    assert!(
        matches!(&twice, StoreError::NotReserved { status, .. } if status == "settled"),
        "{twice:?}"
    );
    assert!(twice.to_string().contains("recorded once"), "{twice}");
    let release_settled = store.release("a", at + 3).await.unwrap_err();
    assert!(matches!(release_settled, StoreError::NotReserved { .. }));

    store
        .reserve(&request("b", at, 70_000, checks()))
        .await
        .unwrap();
    store.release("b", at + 1).await.unwrap();
    let after_release = store.settle("b", &settled(1, at + 2)).await.unwrap_err();
    assert!(
        matches!(&after_release, StoreError::NotReserved { status, .. } if status == "released"),
        "{after_release:?}"
    );
    let release_twice = store.release("b", at + 2).await.unwrap_err();
    assert!(matches!(release_twice, StoreError::NotReserved { .. }));

    store.record_local(&local("c", at, None, 10)).await.unwrap();
    let settle_local = store.settle("c", &settled(1, at + 1)).await.unwrap_err();
    assert!(
        matches!(&settle_local, StoreError::NotReserved { status, .. } if status == "local"),
        "{settle_local:?}"
    );

    store
        .reserve(&request("d", at, 70_000, checks()))
        .await
        .unwrap();
    let negative = store.settle("d", &settled(-1, at + 1)).await.unwrap_err();
    assert!(
        matches!(negative, StoreError::InvalidInput(_)),
        "{negative:?}"
    );
    assert_eq!(
        status(&store, "d").await,
        LedgerStatus::Reserved,
        "untouched"
    );

    assert_eq!(
        totals(&store, ScopeKind::User, T0, at + 10).await,
        WindowTotals {
            spent_micros: 91_000,
            reserved_micros: 70_000,
            local_saved_micros: 10,
            requests: 3,
        }
    );
    let rows = store
        .ledger_rows(i64::MIN, &ScopeFilter::All)
        .await
        .unwrap();
    let a = rows.iter().find(|row| row.request_id == "a").unwrap();
    assert_eq!(
        (
            a.cost_micros,
            a.reserved_micros,
            a.tokens_in,
            a.tokens_out,
            a.settled_at_ms
        ),
        (91_000, 70_000, 1_000, 250, Some(at + 1))
    );
    let b = rows.iter().find(|row| row.request_id == "b").unwrap();
    assert_eq!((b.cost_micros, b.settled_at_ms), (0, Some(at + 1)));
}

#[tokio::test]
async fn malformed_reservations_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    let at = T0 + HOUR;
    let ok = || {
        request(
            "r",
            at,
            70_000,
            vec![day(ScopeKind::User, 1_000_000, true, T0)],
        )
    };

    let mut other_scope = ok();
    other_scope.checks[0].scope_id = "grace".into();
    let mut no_team = ok();
    no_team.scopes.team_id = None;
    no_team
        .checks
        .push(day(ScopeKind::Team, 1_000_000, true, T0));
    let mut outside = ok();
    outside.checks[0] = day(ScopeKind::User, 1_000_000, true, T0 + DAY);
    let mut no_ttl = ok();
    no_ttl.ttl_ms = 0;
    let mut negative = ok();
    negative.amount_micros = -5;
    let mut no_id = ok();
    no_id.request_id.clear();

    for bad in [other_scope, no_team, outside, no_ttl, negative, no_id] {
        let error = store.reserve(&bad).await.unwrap_err();
        assert!(matches!(error, StoreError::InvalidInput(_)), "{error:?}");
    }
    assert!(store
        .ledger_rows(i64::MIN, &ScopeFilter::All)
        .await
        .unwrap()
        .is_empty());
    store.reserve(&ok()).await.unwrap();
}

#[tokio::test]
async fn alerts_are_raised_once_per_window_and_threshold_also_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let mark = |kind, id: &'static str, window: &'static str, start, pct| {
        let store = store.clone();
        async move {
            store
                .mark_alert_sent(kind, id, window, start, pct, T0 + 7)
                .await
                .unwrap()
        }
    };
    assert!(mark(ScopeKind::Team, "eng", "day", T0, 80).await);
    assert!(!mark(ScopeKind::Team, "eng", "day", T0, 80).await, "once");
    assert!(
        mark(ScopeKind::Team, "eng", "day", T0, 100).await,
        "another threshold"
    );
    assert!(
        mark(ScopeKind::Team, "eng", "day", T0 + DAY, 80).await,
        "the next window"
    );
    assert!(
        mark(ScopeKind::Team, "eng", "week", T0, 80).await,
        "another window kind"
    );
    assert!(
        mark(ScopeKind::User, "eng", "day", T0, 80).await,
        "another scope kind"
    );
    assert!(
        mark(ScopeKind::Team, "ops", "day", T0, 80).await,
        "another scope"
    );
    store.close().await;

    let store = Store::open(&path).await.unwrap();
    for (kind, id, window, start, pct) in [
        (ScopeKind::Team, "eng", "day", T0, 80),
        (ScopeKind::Team, "eng", "day", T0, 100),
        (ScopeKind::User, "eng", "day", T0, 80),
    ] {
        assert!(
            !store
                .mark_alert_sent(kind, id, window, start, pct, T0 + DAY)
                .await
                .unwrap(),
            "already raised before the restart"
        );
    }
    assert!(store
        .mark_alert_sent(ScopeKind::Team, "eng", "day", T0, 50, T0 + DAY)
        .await
        .unwrap());
}

#[tokio::test]
async fn spend_view_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    store
        .create_conversation("c1", "Quarterly report", T0)
        .await
        .unwrap();
    store.create_conversation("c2", "Haiku", T0).await.unwrap();
    store
        .create_conversation("gone", "Deleted later", T0)
        .await
        .unwrap();
    let checks = |day_start| vec![day(ScopeKind::User, 100_000_000, true, day_start)];

    // Day 0: frontier 300 + mid 120 in c1, a local answer in c2, a released call.
    let cloud = |id: &str, at: i64, tier: &str, conversation: &str| {
        let mut r = request(id, at, 500_000, checks(at - at.rem_euclid(DAY)));
        r.tier = tier.into();
        r.conversation_id = Some(conversation.into());
        r
    };
    for (id, at, tier, conversation, cost) in [
        ("d0-a", T0 + HOUR, "frontier", "c1", 300_000),
        ("d0-b", T0 + 2 * HOUR, "mid", "c1", 120_000),
        ("d1-a", T0 + DAY + HOUR, "mid", "c2", 80_000),
        ("d1-b", T0 + DAY + 2 * HOUR, "mid", "gone", 7_000),
        ("d1-c", T0 + DAY + 3 * HOUR, "frontier", "gone", 9_000),
    ] {
        store
            .reserve(&cloud(id, at, tier, conversation))
            .await
            .unwrap();
        store.settle(id, &settled(cost, at + 10)).await.unwrap();
    }
    store
        .reserve(&cloud("d0-failed", T0 + 3 * HOUR, "frontier", "c1"))
        .await
        .unwrap();
    store.release("d0-failed", T0 + 3 * HOUR + 5).await.unwrap();
    store
        .reserve(&cloud("d2-open", T0 + 2 * DAY + HOUR, "frontier", "c2"))
        .await
        .unwrap();
    store
        .record_local(&local("l0", T0 + 4 * HOUR, Some("c2"), 2_500))
        .await
        .unwrap();
    store
        .record_local(&local("l1", T0 + DAY + 4 * HOUR, Some("c2"), 1_500))
        .await
        .unwrap();
    store
        .record_local(&local("l2", T0 + DAY + 5 * HOUR, None, 1_000))
        .await
        .unwrap();
    // Someone else on the same machine (another account): only in unfiltered reports.
    let mut other = local("x0", T0 + 6 * HOUR, None, 99_000);
    other.scopes = ScopeIds {
        user_id: "grace".into(),
        team_id: None,
        project_id: None,
    };
    store.record_local(&other).await.unwrap();
    store.delete_conversation("gone").await.unwrap();

    let boundaries = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY];
    let buckets = store
        .spend_by_bucket(&ScopeFilter::user("ada"), &boundaries)
        .await
        .unwrap();
    assert_eq!(
        buckets,
        vec![
            BucketSpend {
                start_ms: T0,
                by_tier: vec![("frontier".into(), 300_000), ("mid".into(), 120_000)],
                saved_micros: 2_500,
            },
            BucketSpend {
                start_ms: T0 + DAY,
                by_tier: vec![("frontier".into(), 9_000), ("mid".into(), 87_000)],
                saved_micros: 2_500,
            },
            BucketSpend {
                start_ms: T0 + 2 * DAY,
                by_tier: vec![],
                saved_micros: 0,
            },
        ]
    );
    let everyone = store
        .spend_by_bucket(&ScopeFilter::All, &boundaries[..2])
        .await
        .unwrap();
    assert_eq!(everyone.len(), 1);
    assert_eq!(everyone[0].saved_micros, 2_500 + 99_000);
    let team = store
        .spend_by_bucket(
            &ScopeFilter::Scope {
                kind: ScopeKind::Team,
                id: "eng".into(),
            },
            &boundaries[..2],
        )
        .await
        .unwrap();
    assert_eq!(team[0].saved_micros, 2_500);
    assert!(store
        .spend_by_bucket(&ScopeFilter::All, &[T0])
        .await
        .unwrap()
        .is_empty());
    let unsorted = store
        .spend_by_bucket(&ScopeFilter::All, &[T0 + DAY, T0])
        .await
        .unwrap_err();
    assert!(
        matches!(unsorted, StoreError::InvalidInput(_)),
        "{unsorted:?}"
    );

    assert_eq!(
        store.top_conversations(T0, 10).await.unwrap(),
        vec![
            ConversationSpend {
                conversation_id: "c1".into(),
                title: Some("Quarterly report".into()),
                cost_micros: 420_000,
                saved_micros: 0,
                requests: 2,
            },
            ConversationSpend {
                conversation_id: "c2".into(),
                title: Some("Haiku".into()),
                cost_micros: 80_000,
                saved_micros: 4_000,
                requests: 3,
            },
            ConversationSpend {
                conversation_id: "gone".into(),
                title: None,
                cost_micros: 16_000,
                saved_micros: 0,
                requests: 2,
            },
        ]
    );
    let recent = store.top_conversations(T0 + DAY, 1).await.unwrap();
    assert_eq!(
        (
            recent.len(),
            recent[0].conversation_id.as_str(),
            recent[0].cost_micros
        ),
        (1, "c2", 80_000)
    );

    let rows = store
        .ledger_rows(T0 + DAY, &ScopeFilter::user("ada"))
        .await
        .unwrap();
    let ids: Vec<_> = rows.iter().map(|row| row.request_id.as_str()).collect();
    assert_eq!(ids, ["d1-a", "d1-b", "d1-c", "l1", "l2", "d2-open"]);
    let open = rows.last().unwrap();
    assert_eq!(
        (
            open.status,
            open.reserved_micros,
            open.estimate_micros,
            open.cost_micros
        ),
        (LedgerStatus::Reserved, 500_000, 250_000, 0)
    );
    assert_eq!(open.expires_at_ms, Some(T0 + 2 * DAY + HOUR + 10 * 60_000));
    assert_eq!(open.scopes, scopes());
    let l1 = &rows[3];
    assert_eq!(
        (
            l1.status,
            l1.cost_micros,
            l1.saved_micros,
            l1.tokens_in,
            l1.tokens_out
        ),
        (LedgerStatus::Local, 0, 1_500, 40, 12)
    );
    assert_eq!(
        store
            .ledger_rows(i64::MIN, &ScopeFilter::All)
            .await
            .unwrap()
            .len(),
        11
    );
    assert_eq!(
        store
            .ledger_rows(i64::MIN, &ScopeFilter::user("grace"))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The environment variable that turns [`crash_child_process`] into the crashing writer.
const CRASH_DB: &str = "TOKENWISE_LEDGER_CRASH_DB";

/// Not a test of its own: run by [`everything_reported_done_survives_a_crash`] in a child
/// process, it writes, reports each write once it returned, and dies without closing anything.
#[tokio::test]
async fn crash_child_process() {
    let Ok(path) = std::env::var(CRASH_DB) else {
        return;
    };
    let store = Store::open(Path::new(&path)).await.unwrap();
    let checks = || vec![day(ScopeKind::User, 1_000_000_000, true, T0)];
    for i in 0..40 {
        let at = T0 + i;
        store
            .reserve(&request(&format!("r{i}"), at, 10_000, checks()))
            .await
            .unwrap();
        println!("done reserved r{i}");
        if i % 3 == 0 {
            store
                .settle(&format!("r{i}"), &settled(1_000 + i, at))
                .await
                .unwrap();
            println!("done settled r{i} {}", 1_000 + i);
        } else if i % 3 == 1 {
            store.release(&format!("r{i}"), at).await.unwrap();
            println!("done released r{i}");
        }
        store
            .record_local(&local(&format!("l{i}"), at, None, 7))
            .await
            .unwrap();
        println!("done local l{i}");
    }
    assert!(store
        .mark_alert_sent(ScopeKind::User, "ada", "day", T0, 80, T0)
        .await
        .unwrap());
    println!("done alert");
    std::process::abort();
}

#[tokio::test]
async fn everything_reported_done_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenwise.sqlite3");
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_DB, &path)
        .output()
        .unwrap();
    assert!(!output.status.success(), "the child was meant to crash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let done: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("done "))
        .collect();
    assert_eq!(
        done.last(),
        Some(&"alert"),
        "the child got to the end: {stdout}"
    );
    let wal = std::fs::metadata(path.with_extension("sqlite3-wal")).unwrap();
    assert!(
        wal.len() > 0,
        "the writes were still in the WAL when the process died"
    );

    let store = Store::open(&path).await.unwrap();
    let rows = store
        .ledger_rows(i64::MIN, &ScopeFilter::All)
        .await
        .unwrap();
    let find = |id: &str| {
        rows.iter()
            .find(|row| row.request_id == id)
            .unwrap_or_else(|| panic!("{id} was reported done but is gone"))
    };
    let mut spent = 0;
    for line in &done {
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["reserved", id] => assert!(find(id).reserved_micros == 10_000),
            ["settled", id, cost] => {
                let row = find(id);
                assert_eq!(row.status, LedgerStatus::Settled);
                assert_eq!(row.cost_micros.to_string(), cost);
                spent += row.cost_micros;
            }
            ["released", id] => assert_eq!(find(id).status, LedgerStatus::Released),
            ["local", id] => assert_eq!(find(id).status, LedgerStatus::Local),
            ["alert"] => assert!(!store
                .mark_alert_sent(ScopeKind::User, "ada", "day", T0, 80, T0 + 1)
                .await
                .unwrap()),
            _ => panic!("unexpected line {line:?}"),
        }
    }
    assert_eq!(rows.len(), 80);
    let day = totals(&store, ScopeKind::User, T0, T0 + 100).await;
    assert_eq!(day.spent_micros, spent);
    assert_eq!(
        day.reserved_micros,
        13 * 10_000,
        "r2, r5, … r38 are still reserved"
    );
    assert_eq!(day.local_saved_micros, 40 * 7);
}

#[tokio::test]
async fn local_savings_are_counted_by_the_model_that_answered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    store
        .record_local(&local("a", T0, None, 1_000))
        .await
        .unwrap();
    store
        .record_local(&local("b", T0 + 1, None, 2_000))
        .await
        .unwrap();
    let stronger = LocalRecord {
        model: "Qwen2.5 1.5B".into(),
        ..local("c", T0 + 2, None, 50_000)
    };
    store.record_local(&stronger).await.unwrap();
    store
        .record_local(&local("old", T0 - DAY, None, 9_000))
        .await
        .unwrap();
    assert_eq!(
        store.local_savings_by_model(T0).await.unwrap(),
        vec![
            ModelSavings {
                model: "Qwen2.5 1.5B".into(),
                answers: 1,
                saved_micros: 50_000,
            },
            ModelSavings {
                model: "SmolLM2".into(),
                answers: 2,
                saved_micros: 3_000,
            },
        ]
    );
}
