//! Cloud escalation through the facade, against real peers: a LiteLLM proxy on 127.0.0.1
//! (models answering with `mock_response`, and a model routed back through the proxy so the
//! Anthropic Messages endpoint streams), the real OS keyring (gnome-keyring-daemon on the
//! test's private D-Bus session), a real SQLite file and a real budget file.
//!
//! The gateway's budget refusal needs LiteLLM's database (PostgreSQL plus Prisma engines that
//! cannot be downloaded here), so that one answer comes from a tiny local server sending
//! LiteLLM's error body.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokenwise_app::{
    AppPaths, AskInput, CloudApproval, LedgerStatus, RouteQuery, ScopeFilter, Timeouts, Tokenwise,
};
use tokenwise_cloud::{cost_from_usage, Usage};
use tokenwise_core::{ChatEvent, FixedClock, MessageStatus, Money, Placement, Price, UserChoice};
use tokenwise_testkit::{start_gnome_keyring, LiteLlmProxy, MOCK_TEXT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 2026-11-30 12:00 UTC.
const NOON: i64 = 1_796_040_000_000;
const MASTER_KEY: &str = "sk-tokenwise-cloud-it-Kx93vQ2mZ";
const PROMPT: &str = "Design a fault-tolerant job scheduler and explain the trade-offs.";

const BUDGETS: &str = r#"
time_zone = "UTC"
[identity]
user_id = "alice"

[[budget]]
scope = "user"
id = "alice"
window = "day"
limit_usd = "1.00"
"#;

/// gpt-4o list price, as in the built-in catalog: $2.50 / $10.00 per 1M tokens.
const GPT_4O: Price = Price::per_mtok(
    Money::from_micros(2_500_000),
    Money::from_micros(10_000_000),
);

/// A catalog whose frontier tier is `model` at a provider speaking `api` at `base_url`.
fn catalog(api: &str, base_url: &str, model: &str) -> String {
    format!(
        r#"
[[provider]]
id = "gateway"
api = "{api}"
base_url = "{base_url}"
display_name = "Test gateway"

[[tier]]
id = "local"
tier = "simple"
kind = "local"
provider = "local"
model = "m"
display_name = "Local"
input_per_mtok_micros = 0
output_per_mtok_micros = 0
max_output_tokens = 1024
context_tokens = 8192

[[tier]]
id = "frontier"
tier = "complex"
kind = "cloud"
provider = "gateway"
model = "{model}"
display_name = "{model}"
input_per_mtok_micros = 2500000
output_per_mtok_micros = 10000000
max_output_tokens = 4096
context_tokens = 128000
"#
    )
}

async fn open(dir: &Path, catalog_toml: &str) -> Tokenwise {
    // LiteLLM retries an upstream 500 with back-off before it answers: allow for that.
    open_with_idle_timeout(dir, catalog_toml, Duration::from_secs(30)).await
}

async fn open_with_idle_timeout(dir: &Path, catalog_toml: &str, idle: Duration) -> Tokenwise {
    std::fs::write(dir.join("tiers.toml"), catalog_toml).unwrap();
    let paths = AppPaths {
        data_dir: dir.to_path_buf(),
        models_dir: dir.join("models"),
    };
    let app = Tokenwise::open(paths, Arc::new(FixedClock::at(NOON)))
        .await
        .unwrap()
        .with_cloud_timeouts(Timeouts {
            connect: Duration::from_secs(2),
            idle,
        });
    assert!(
        app.status().warnings.is_empty(),
        "{:?}",
        app.status().warnings
    );
    app
}

fn query() -> RouteQuery {
    RouteQuery {
        conversation_id: None,
        prompt: PROMPT.into(),
        choice: UserChoice::Entry {
            id: "frontier".into(),
        },
    }
}

fn approved(approval: CloudApproval) -> AskInput {
    AskInput {
        conversation_id: None,
        prompt: PROMPT.into(),
        greedy: false,
        choice: UserChoice::Entry {
            id: "frontier".into(),
        },
        approval: Some(approval),
        project_id: None,
    }
}

/// The same question without an approval.
fn unapproved() -> AskInput {
    AskInput {
        approval: None,
        ..approved(CloudApproval {
            tier_id: "frontier".into(),
            max_cost: Money::ZERO,
        })
    }
}

/// The budget file with `auto_approve_below_usd = dollars`.
fn write_budgets_auto_approving_below(dir: &Path, dollars: &str) {
    let text = BUDGETS.replace(
        "[identity]",
        &format!("auto_approve_below_usd = \"{dollars}\"\n[identity]"),
    );
    std::fs::write(dir.join("budgets.toml"), text).unwrap();
}

/// Plans, then asks with the preview's approval; returns the result and the events.
async fn ask_approved(
    app: &Tokenwise,
) -> (
    Result<tokenwise_core::ChatMessage, tokenwise_app::AppError>,
    Vec<ChatEvent>,
) {
    let plan = app.plan(query()).await.unwrap();
    let preview = plan.preview.expect("a cloud pick has a preview");
    let mut events = Vec::new();
    let result = app
        .ask(approved(CloudApproval::from(&preview)), |e| events.push(e))
        .await;
    (result, events)
}

/// Spent and reserved in today's window, from the meter.
async fn meter(app: &Tokenwise) -> (Money, Money) {
    let overview = app.budget_overview().await.unwrap();
    let day = &overview.statuses[0];
    (day.spent, day.reserved)
}

/// Every file under `dir` (the database, its WAL, the budget and catalog files).
fn assert_key_absent(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_key_absent(&path);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let needle = MASTER_KEY.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the API key was written to {}",
            path.display()
        );
    }
}

