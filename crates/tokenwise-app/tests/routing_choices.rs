//! A person's routing choices through the facade: kept in the real SQLite file across a
//! restart, moving the router's decision, reset, and turned off by a managed policy.

use std::path::Path;

use tokenwise_app::{RouteQuery, RoutingFeedback, Tokenwise};
use tokenwise_core::{Difficulty, Placement, RouteDecision, UserChoice};
use tokenwise_policy::{Level, PolicyDirs};

/// Medium by the shipped classifier (confidently enough to go to the cloud).
const SQL: &str = "Write a PostgreSQL query counting how many support tickets were opened each \
                   week over the last 12 weeks, from a table tickets(id, opened_at).";
/// Simple by the shipped classifier: answered locally.
const FACTOID: &str = "What is the capital of France?";

async fn app(data: &Path, policy: &Path) -> Tokenwise {
    tokenwise_app::test_support::open_with_policy(data, policy, &["Local", "answer."]).await
}

async fn route(app: &Tokenwise, prompt: &str, choice: UserChoice) -> RouteDecision {
    app.plan(RouteQuery {
        conversation_id: None,
        prompt: prompt.into(),
        choice,
    })
    .await
    .unwrap()
    .decision
}

#[tokio::test]
async fn a_local_answer_would_do_moves_the_prompt_local_across_a_restart_until_reset() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = app(data.path(), policy.path()).await;
    let before = route(&first, SQL, UserChoice::Auto).await;
    assert_eq!(before.kind, Placement::Cloud, "{}", before.explanation);
    assert_eq!(before.difficulty, Difficulty::Medium);
    assert_eq!(first.routing_adjustment().choices, 0);

    let outcome = first
        .record_routing_feedback(SQL, before.difficulty, RoutingFeedback::LocalWouldDo)
        .await
        .unwrap();
    assert_eq!(outcome.adjustment.choices, 1);
    assert!(outcome.adjustment.enabled && !outcome.adjustment.locked);
    assert_eq!(outcome.ask_entry, None);
    let after = route(&first, SQL, UserChoice::Auto).await;
    assert_eq!(after.kind, Placement::Local, "{}", after.explanation);
    assert!(after
        .explanation
        .contains("Adjusted by your earlier routing choices"));
    drop(first);

    // Kept in the database file: a new process routes the same way.
    let second = app(data.path(), policy.path()).await;
    assert_eq!(second.routing_adjustment().choices, 1);
    assert_eq!(
        route(&second, SQL, UserChoice::Auto).await.kind,
        Placement::Local
    );
    // An unrelated kind of prompt is not moved.
    let proof = "Prove that the square root of 2 is irrational, step by step.";
    assert_eq!(
        route(&second, proof, UserChoice::Auto).await.difficulty,
        route(
            &app(tempfile::tempdir().unwrap().path(), policy.path()).await,
            proof,
            UserChoice::Auto
        )
        .await
        .difficulty
    );

    let reset = second.reset_routing_choices().await.unwrap();
    assert_eq!(reset.choices, 0);
    assert_eq!(
        route(&second, SQL, UserChoice::Auto).await.kind,
        Placement::Cloud
    );
}

#[tokio::test]
async fn not_good_enough_names_the_cloud_entry_to_ask_and_routes_like_prompts_there() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(data.path(), policy.path()).await;
    let before = route(&app, FACTOID, UserChoice::Auto).await;
    assert_eq!(before.kind, Placement::Local);
    let outcome = app
        .record_routing_feedback(FACTOID, before.difficulty, RoutingFeedback::NeedsCloud)
        .await
        .unwrap();
    let entry = outcome
        .ask_entry
        .expect("the built-in catalog has cloud tiers");
    let asked = route(&app, FACTOID, UserChoice::Entry { id: entry }).await;
    assert_eq!(asked.kind, Placement::Cloud);
    assert!(asked.needs_confirmation, "the cost dialog comes first");
    // Next time the router itself goes one tier up, not two.
    let after = route(&app, FACTOID, UserChoice::Auto).await;
    assert_eq!(
        after.difficulty,
        Difficulty::Medium,
        "{}",
        after.explanation
    );
    assert_eq!(after.kind, Placement::Cloud);
    assert!(app
        .record_routing_feedback("  ", Difficulty::Simple, RoutingFeedback::NeedsCloud)
        .await
        .is_err());
}

#[tokio::test]
async fn a_managed_policy_turns_learning_off() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(data.path(), policy.path()).await;
    app.record_routing_feedback(SQL, Difficulty::Medium, RoutingFeedback::LocalWouldDo)
        .await
        .unwrap();
    assert_eq!(
        route(&app, SQL, UserChoice::Auto).await.kind,
        Placement::Local
    );

    let dirs = PolicyDirs {
        root: policy.path().to_path_buf(),
    };
    std::fs::create_dir_all(dirs.dir(Level::Managed)).unwrap();
    std::fs::write(
        dirs.dir(Level::Managed).join("learning.json"),
        r#"{"learn_from_choices": false}"#,
    )
    .unwrap();
    let outcome = app
        .record_routing_feedback(SQL, Difficulty::Medium, RoutingFeedback::LocalWouldDo)
        .await
        .unwrap();
    assert_eq!(outcome.adjustment.choices, 0);
    assert!(!outcome.adjustment.enabled && outcome.adjustment.locked);
    // The earlier choice no longer applies.
    assert_eq!(
        route(&app, SQL, UserChoice::Auto).await.kind,
        Placement::Cloud
    );
}

#[tokio::test]
async fn not_good_enough_names_only_an_allowed_entry_and_none_when_the_cloud_is_closed() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let dirs = PolicyDirs {
        root: policy.path().to_path_buf(),
    };
    std::fs::create_dir_all(dirs.dir(Level::Managed)).unwrap();
    let rules = dirs.dir(Level::Managed).join("tiers.json");
    let app = app(data.path(), policy.path()).await;
    // Only the frontier tier is allowed: a simple prompt's "not good enough" skips to it.
    std::fs::write(&rules, r#"{"allowed_tiers": ["local", "frontier"]}"#).unwrap();
    let outcome = app
        .record_routing_feedback(FACTOID, Difficulty::Simple, RoutingFeedback::NeedsCloud)
        .await
        .unwrap();
    assert_eq!(outcome.ask_entry.as_deref(), Some("frontier"));
    // No cloud at all: nothing to ask (the window says so); the choice is still kept.
    std::fs::write(&rules, r#"{"cloud_enabled": false}"#).unwrap();
    let outcome = app
        .record_routing_feedback(FACTOID, Difficulty::Simple, RoutingFeedback::NeedsCloud)
        .await
        .unwrap();
    assert_eq!(outcome.ask_entry, None);
    assert_eq!(outcome.adjustment.choices, 2);
}
