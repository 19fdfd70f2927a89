//! The organization's policy, obeyed by the facade itself: policy files in a folder the test
//! writes while the app is open (no restart), a real SQLite file, the built-in tier catalog.

use std::path::Path;
use std::sync::Arc;

use tokenwise_app::test_support::WordsEngine;
use tokenwise_app::{AppPaths, AskPlan, RouteQuery, Tokenwise};
use tokenwise_core::UserChoice;
use tokenwise_policy::{Level, PolicyDirs};

const HARD: &str = "Design a distributed rate limiter for a multi-region API: compare token \
                    bucket and sliding window approaches, analyse the consistency trade-offs \
                    step by step, prove the bound on over-admission, and write the Rust \
                    implementation with tests.";

async fn app(dir: &Path, policy: &Path) -> Tokenwise {
    tokenwise_app::test_support::open_with_policy(dir, policy, &["Local", "answer."]).await
}

fn write(policy: &Path, level: Level, name: &str, text: &str) {
    let dirs = PolicyDirs {
        root: policy.to_path_buf(),
    };
    std::fs::create_dir_all(dirs.dir(level)).unwrap();
    std::fs::write(dirs.dir(level).join(name), text).unwrap();
}

async fn plan(app: &Tokenwise, choice: UserChoice) -> AskPlan {
    app.plan(RouteQuery {
        conversation_id: None,
        prompt: HARD.into(),
        choice,
    })
    .await
    .unwrap()
}

fn frontier() -> UserChoice {
    UserChoice::Entry {
        id: "frontier".into(),
    }
}

#[tokio::test]
async fn a_managed_policy_governs_routing_and_previews_as_soon_as_it_is_written() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(data.path(), policy.path()).await;
    let open = plan(&app, frontier()).await;
    assert_eq!(open.decision.tier_id, "frontier");
    assert!(open.preview.is_some());

    // No frontier for this team: the explicit pick is not allowed, the reason says so.
    write(
        policy.path(),
        Level::Managed,
        "50-interns.json",
        r#"{"allowed_tiers": ["local", "mid"]}"#,
    );
    let narrowed = plan(&app, frontier()).await;
    assert_ne!(narrowed.decision.tier_id, "frontier");
    assert!(
        narrowed.decision.explanation.contains("not allowed"),
        "{}",
        narrowed.decision.explanation
    );
    let auto = plan(&app, UserChoice::Auto).await;
    assert_ne!(auto.decision.tier_id, "frontier", "{:?}", auto.decision);

    // A cap on one request: mid's maximum is above a tenth of a cent, so it is refused.
    write(
        policy.path(),
        Level::Managed,
        "60-cap.json",
        r#"{"max_request_usd": "0.001"}"#,
    );
    let mid = plan(&app, UserChoice::Entry { id: "mid".into() }).await;
    let preview = mid.preview.expect("mid is a cloud pick");
    let reason = preview.blocked_reason.expect("over the cap");
    assert!(
        reason.contains("60-cap.json") && reason.contains("$0.001"),
        "{reason}"
    );

    // Cloud off: nothing but the local model, with the file named.
    write(
        policy.path(),
        Level::Managed,
        "70-off.json",
        r#"{"cloud_enabled": false}"#,
    );
    let off = plan(&app, frontier()).await;
    assert_eq!(off.decision.tier_id, "local");
    assert!(off.preview.is_none());
    assert!(off.cloud_blocked.unwrap().contains("70-off.json"));

    // Removed again: the cloud is back without a restart.
    for name in ["50-interns.json", "60-cap.json", "70-off.json"] {
        std::fs::remove_file(
            PolicyDirs {
                root: policy.path().to_path_buf(),
            }
            .dir(Level::Managed)
            .join(name),
        )
        .unwrap();
    }
    assert_eq!(plan(&app, frontier()).await.decision.tier_id, "frontier");
}

#[tokio::test]
async fn a_broken_managed_policy_closes_the_cloud_keeps_local_answers_and_is_shown() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(data.path(), policy.path()).await;
    write(
        policy.path(),
        Level::Managed,
        "10.json",
        "{\n  \"allowed_tiers\": [\"local\",\n}",
    );
    let blocked = plan(&app, frontier()).await;
    assert_eq!(blocked.decision.tier_id, "local");
    let reason = blocked.cloud_blocked.expect("fail closed");
    assert!(reason.contains("10.json, line 3"), "{reason}");
    let warnings = app.status().warnings;
    assert!(
        warnings.iter().any(|w| w.contains("10.json, line 3")),
        "{warnings:?}"
    );
    // Local chat still answers.
    let answer = ask_local(&app, "What is a haiku?").await.unwrap();
    assert!(answer.content.contains("Local"), "{}", answer.content);
    // A broken recommended file is reported but does not close anything.
    std::fs::remove_file(policy.path().join("managed/10.json")).unwrap();
    write(policy.path(), Level::Recommended, "10.json", "not json");
    assert!(plan(&app, frontier()).await.cloud_blocked.is_none());
}

#[tokio::test]
async fn a_managed_quota_server_is_the_only_one_this_laptop_connects_to() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(data.path(), policy.path()).await;
    write(
        policy.path(),
        Level::Managed,
        "10.json",
        r#"{"quota_server_url": "https://quota.example.com"}"#,
    );
    let refused = app
        .connect_company("https://elsewhere.example.net", "K7Q2-M9XD", "laptop")
        .await
        .unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("https://quota.example.com") && message.contains("10.json"),
        "{message}"
    );
    let refused = app
        .connect_litellm("https://llm.example.net", "sk-virtual")
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("Your organization"),
        "{refused}"
    );
    assert!(app.company_status().await.unwrap().is_none());
}

