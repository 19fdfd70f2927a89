//! The real `tokenwise-server` binary: the admin verbs, several instances on one PostgreSQL,
//! one on SQLite, and `kill -9` in the middle of a stream of reservations and usage batches.

use std::path::Path;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokenwise_testkit::{quota_admin, Postgres, QuotaServer};

const ADMIN: &str = "admin-token-for-process-tests";

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tokenwise-server"))
}

/// A server on `database_url`, killed when dropped.
fn start_server(database_url: &str) -> QuotaServer {
    QuotaServer::start(binary(), database_url, ADMIN)
}

/// `tokenwise-server admin ARGS` on `database_url`; its JSON output.
fn admin(database_url: &str, args: &[&str]) -> Value {
    let stdout = quota_admin(binary(), database_url, args);
    serde_json::from_str(&stdout).unwrap_or(Value::String(stdout))
}

async fn enroll(http: &Client, base: &str, code: &str) -> String {
    let response = http
        .post(format!("{base}/v1/enroll"))
        .json(&json!({"code": code, "device_name": "test laptop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// Team eng with a hard $1.00 day, and `users` enrolled users; their tokens.
async fn company(database_url: &str, bases: &[String], users: usize) -> Vec<String> {
    admin(
        database_url,
        &["team", "add", "eng", "--name", "Engineering"],
    );
    let budget = admin(
        database_url,
        &[
            "budget",
            "set",
            "--scope",
            "team:eng",
            "--window",
            "day",
            "--limit-usd",
            "1.00",
        ],
    );
    assert_eq!(budget["limit_micros"], 1_000_000);
    let http = Client::new();
    let mut tokens = Vec::new();
    for user in 0..users {
        let id = format!("user{user}");
        let enrollment = admin(database_url, &["user", "add", &id, "--team", "eng"]);
        let base = &bases[user % bases.len()];
        tokens.push(enroll(&http, base, enrollment["code"].as_str().unwrap()).await);
    }
    tokens
}

/// 200 reservations of $0.03 at once, spread over `bases` and 10 users, against the team's
/// hard $1.00: exactly 33 fit, none more, and the server's own figures agree.
async fn concurrent_reservations_hold_the_limit(database_url: &str, bases: Vec<String>) {
    let tokens = company(database_url, &bases, 10).await;
    let http = Client::new();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let http = http.clone();
            let base = bases[i % bases.len()].clone();
            let token = tokens[i % tokens.len()].clone();
            tokio::spawn(async move {
                let response = http
                    .post(format!("{base}/v1/reservations"))
                    .bearer_auth(token)
                    .json(&json!({"id": format!("c{i}"), "tier": "frontier", "max_cost_micros": 30_000}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                (status, body)
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => granted += 1,
            StatusCode::CONFLICT => assert_eq!(body["error"]["code"], "budget_exceeded", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(granted, 33, "1.00 / 0.03 = 33 reservations fit, no more");
    let snapshot: Value = http
        .get(format!("{}/v1/quota", bases[0]))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let team = &snapshot["windows"][0];
    assert_eq!(team["reserved_micros"], 33 * 30_000, "{snapshot}");
    assert_eq!(team["spent_micros"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgresql_never_overshoot_a_hard_limit() {
    let postgres = Postgres::start();
    let url = postgres.create_database("quota");
    let first = start_server(&url);
    let second = start_server(&url);
    concurrent_reservations_hold_the_limit(&url, vec![first.base.clone(), second.base.clone()])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_on_sqlite_never_overshoots_a_hard_limit() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir
        .path()
        .join("quota.sqlite3")
        .to_string_lossy()
        .into_owned();
    let server = start_server(&url);
    concurrent_reservations_hold_the_limit(&url, vec![server.base.clone()]).await;
}

/// What the client sent, and whether the server confirmed it.
#[derive(Clone, Debug)]
enum Step {
    Reserve(String),
    Settle(String, i64),
    Usage(Vec<Value>),
}

async fn send(http: &Client, base: &str, token: &str, step: &Step) -> Result<(), String> {
    let request = match step {
        Step::Reserve(id) => http
            .post(format!("{base}/v1/reservations"))
            .json(&json!({"id": id, "tier": "mid", "max_cost_micros": 2_000})),
        Step::Settle(id, cost) => http
            .post(format!("{base}/v1/reservations/{id}/settle"))
            .json(&json!({"cost_micros": cost, "tokens_in": 10, "tokens_out": 5})),
        Step::Usage(records) => http
            .post(format!("{base}/v1/usage"))
            .json(&json!({"records": records})),
    };
    let response = request
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "{} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_kill_9_the_books_match_what_clients_were_told() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir
        .path()
        .join("quota.sqlite3")
        .to_string_lossy()
        .into_owned();
    let mut server = start_server(&url);
    let tokens = company(&url, std::slice::from_ref(&server.base), 1).await;
    admin(
        &url,
        &[
            "budget",
            "set",
            "--scope",
            "team:eng",
            "--window",
            "day",
            "--limit-usd",
            "1000",
        ],
    );
    let token = tokens[0].clone();
    let http = Client::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;

    // The client: reserve → settle, and a usage batch, over and over; it keeps every step
    // whose answer it did not get, to retry.
    let (halfway_tx, halfway) = tokio::sync::oneshot::channel::<()>();
    let client = {
        let (http, base, token) = (http.clone(), server.base.clone(), token.clone());
        tokio::spawn(async move {
            let mut confirmed = 0;
            let mut halfway_tx = Some(halfway_tx);
            let mut unanswered = Vec::new();
            for i in 0..400 {
                let steps = [
                    Step::Reserve(format!("r{i}")),
                    Step::Settle(format!("r{i}"), 100 + i),
                    Step::Usage(vec![
                        json!({"id": format!("u{i}a"), "kind": "cloud", "tier": "mid", "model": "m",
                               "cost_micros": 7, "created_at_ms": now}),
                        json!({"id": format!("u{i}b"), "kind": "local", "tier": "local", "model": "l",
                               "saved_micros": 3, "created_at_ms": now}),
                    ]),
                ];
                for step in steps {
                    if !unanswered.is_empty() || send(&http, &base, &token, &step).await.is_err() {
                        unanswered.push(step);
                    } else {
                        confirmed += 1;
                        if confirmed == 150 {
                            if let Some(tx) = halfway_tx.take() {
                                let _ = tx.send(());
                            }
                        }
                    }
                }
            }
            unanswered
        })
    };
    // Killed while the client is still sending.
    halfway.await.unwrap();
    server.kill_hard();
    let unanswered = client.await.unwrap();
    assert!(
        !unanswered.is_empty(),
        "the kill came before the client finished"
    );

    // Restart on the same file; the client retries everything it was not told about, with
    // the same ids, in order.
    let server = start_server(&url);
    for step in &unanswered {
        send(&http, &server.base, &token, step)
            .await
            .unwrap_or_else(|e| panic!("retry of {step:?}: {e}"));
    }
    let report: Value = http
        .get(format!("{}/v1/admin/spend?group_by=team", server.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Every reservation settled once at 100 + i, every batch counted once.
    let expected_cost: i64 = (0..400).map(|i| 100 + i + 7).sum();
    assert_eq!(report["total_cost_micros"], expected_cost, "{report}");
    assert_eq!(report["total_saved_micros"], 400 * 3, "{report}");
    assert_eq!(report["rows"][0]["cloud_requests"], 800, "{report}");
    assert_eq!(report["open_holds"], 0, "{report}");
}
