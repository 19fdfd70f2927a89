//! Load benchmark of the quota server: `cargo bench -p tokenwise-server --bench load`.
//!
//! Real `tokenwise-server` processes on SQLite (one instance) and on a real PostgreSQL (one and
//! two instances), driven over loopback by simulated clients. Each client repeats what an app
//! does around a cloud call: poll the quota snapshot (with `If-None-Match`), reserve, settle,
//! report a usage record. Prints requests/s and p50/p99 latency per endpoint.
//!
//! `TOKENWISE_BENCH_CLIENTS` (default 32) and `TOKENWISE_BENCH_SECONDS` (default 10) change
//! the load. The clients run on the same machine as the servers (and PostgreSQL): the figures
//! are what the whole stack does on these cores, a floor for a dedicated server.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokenwise_testkit::{quota_admin, Postgres, QuotaServer};

const ADMIN: &str = "admin-token-for-the-load-benchmark";
const BINARY: &str = env!("CARGO_BIN_EXE_tokenwise-server");

/// The four requests of a cycle, in order.
const KINDS: [&str; 4] = ["quota", "reserve", "settle", "usage"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One client's measurements: microseconds per request, by kind; failed requests.
#[derive(Default)]
struct Samples {
    latencies: [Vec<u64>; 4],
    errors: u64,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        for (mine, theirs) in self.latencies.iter_mut().zip(other.latencies) {
            mine.extend(theirs);
        }
        self.errors += other.errors;
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank] as f64 / 1000.0
}

/// A team with an ample hard budget (so nothing is refused: the limit check still runs on
/// every reservation) and `clients` enrolled users; their device tokens.
async fn company(url: &str, base: &str, clients: usize) -> Vec<String> {
    quota_admin(Path::new(BINARY), url, &["team", "add", "load"]);
    quota_admin(
        Path::new(BINARY),
        url,
        &[
            "budget",
            "set",
            "--scope",
            "team:load",
            "--window",
            "day",
            "--limit-usd",
            "1000000",
        ],
    );
    let http = Client::new();
    let mut tokens = Vec::new();
    for user in 0..clients {
        let id = format!("user{user}");
        let printed = quota_admin(
            Path::new(BINARY),
            url,
            &["user", "add", &id, "--team", "load"],
        );
        let enrollment: Value = serde_json::from_str(&printed).expect("admin prints JSON");
        quota_admin(
            Path::new(BINARY),
            url,
            &[
                "budget",
                "set",
                "--scope",
                &format!("user:{id}"),
                "--window",
                "month",
                "--limit-usd",
                "100000",
            ],
        );
        let response = http
            .post(format!("{base}/v1/enroll"))
            .json(&json!({"code": enrollment["code"], "device_name": "load"}))
            .send()
            .await
            .expect("enroll");
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("enrollment JSON");
        tokens.push(body["token"].as_str().expect("a token").to_string());
    }
    tokens
}

/// One simulated app: cycles until `deadline`.
async fn client(
    http: Client,
    base: String,
    token: String,
    name: usize,
    deadline: Instant,
) -> Samples {
    let mut samples = Samples::default();
    let mut etag: Option<String> = None;
    let mut cycle = 0u64;
    while Instant::now() < deadline {
        let id = format!("c{name}-{cycle}");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let requests = [
            {
                let request = http.get(format!("{base}/v1/quota"));
                match &etag {
                    Some(tag) => request.header("if-none-match", tag),
                    None => request,
                }
            },
            http.post(format!("{base}/v1/reservations"))
                .json(&json!({"id": id, "tier": "mid", "max_cost_micros": 2_000})),
            http.post(format!("{base}/v1/reservations/{id}/settle"))
                .json(&json!({"cost_micros": 1_200, "tokens_in": 300, "tokens_out": 200})),
            http.post(format!("{base}/v1/usage")).json(&json!({"records": [
                {"id": format!("u{name}-{cycle}"), "kind": "cloud", "tier": "mid", "model": "m",
                 "tokens_in": 300, "tokens_out": 200, "cost_micros": 1_200, "created_at_ms": now_ms}
            ]})),
        ];
        for (kind, request) in requests.into_iter().enumerate() {
            let started = Instant::now();
            match request.bearer_auth(&token).send().await {
                Ok(response)
                    if response.status().is_success()
                        || response.status() == StatusCode::NOT_MODIFIED =>
                {
                    if kind == 0 {
                        if let Some(tag) =
                            response.headers().get("etag").and_then(|v| v.to_str().ok())
                        {
                            etag = Some(tag.to_string());
                        }
                    }
                    let _ = response.bytes().await;
                    samples.latencies[kind].push(started.elapsed().as_micros() as u64);
                }
                Ok(response) => {
                    samples.errors += 1;
                    eprintln!(
                        "{} {}: {}",
                        KINDS[kind],
                        response.status(),
                        response.text().await.unwrap_or_default()
                    );
                }
                Err(error) => {
                    samples.errors += 1;
                    eprintln!("{}: {error}", KINDS[kind]);
                }
            }
        }
        cycle += 1;
    }
    samples
}

async fn run(label: &str, url: &str, instances: usize, clients: usize, seconds: u64) {
    let servers: Vec<QuotaServer> = (0..instances)
        .map(|_| QuotaServer::start(Path::new(BINARY), url, ADMIN))
        .collect();
    let tokens = company(url, &servers[0].base, clients).await;
    let http = Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let base = servers[i % servers.len()].base.clone();
            tokio::spawn(client(http.clone(), base, token, i, deadline))
        })
        .collect();
    let mut all = Samples::default();
    for task in tasks {
        all.merge(task.await.expect("a client task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: usize = all.latencies.iter().map(Vec::len).sum();
    let mut line = format!("{label:<24} {total:>9} {:>8.0}", total as f64 / elapsed);
    for latencies in &mut all.latencies {
        latencies.sort_unstable();
        line.push_str(&format!(
            " {:>7.1} {:>7.1}",
            percentile(latencies, 0.50),
            percentile(latencies, 0.99)
        ));
    }
    line.push_str(&format!(" {:>7}", all.errors));
    println!("{line}");
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no options.
    let clients = env_number("TOKENWISE_BENCH_CLIENTS", 32) as usize;
    let seconds = env_number("TOKENWISE_BENCH_SECONDS", 10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "tokenwise-server load: {clients} clients for {seconds} s each; a cycle is a quota poll \
         (If-None-Match), reserve, settle and a usage batch. Latencies in ms."
    );
    println!(
        "{:<24} {:>9} {:>8} {:>15} {:>15} {:>15} {:>15} {:>7}",
        "setup",
        "requests",
        "req/s",
        "quota p50 p99",
        "reserve p50 p99",
        "settle p50 p99",
        "usage p50 p99",
        "errors"
    );
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let sqlite = dir
            .path()
            .join("load.sqlite3")
            .to_string_lossy()
            .into_owned();
        run("SQLite, 1 instance", &sqlite, 1, clients, seconds).await;

        let postgres = Postgres::start();
        let one = postgres.create_database("load_one");
        run("PostgreSQL, 1 instance", &one, 1, clients, seconds).await;
        let two = postgres.create_database("load_two");
        run("PostgreSQL, 2 instances", &two, 2, clients, seconds).await;
    });
}
