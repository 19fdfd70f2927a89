//! Every endpoint of the quota server, in process (the real router on a real socket) against a
//! real SQLite file and a real PostgreSQL, with the clock in the test's hand.

use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokenwise_core::{Clock, FixedClock};
use tokenwise_server::{router, Db, RateLimit, RateLimiter, ServerState};
use tokenwise_testkit::Postgres;

const ADMIN: &str = "admin-token-for-tests-1234";
/// 2026-12-05T10:00:00Z, a Saturday.
const NOW: i64 = 1_796_464_800_000;

struct Server {
    base: String,
    clock: Arc<FixedClock>,
    http: Client,
}

async fn start(database_url: &str, limit: RateLimit) -> Server {
    let db = Db::connect(database_url).await.unwrap();
    let clock = Arc::new(FixedClock::at(NOW));
    let state = Arc::new(ServerState {
        db,
        admin_token: Some(ADMIN.into()),
        clock: clock.clone() as Arc<dyn Clock>,
        limiter: RateLimiter::new(limit),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    Server {
        base,
        clock,
        http: Client::new(),
    }
}

impl Server {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let (status, value) = self
            .call(method, &format!("/v1/admin{path}"), Some(ADMIN), Some(body))
            .await;
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    async fn enroll(&self, code: &str) -> String {
        let (status, value) = self
            .call(
                "POST",
                "/v1/enroll",
                None,
                Some(json!({"code": code, "device_name": "laptop"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        value["token"].as_str().unwrap().to_string()
    }
}

fn error_code(value: &Value) -> &str {
    value["error"]["code"].as_str().unwrap_or("")
}

/// The company of every test: team eng ($1.00/day hard), project apollo, users ada and bob.
async fn set_up_company(server: &Server) -> (String, String) {
    server
        .admin(
            "POST",
            "/teams",
            json!({"id": "eng", "name": "Engineering"}),
        )
        .await;
    server
        .admin("POST", "/projects", json!({"id": "apollo"}))
        .await;
    let ada = server
        .admin(
            "POST",
            "/users",
            json!({"id": "ada", "team_id": "eng", "project_ids": ["apollo"]}),
        )
        .await;
    let bob = server
        .admin("POST", "/users", json!({"id": "bob", "team_id": "eng"}))
        .await;
    server
        .admin(
            "PUT",
            "/budgets",
            json!({"scope_kind": "team", "scope_id": "eng", "window": "day", "limit_usd": "1.00",
                   "time_zone": "Europe/Berlin"}),
        )
        .await;
    server
        .admin(
            "PUT",
            "/budgets",
            json!({"scope_kind": "user", "scope_id": "ada", "window": "month", "limit_usd": "50",
                   "hard": false, "thresholds": [80, 100]}),
        )
        .await;
    let ada = server.enroll(ada["code"].as_str().unwrap()).await;
    let bob = server.enroll(bob["code"].as_str().unwrap()).await;
    (ada, bob)
}

async fn every_endpoint(database_url: &str) {
    let server = start(database_url, RateLimit::default()).await;
    let (ada, bob) = set_up_company(&server).await;

    // The snapshot: who, which windows (the team's day in Berlin), catalog; then 304.
    let response = server
        .http
        .get(format!("{}/v1/quota", server.base))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_string();
    let snapshot: Value = response.json().await.unwrap();
    assert_eq!(snapshot["user"]["id"], "ada");
    assert_eq!(snapshot["team"]["name"], "Engineering");
    assert_eq!(snapshot["projects"][0]["id"], "apollo");
    assert!(snapshot["catalog_toml"]
        .as_str()
        .unwrap()
        .contains("[[tier]]"));
    let windows = snapshot["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{snapshot}");
    let team_day = windows.iter().find(|w| w["scope_kind"] == "team").unwrap();
    // Midnight in Berlin (UTC+1 in December) is 23:00 UTC the day before.
    assert_eq!(team_day["start_ms"], NOW - 11 * 3_600_000);
    assert_eq!(team_day["resets_at_ms"], NOW + 13 * 3_600_000);
    assert_eq!(team_day["limit_micros"], 1_000_000);
    let unchanged = server
        .http
        .get(format!("{}/v1/quota", server.base))
        .bearer_auth(&ada)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    // Reserve, refuse what does not fit (naming the window), settle, reserve again.
    let reserve =
        |id: &str, micros: i64| json!({"id": id, "tier": "frontier", "max_cost_micros": micros});
    let (status, first) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&ada),
            Some(reserve("r1", 600_000)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "reserved");
    let (status, refused) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&bob),
            Some(reserve("r2", 600_000)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(error_code(&refused), "budget_exceeded");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("day budget of team eng"), "{message}");
    // The retried reservation holds once.
    let (status, again) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&ada),
            Some(reserve("r1", 600_000)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["windows"], first["windows"]);
    // Another user's reservation is not found; the owner settles it.
    let (status, _) = server
        .call("GET", "/v1/reservations/r1", Some(&bob), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .call(
            "POST",
            "/v1/reservations/r1/settle",
            Some(&bob),
            Some(json!({"cost_micros": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, settled) = server
        .call(
            "POST",
            "/v1/reservations/r1/settle",
            Some(&ada),
            Some(json!({"cost_micros": 250_000, "tokens_in": 900, "tokens_out": 300})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{settled}");
    assert_eq!(settled["status"], "settled");
    // Settling again with the same cost is a retry; with another cost, a conflict.
    let (status, _) = server
        .call(
            "POST",
            "/v1/reservations/r1/settle",
            Some(&ada),
            Some(json!({"cost_micros": 250_000})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .call(
            "POST",
            "/v1/reservations/r1/settle",
            Some(&ada),
            Some(json!({"cost_micros": 9})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, second) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&bob),
            Some(reserve("r2", 600_000)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, released) = server
        .call("POST", "/v1/reservations/r2/release", Some(&bob), None)
        .await;
    assert_eq!(
        (status, released["status"].as_str()),
        (StatusCode::OK, Some("released"))
    );

    // A hold that is never settled stops counting when it expires, and is reported.
    let (status, _) = server
        .call("POST", "/v1/reservations", Some(&bob),
              Some(json!({"id": "r3", "tier": "frontier", "max_cost_micros": 700_000, "ttl_ms": 60_000})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&ada),
            Some(reserve("r4", 100_000)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "r3 still holds 0.70");
    server.clock.advance(61_000);
    let (status, _) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&ada),
            Some(reserve("r4", 100_000)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "r3 expired");
    let (status, _) = server
        .call("POST", "/v1/reservations/r4/release", Some(&ada), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // Usage batches: idempotent by record id, no prompt text in the schema.
    let batch = json!({"records": [
        {"id": "u1", "kind": "local", "tier": "local", "model": "SmolLM2", "tokens_in": 40,
         "tokens_out": 60, "saved_micros": 700, "created_at_ms": NOW},
        {"id": "u2", "kind": "cloud", "tier": "mid", "model": "gpt-4o-mini", "tokens_in": 10,
         "tokens_out": 10, "cost_micros": 50_000, "project_id": "apollo", "created_at_ms": NOW}
    ]});
    let (status, receipt) = server
        .call("POST", "/v1/usage", Some(&ada), Some(batch.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(
        (receipt["accepted"].as_i64(), receipt["duplicates"].as_i64()),
        (Some(2), Some(0))
    );
    let (_, receipt) = server
        .call("POST", "/v1/usage", Some(&ada), Some(batch))
        .await;
    assert_eq!(
        (receipt["accepted"].as_i64(), receipt["duplicates"].as_i64()),
        (Some(0), Some(2))
    );
    let (status, refused) = server
        .call(
            "POST",
            "/v1/usage",
            Some(&bob),
            Some(json!({"records": [
            {"id": "u3", "kind": "cloud", "tier": "mid", "model": "m", "cost_micros": 1,
             "project_id": "apollo", "created_at_ms": NOW}]})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "bob is not on apollo: {refused}"
    );

    // The spend report: settled + recorded cost, savings, expired holds.
    let (status, report) = server
        .call(
            "GET",
            "/v1/admin/spend?group_by=team&since=2026-12-01",
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"][0]["key"], "eng");
    assert_eq!(report["total_cost_micros"], 300_000);
    assert_eq!(report["total_saved_micros"], 700);
    assert_eq!(report["expired_holds"], 1);
    let (_, by_user) = server
        .call("GET", "/v1/admin/spend?group_by=user", Some(ADMIN), None)
        .await;
    let ada_row = by_user["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "ada")
        .unwrap();
    assert_eq!(ada_row["cost_micros"], 300_000);
    assert_eq!(ada_row["local_answers"], 1);
    let (_, by_day) = server
        .call("GET", "/v1/admin/spend?group_by=day", Some(ADMIN), None)
        .await;
    assert_eq!(by_day["rows"][0]["key"], "2026-12-05");
    let (status, bad) = server
        .call("GET", "/v1/admin/spend?group_by=planet", Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");

    // Tiers per team: the catalog must know them, and a tier not allowed is refused.
    let (status, _) = server
        .call(
            "PUT",
            "/v1/admin/teams/eng/allowed-tiers",
            Some(ADMIN),
            Some(json!({"tiers": ["galaxy"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server
        .admin(
            "PUT",
            "/teams/eng/allowed-tiers",
            json!({"tiers": ["local", "mid"]}),
        )
        .await;
    let (status, refused) = server
        .call(
            "POST",
            "/v1/reservations",
            Some(&ada),
            Some(reserve("r5", 1)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (_, snapshot) = server.call("GET", "/v1/quota", Some(&ada), None).await;
    assert_eq!(snapshot["allowed_tiers"], json!(["local", "mid"]));

    // A catalog the app would refuse is refused here too, naming the problem.
    let (status, refused) = server
        .call(
            "PUT",
            "/v1/admin/catalog",
            Some(ADMIN),
            Some(json!({"toml": "[[tier]]\nid = 3\n"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    bad_input(&server, &ada).await;
}

async fn bad_input(server: &Server, ada: &str) {
    // Credentials.
    let (status, _) = server.call("GET", "/v1/quota", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .call("GET", "/v1/quota", Some("twd_0000"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server.call("GET", "/v1/admin/teams", Some(ada), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a device token is not the admin token"
    );
    // An enrollment code works once.
    let user = server
        .admin("POST", "/users", json!({"id": "cy", "team_id": "eng"}))
        .await;
    let code = user["code"].as_str().unwrap();
    let token = server.enroll(&code.to_lowercase().replace('-', " ")).await;
    let (status, _) = server
        .call(
            "POST",
            "/v1/enroll",
            None,
            Some(json!({"code": code, "device_name": "second"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A revoked device stops at once.
    let (_, devices) = server
        .call("GET", "/v1/admin/devices?user=cy", Some(ADMIN), None)
        .await;
    let device = devices[0]["id"].as_str().unwrap().to_string();
    let (status, _) = server
        .call(
            "POST",
            &format!("/v1/admin/devices/{device}/revoke"),
            Some(ADMIN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server.call("GET", "/v1/quota", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disconnected"));

    // Bodies: malformed, unknown fields, wrong types, too large.
    let raw = |body: &'static str| {
        server
            .http
            .post(format!("{}/v1/reservations", server.base))
            .bearer_auth(ada)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = raw("{\"id\": ").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{body}"
    );
    let response = raw(r#"{"id":"x","tier":"local","max_cost_micros":1,"sneaky":true}"#)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `sneaky`"),
        "{body}"
    );
    let response = raw(r#"{"id":"x","tier":"local","max_cost_micros":"lots"}"#)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let huge = format!(
        r#"{{"records": [{}]}}"#,
        vec![r#"{"id":"x"}"#; 40_000].join(",")
    );
    let response = server
        .http
        .post(format!("{}/v1/usage", server.base))
        .bearer_auth(ada)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Names with quotes and SQL are stored as the text they are.
    let hostile = "Robert'); DROP TABLE teams;--\"";
    server
        .admin("POST", "/teams", json!({"id": "t2", "name": hostile}))
        .await;
    let (_, teams) = server
        .call("GET", "/v1/admin/teams", Some(ADMIN), None)
        .await;
    assert!(
        teams
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == hostile),
        "{teams}"
    );
    let (status, _) = server
        .call(
            "POST",
            "/v1/admin/teams",
            Some(ADMIN),
            Some(json!({"id": "t\u{7}"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "control characters are refused"
    );
    let (status, _) = server
        .call(
            "POST",
            "/v1/admin/teams",
            Some(ADMIN),
            Some(json!({"id": "t2"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = server.call("GET", "/v1/nowhere", Some(ada), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.call("GET", "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_endpoint_on_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    every_endpoint(dir.path().join("quota.sqlite3").to_str().unwrap()).await;
}

#[tokio::test]
async fn every_endpoint_on_postgresql() {
    let postgres = Postgres::start();
    every_endpoint(&postgres.create_database("api")).await;
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path().join("q.sqlite3").to_str().unwrap(),
        RateLimit {
            per_second: 0.5,
            burst: 10.0,
        },
    )
    .await;
    let (ada, _) = set_up_company(&server).await;
    let mut limited = None;
    for _ in 0..20 {
        let response = server
            .http
            .get(format!("{}/v1/quota", server.base))
            .bearer_auth(&ada)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("20 requests at once exceed a burst of 10");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
}