/// A server that answers every request with LiteLLM's budget refusal (HTTP 400).
async fn budget_refusing_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                // Read the whole request (until the client pauses) so closing sends no reset.
                let mut buffer = vec![0u8; 65536];
                while let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_millis(200), socket.read(&mut buffer)).await
                {
                    if n == 0 {
                        break;
                    }
                }
                let body = r#"{"error":{"message":"Budget has been exceeded! Current cost: 10.2, Max budget: 10.0","type":"budget_exceeded","param":null,"code":"400"}}"#;
                let reply = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_answers_cost_what_the_gateway_charged_and_nothing_leaves_unapproved() {
    start_gnome_keyring();
    let proxy = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let base = proxy.base_url();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("budgets.toml"), BUDGETS).unwrap();
    let app = open(dir.path(), &catalog("openai", &base, "gpt-4o")).await;

    // Keys: entered once, kept in the real keyring, never shown again.
    let providers = app.provider_keys().await.unwrap();
    assert_eq!(providers.len(), 1);
    assert_eq!(providers[0].provider_id, "gateway");
    assert_eq!(providers[0].used_by, ["frontier"]);
    assert!(!providers[0].has_key, "{:?}", providers[0].problem);
    let refused = app
        .save_provider_key("gateway", "two words")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_input");
    app.save_provider_key("gateway", &format!("  {MASTER_KEY}\n"))
        .await
        .unwrap();
    assert!(app.provider_keys().await.unwrap()[0].has_key);

    // 1. The preview: gpt-4o's own tokenizer, catalog prices, what it leaves of today's $1.
    let plan = app.plan(query()).await.unwrap();
    assert_eq!(plan.decision.kind, Placement::Cloud);
    let preview = plan.preview.clone().unwrap();
    assert!(preview.tokens_in.exact, "{}", preview.tokens_in.method);
    assert!(preview.tokens_in.method.starts_with("o200k_base"));
    let tokens_in = preview.tokens_in.tokens;
    assert!((15..40).contains(&tokens_in), "{tokens_in} tokens");
    assert_eq!(preview.expected_tokens_out, 1000);
    assert_eq!(preview.max_tokens_out, 4096);
    assert_eq!(preview.estimated_cost, GPT_4O.cost(tokens_in, 1000));
    assert_eq!(preview.max_cost, GPT_4O.cost(tokens_in, 4096));
    let after = preview.budget.clone().unwrap();
    assert_eq!(after.limit, Money::from_dollars(1));
    assert_eq!(
        after.remaining_after_estimate,
        Money::from_dollars(1).saturating_sub(preview.estimated_cost)
    );
    assert!(
        preview.summary.contains("of today's $1.00"),
        "{}",
        preview.summary
    );
    assert!(preview.affordable && !preview.auto_approved);

    // 2. Without approval (or with an approval for less than the maximum) nothing is sent.
    let mut events = Vec::new();
    let error = app.ask(unapproved(), |e| events.push(e)).await.unwrap_err();
    assert_eq!(error.code(), "confirmation_required");
    let error = app
        .ask(
            approved(CloudApproval {
                tier_id: "frontier".into(),
                max_cost: preview.max_cost.saturating_sub(Money::from_micros(1)),
            }),
            |e| events.push(e),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "confirmation_required");
    assert!(events.is_empty());
    assert_eq!(
        proxy.requests_to("/v1/chat/completions"),
        0,
        "{}",
        proxy.log_tail()
    );
    assert!(app.conversations().await.unwrap().is_empty());

    // 3. Approved: streamed, settled to LiteLLM's figure (stream usage.cost), shown on the answer.
    let (result, events) = ask_approved(&app).await;
    let answer = result.unwrap_or_else(|e| panic!("{e}\n{}", proxy.log_tail()));
    assert_eq!(answer.content, MOCK_TEXT);
    assert_eq!(answer.status, MessageStatus::Complete);
    assert!(matches!(events.first(), Some(ChatEvent::Started { .. })));
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, ChatEvent::Token { .. }))
            .count()
            > 1
    );
    assert!(matches!(events.last(), Some(ChatEvent::Finished { .. })));
    assert_eq!(
        proxy.requests_to("/v1/chat/completions"),
        1,
        "{}",
        proxy.log_tail()
    );
    let stats = answer.stats.clone().unwrap();
    let usage = Usage {
        prompt_tokens: stats.tokens_in,
        completion_tokens: stats.tokens_out,
    };
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    let route = answer.route.clone().unwrap();
    let actual = route.actual_cost.unwrap();
    assert_eq!(route.estimated_cost, Some(preview.estimated_cost));
    // LiteLLM prices gpt-4o like the catalog: the gateway's charge is the usage at list price
    // (its float dollars may round up one micro-dollar more than the exact integer price).
    let list = cost_from_usage(GPT_4O, usage);
    assert!(
        (actual.micros() - list.micros()).abs() <= 1,
        "gateway {actual:?} vs list {list:?}"
    );
    let rows = app.ledger(0, &ScopeFilter::All).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, LedgerStatus::Settled);
    assert_eq!(rows[0].cost_micros, actual.micros());
    assert_eq!(rows[0].estimate_micros, preview.estimated_cost.micros());
    assert_eq!(rows[0].request_id, answer.id);
    assert_eq!(meter(&app).await, (actual, Money::ZERO));
    // Saved with its costs.
    let saved = app.messages(&answer.conversation_id).await.unwrap();
    assert_eq!(saved[1].route.as_ref().unwrap().actual_cost, Some(actual));
    let spent_after_success = actual;

    // 4–5. A 429 and a 500 from upstream: released, nothing charged, the user told why.
    for (failures, (model, code)) in [
        ("mock-ratelimit", "cloud_rate_limited"),
        ("mock-error", "cloud_upstream_failed"),
    ]
    .into_iter()
    .enumerate()
    {
        let app = open(dir.path(), &catalog("openai", &base, model)).await;
        let (result, events) = ask_approved(&app).await;
        let error = result.unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        let Some(ChatEvent::Failed { message, .. }) = events.last() else {
            panic!("{events:?}");
        };
        assert!(message.contains("Nothing was charged"), "{message}");
        assert!(!message.contains(MASTER_KEY));
        assert_eq!(meter(&app).await, (spent_after_success, Money::ZERO));
        let rows = app.ledger(0, &ScopeFilter::All).await.unwrap();
        let released = rows
            .iter()
            .filter(|r| r.status == LedgerStatus::Released)
            .count();
        assert_eq!(released, failures + 1);
    }

    // 6. A slow upstream: stopped by the user after a second; the prompt was sent, so its
    //    tokens are charged at the catalog price (no usage came back); nothing stays reserved.
    let app = Arc::new(open(dir.path(), &catalog("openai", &base, "mock-slow")).await);
    let plan = app.plan(query()).await.unwrap();
    let slow_preview = plan.preview.unwrap();
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
    let asking = {
        let app = app.clone();
        let approval = CloudApproval::from(&slow_preview);
        tokio::spawn(async move {
            app.ask(approved(approval), |event| {
                if matches!(event, ChatEvent::Started { .. }) {
                    let _ = started_tx.send(());
                }
            })
            .await
        })
    };
    // Wait on the answer's own "started" event (sent once the maximum is reserved and the
    // question saved, as the request goes out), never on a fixed delay.
    tokio::time::timeout(Duration::from_secs(60), started_rx.recv())
        .await
        .expect("the slow call never started")
        .expect("the answer ended before it started");
    assert!(app.stop());
    let stopped = tokio::time::timeout(Duration::from_secs(5), asking)
        .await
        .expect("stop ends the call at once")
        .unwrap()
        .unwrap();
    assert_eq!(stopped.status, MessageStatus::Stopped);
    let charged = stopped.route.unwrap().actual_cost.unwrap();
    assert_eq!(charged, GPT_4O.cost(slow_preview.tokens_in.tokens, 0));
    let spent_after_stop = spent_after_success.saturating_add(charged);
    assert_eq!(meter(&app).await, (spent_after_stop, Money::ZERO));

    // ...and one that goes silent past the idle timeout: released.
    let app = open_with_idle_timeout(
        dir.path(),
        &catalog("openai", &base, "mock-slow"),
        Duration::from_secs(1),
    )
    .await;
    let (result, _) = ask_approved(&app).await;
    assert_eq!(result.unwrap_err().code(), "cloud_timeout");
    assert_eq!(meter(&app).await, (spent_after_stop, Money::ZERO));

    // 7. Anthropic's Messages protocol, through the gateway's /v1/messages.
    let app = open(
        dir.path(),
        &catalog("anthropic", &base, "claude-via-gateway"),
    )
    .await;
    let (result, _) = ask_approved(&app).await;
    let answer = result.unwrap_or_else(|e| panic!("{e}\n{}", proxy.log_tail()));
    assert_eq!(answer.content, MOCK_TEXT);
    assert!(proxy.requests_to("/v1/messages") >= 1);
    let stats = answer.stats.unwrap();
    assert!(stats.tokens_in > 0 && stats.tokens_out > 0, "{stats:?}");
    let actual = answer.route.unwrap().actual_cost.unwrap();
    assert!(actual > Money::ZERO);
    let rows = app.ledger(0, &ScopeFilter::All).await.unwrap();
    let row = rows.iter().find(|r| r.request_id == answer.id).unwrap();
    assert_eq!(row.cost_micros, actual.micros());
    let spent_after_anthropic = spent_after_stop.saturating_add(actual);
    assert_eq!(meter(&app).await, (spent_after_anthropic, Money::ZERO));

    // 8. The gateway's own budget refusal (LiteLLM's error body): released, told so.
    let refusing = budget_refusing_server().await;
    let app = open(dir.path(), &catalog("openai", &refusing, "gpt-4o")).await;
    let (result, _) = ask_approved(&app).await;
    let error = result.unwrap_err();
    assert_eq!(error.code(), "gateway_budget_exceeded", "{error}");
    assert_eq!(meter(&app).await, (spent_after_anthropic, Money::ZERO));

    // 9. The budget file's auto-approve rule: a request whose maximum is under it goes without
    //    a confirmation; one over it still asks.
    write_budgets_auto_approving_below(dir.path(), "0.50");
    let app = open(dir.path(), &catalog("openai", &base, "gpt-4o")).await;
    let plan = app.plan(query()).await.unwrap();
    assert!(plan.preview.unwrap().auto_approved);
    let sent_before = proxy.requests_to("/v1/chat/completions");
    let answer = app.ask(unapproved(), |_| {}).await.unwrap();
    assert_eq!(answer.content, MOCK_TEXT);
    assert_eq!(proxy.requests_to("/v1/chat/completions"), sent_before + 1);
    write_budgets_auto_approving_below(dir.path(), "0.01");
    let app = open(dir.path(), &catalog("openai", &base, "gpt-4o")).await;
    let error = app.ask(unapproved(), |_| {}).await.unwrap_err();
    assert_eq!(error.code(), "confirmation_required");

    // 10. A budget with less left than the maximum: not offered, not sent, even if approved.
    std::fs::write(
        dir.path().join("budgets.toml"),
        BUDGETS.replace("limit_usd = \"1.00\"", "limit_usd = \"0.02\""),
    )
    .unwrap();
    let app = open(dir.path(), &catalog("openai", &base, "gpt-4o")).await;
    let sent_before = proxy.requests_to("/v1/chat/completions");
    let plan = app.plan(query()).await.unwrap();
    let preview = plan.preview.unwrap();
    assert!(!preview.affordable);
    assert!(preview.blocked_reason.unwrap().contains("today's budget"));
    let (result, _) = ask_approved(&app).await;
    assert_eq!(result.unwrap_err().code(), "budget_too_low");
    assert_eq!(proxy.requests_to("/v1/chat/completions"), sent_before);

    // The key reached the gateway (it requires it) but was written nowhere on disk.
    drop(app);
    assert_key_absent(dir.path());
}