async fn app_with_clock(
    dir: &Path,
    policy: &Path,
    clock: Arc<tokenwise_core::FixedClock>,
) -> Tokenwise {
    let paths = AppPaths {
        data_dir: dir.to_path_buf(),
        models_dir: dir.join("models"),
    };
    let app = Tokenwise::open(paths, clock)
        .await
        .unwrap()
        .with_policy_dirs(PolicyDirs {
            root: policy.to_path_buf(),
        });
    app.engine_ready(Arc::new(WordsEngine::new(&["Local", "answer."])));
    app
}

/// A new conversation's first question, answered locally.
async fn ask_local(
    app: &Tokenwise,
    prompt: &str,
) -> Result<tokenwise_core::ChatMessage, tokenwise_app::AppError> {
    app.ask(
        tokenwise_app::AskInput {
            conversation_id: None,
            prompt: prompt.into(),
            greedy: true,
            choice: UserChoice::ForceLocal,
            approval: None,
            project_id: None,
        },
        |_| {},
    )
    .await
}

async fn chat(app: &Tokenwise, prompt: &str) -> String {
    ask_local(app, prompt).await.unwrap().conversation_id
}

#[tokio::test]
async fn chat_history_is_kept_only_as_long_as_the_policy_says_and_the_ledger_stays() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let clock = Arc::new(tokenwise_core::FixedClock::at(1_796_040_000_000));
    let app = app_with_clock(data.path(), policy.path(), clock.clone()).await;
    let old = chat(&app, "What is a haiku?").await;
    clock.advance(3 * 86_400_000);
    let recent = chat(&app, "What is a sonnet?").await;
    let ids = |list: Vec<tokenwise_core::ConversationSummary>| {
        list.into_iter().map(|c| c.id).collect::<Vec<_>>()
    };
    // No policy: nothing is deleted.
    assert_eq!(app.enforce_history_policy(false).await.unwrap(), 0);

    // Kept for two days: the three-day-old chat goes, its cost row stays.
    write(
        policy.path(),
        Level::Managed,
        "10.json",
        r#"{"history_retention_days": 2}"#,
    );
    assert_eq!(app.enforce_history_policy(false).await.unwrap(), 1);
    assert_eq!(
        ids(app.conversations().await.unwrap()),
        std::slice::from_ref(&recent)
    );
    let ledger = app
        .ledger(0, &tokenwise_app::ScopeFilter::All)
        .await
        .unwrap();
    assert_eq!(ledger.len(), 2, "the ledger keeps both answers");
    assert!(ledger
        .iter()
        .any(|row| row.conversation_id.as_deref() == Some(old.as_str())));

    // History off: a chat idle for an hour goes; every chat goes when the window closes.
    write(
        policy.path(),
        Level::Managed,
        "10.json",
        r#"{"history_enabled": false}"#,
    );
    clock.advance(2 * 3_600_000);
    let current = chat(&app, "What is an ode?").await;
    clock.advance(10 * 60_000);
    assert_eq!(
        app.enforce_history_policy(false).await.unwrap(),
        1,
        "the one idle for two hours, not the one idle for ten minutes"
    );
    assert_eq!(ids(app.conversations().await.unwrap()), [current]);
    assert_eq!(app.enforce_history_policy(true).await.unwrap(), 1);
    assert!(app.conversations().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_local_model_and_the_sync_interval_follow_the_policy() {
    let (data, policy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = app(data.path(), policy.path()).await;
    assert_eq!(
        app.sync_interval_ms(),
        tokenwise_app::company::SYNC_INTERVAL_MS
    );
    assert!(app
        .check_local_model("SmolLM2-135M-Instruct.Q4_1.gguf")
        .is_ok());
    // A recommended list does not restrict.
    write(
        policy.path(),
        Level::Recommended,
        "10.json",
        r#"{"local_models_allowed": ["other.gguf"], "sync_interval_seconds": 300}"#,
    );
    assert!(app
        .check_local_model("SmolLM2-135M-Instruct.Q4_1.gguf")
        .is_ok());
    assert_eq!(app.sync_interval_ms(), 300_000);

    write(
        policy.path(),
        Level::Managed,
        "10.json",
        r#"{"local_models_allowed": ["qwen2.5-1.5b-instruct-q4_k_m.gguf"]}"#,
    );
    let refused = app
        .check_local_model("SmolLM2-135M-Instruct.Q4_1.gguf")
        .unwrap_err();
    assert!(refused.to_string().contains("qwen2.5-1.5b"), "{refused}");
    // The loader is never run, and the engine status says why.
    let loaded = std::sync::atomic::AtomicBool::new(false);
    let result = app
        .load_allowed_engine("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2", async {
            loaded.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, String>(WordsEngine::new(&["x"]))
        })
        .await;
    assert!(result.unwrap_err().contains("does not allow"));
    assert!(!loaded.load(std::sync::atomic::Ordering::SeqCst));
    let answer = ask_local(&app, "What is a haiku?").await.unwrap_err();
    assert!(answer.to_string().contains("does not allow"), "{answer}");
}