/// IT points a provider at the company gateway by policy: the catalog's own address (here a
/// port nothing listens on) is not used, Settings shows the gateway, the answer comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_gateway_address_replaces_the_catalogs() {
    // Its own provider id: the keyring is shared with the other test in this file, which
    // checks that "gateway" starts without a key.
    const PROVIDER: &str = "policy-gateway";
    start_gnome_keyring();
    let proxy = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let dir = tempfile::tempdir().unwrap();
    let policy = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("budgets.toml"), BUDGETS).unwrap();
    let managed = policy.path().join("managed");
    std::fs::create_dir_all(&managed).unwrap();
    let gateway = format!("{}/", proxy.base_url());
    std::fs::write(
        managed.join("10-gateway.json"),
        format!(r#"{{"provider_base_urls": {{"{PROVIDER}": "{gateway}"}}}}"#),
    )
    .unwrap();
    let app = open(
        dir.path(),
        &catalog("openai", "http://127.0.0.1:9/v1", "gpt-4o")
            .replace("\"gateway\"", &format!("\"{PROVIDER}\"")),
    )
    .await
    .with_policy_dirs(tokenwise_policy::PolicyDirs {
        root: policy.path().to_path_buf(),
    });
    app.save_provider_key(PROVIDER, MASTER_KEY).await.unwrap();
    let shown = app.provider_keys().await.unwrap();
    assert_eq!(shown[0].base_url, proxy.base_url(), "no trailing slash");

    let (result, _) = ask_approved(&app).await;
    let answer = result.expect("answered through the policy's gateway");
    assert!(answer.content.contains(MOCK_TEXT), "{}", answer.content);

    // Without the policy the catalog's dead address is used again, and the call fails.
    std::fs::remove_file(managed.join("10-gateway.json")).unwrap();
    assert_eq!(
        app.provider_keys().await.unwrap()[0].base_url,
        "http://127.0.0.1:9/v1"
    );
    let (failed, _) = ask_approved(&app).await;
    assert!(failed.is_err(), "the catalog's address answers nothing");
}
