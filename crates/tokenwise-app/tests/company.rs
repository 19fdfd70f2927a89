//! The app against its company's quota server: a real `tokenwise-server` process on a SQLite
//! file, the real keyring (gnome-keyring-daemon on the test's D-Bus session), the real LiteLLM
//! proxy answering cloud calls, two data folders standing for two laptops of one team, and the
//! testkit's fault proxy between a laptop and the server.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokenwise_app::test_support::WordsEngine;
use tokenwise_app::{
    AppPaths, AskInput, CloudApproval, RouteQuery, ScopeFilter, Timeouts, Tokenwise,
};
use tokenwise_core::{ChatMessage, Money, ScopeKind, SystemClock, UserChoice};
use tokenwise_testkit::{
    quota_admin, quota_server_binary, start_gnome_keyring, Fault, FaultProxy, LiteLlmProxy,
    QuotaServer,
};

const ADMIN: &str = "admin-token-for-the-company-tests";
const MASTER_KEY: &str = "sk-tokenwise-company-it-8Hq2xv";
const PROMPT: &str = "Design a fault-tolerant job scheduler and explain the trade-offs.";

/// A company on its own quota server: team eng (Engineering) with a hard daily budget.
struct Company {
    dir: tempfile::TempDir,
    server: Option<QuotaServer>,
}

impl Company {
    fn start(team_day_usd: &str) -> Company {
        let dir = tempfile::tempdir().unwrap();
        let company = Company { dir, server: None };
        company.admin(&["team", "add", "eng", "--name", "Engineering"]);
        company.admin(&[
            "budget",
            "set",
            "--scope",
            "team:eng",
            "--window",
            "day",
            "--limit-usd",
            team_day_usd,
        ]);
        Company {
            server: Some(company.serve()),
            ..company
        }
    }

    fn database(&self) -> String {
        self.dir
            .path()
            .join("quota.sqlite3")
            .to_string_lossy()
            .into_owned()
    }

    fn serve(&self) -> QuotaServer {
        QuotaServer::start(&quota_server_binary(), &self.database(), ADMIN)
    }

    fn admin(&self, args: &[&str]) -> Value {
        let out = quota_admin(&quota_server_binary(), &self.database(), args);
        serde_json::from_str(&out).unwrap_or(Value::String(out))
    }

    /// After a crash: a new process on the same database and the same address.
    fn restart(&mut self) {
        let url = self.url();
        let address = url.trim_start_matches("http://").to_string();
        self.server = None;
        self.server = Some(QuotaServer::start_at(
            &quota_server_binary(),
            &self.database(),
            ADMIN,
            &address,
            &[],
        ));
    }

    fn url(&self) -> String {
        self.server.as_ref().expect("the server runs").base.clone()
    }

    /// A new user of team eng; their one-time enrollment code.
    fn code_for(&self, user: &str) -> String {
        self.admin(&["user", "add", user, "--team", "eng"])["code"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The server's own books: the spend report by team.
    fn books(&self) -> Value {
        self.admin(&["spend", "--group-by", "team"])
    }
}

fn catalog(base_url: &str) -> String {
    format!(
        r#"
[[provider]]
id = "gateway"
api = "openai"
base_url = "{base_url}"

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
model = "gpt-4o"
display_name = "gpt-4o"
input_per_mtok_micros = 2500000
output_per_mtok_micros = 10000000
max_output_tokens = 4096
context_tokens = 128000
"#
    )
}

/// A laptop: its own data folder, the company's tier catalog, a scripted local model.
async fn laptop(dir: &Path, gateway: &str) -> Tokenwise {
    std::fs::write(dir.join("tiers.toml"), catalog(gateway)).unwrap();
    let paths = AppPaths {
        data_dir: dir.to_path_buf(),
        models_dir: dir.join("models"),
    };
    let app = Tokenwise::open(paths, Arc::new(SystemClock))
        .await
        .unwrap()
        .with_cloud_timeouts(Timeouts {
            connect: Duration::from_secs(2),
            idle: Duration::from_secs(30),
        });
    app.engine_ready(Arc::new(WordsEngine::new(&["Local", "answer."])));
    app.save_provider_key("gateway", MASTER_KEY).await.unwrap();
    app
}

fn frontier() -> UserChoice {
    UserChoice::Entry {
        id: "frontier".into(),
    }
}

/// Plans the cloud question and asks it with the preview's approval.
async fn ask_cloud(app: &Tokenwise) -> Result<ChatMessage, tokenwise_app::AppError> {
    let plan = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: PROMPT.into(),
            choice: frontier(),
        })
        .await?;
    // The router steps down when the budget cannot cover the call's maximum.
    let Some(preview) = plan.preview else {
        return Err(tokenwise_app::AppError::CloudNotAffordable(
            plan.decision.explanation,
        ));
    };
    app.ask(
        AskInput {
            conversation_id: None,
            prompt: PROMPT.into(),
            greedy: true,
            choice: frontier(),
            approval: Some(CloudApproval::from(&preview)),
            project_id: None,
        },
        |_| {},
    )
    .await
}

async fn ask_local(app: &Tokenwise) -> ChatMessage {
    app.ask(
        AskInput {
            conversation_id: None,
            prompt: "What is a haiku?".into(),
            greedy: true,
            choice: UserChoice::ForceLocal,
            approval: None,
            project_id: None,
        },
        |_| {},
    )
    .await
    .unwrap()
}

/// The team's day window as this laptop's meter shows it: (limit, spent, reserved) in µ$.
async fn team_window(app: &Tokenwise) -> (i64, i64, i64) {
    let overview = app.budget_overview().await.unwrap();
    let team = overview
        .statuses
        .iter()
        .find(|s| s.scope_kind == ScopeKind::Team && s.scope_id == "eng")
        .unwrap_or_else(|| panic!("no team window: {overview:?}"));
    (
        team.limit.micros(),
        team.spent.micros(),
        team.reserved.micros(),
    )
}

fn cost_of(answer: &ChatMessage) -> i64 {
    answer
        .route
        .as_ref()
        .and_then(|route| route.actual_cost)
        .expect("a settled cloud answer has its cost")
        .micros()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_laptops_of_one_team_share_its_window_and_never_overshoot_it() {
    start_gnome_keyring();
    let proxy = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let company = Company::start("0.05");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = laptop(dir_a.path(), &proxy.base_url()).await;
    let b = laptop(dir_b.path(), &proxy.base_url()).await;

    // A wrong code links nothing and says so.
    let wrong = a
        .connect_company(&company.url(), "WRONG-CODE", "laptop A")
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "company_unauthorized", "{wrong}");
    assert!(a.company_status().await.unwrap().is_none());

    let status = a
        .connect_company(&company.url(), &company.code_for("ada"), "laptop A")
        .await
        .unwrap();
    assert_eq!(
        (
            status.user_id.as_str(),
            status.team_id.as_str(),
            status.team_name.as_str()
        ),
        ("ada", "eng", "Engineering")
    );
    assert!(status.synced_at_ms.is_some());
    assert_eq!(status.offline, None);
    b.connect_company(&company.url(), &company.code_for("bob"), "laptop B")
        .await
        .unwrap();
    // The device token is in the keyring only: not in any file of the data folder.
    assert_eq!(team_window(&a).await, (50_000, 0, 0));
    assert_eq!(team_window(&b).await, (50_000, 0, 0));

    // A spends; the server holds the maximum first and is told the actual cost after.
    let first = ask_cloud(&a).await.unwrap();
    let first_cost = cost_of(&first);
    assert!(first_cost > 0);
    assert_eq!(team_window(&a).await, (50_000, first_cost, 0));
    // B sees it after a sync.
    b.sync_company().await.unwrap();
    assert_eq!(team_window(&b).await, (50_000, first_cost, 0));

    // Both at once, twice: a call may hold up to ~$0.041, so the $0.05 window has room for one
    // hold at a time. Whatever interleaving happens, none goes over and each refusal is a
    // budget refusal.
    let mut spent = first_cost;
    for _ in 0..2 {
        let (from_a, from_b) = tokio::join!(ask_cloud(&a), ask_cloud(&b));
        for result in [from_a, from_b] {
            match result {
                Ok(answer) => spent += cost_of(&answer),
                Err(error) => assert!(
                    ["budget_exceeded", "budget_too_low"].contains(&error.code().as_str()),
                    "{error}"
                ),
            }
        }
    }
    let books = company.books();
    assert_eq!(books["total_cost_micros"], spent, "{books}");
    assert_eq!(books["open_holds"], 0, "{books}");
    assert!(spent <= 50_000);
    b.sync_company().await.unwrap();
    assert_eq!(team_window(&b).await, (50_000, spent, 0));
    assert_eq!(
        a.company_status().await.unwrap().unwrap().pending_records,
        0
    );

    // A tighter personal budget on the server reaches the laptop's cost preview: nothing is
    // sent that cannot be held.
    company.admin(&[
        "budget",
        "set",
        "--scope",
        "user:bob",
        "--window",
        "day",
        "--limit-usd",
        "0.01",
    ]);
    b.sync_company().await.unwrap();
    let before = proxy.requests_to("/v1/chat/completions");
    let refused = ask_cloud(&b).await.unwrap_err();
    assert_eq!(refused.code(), "budget_too_low", "{refused}");
    assert_eq!(proxy.requests_to("/v1/chat/completions"), before);

    // The company takes the cloud tiers away from the team: the router stops offering them.
    company.admin(&["team", "allow-tiers", "eng", "local"]);
    a.sync_company().await.unwrap();
    let plan = a
        .plan(RouteQuery {
            conversation_id: None,
            prompt: PROMPT.into(),
            choice: frontier(),
        })
        .await
        .unwrap();
    assert_eq!(plan.decision.tier_id, "local", "{:?}", plan.decision);
    assert!(plan.preview.is_none());
    assert!(
        plan.decision.explanation.contains("not allowed"),
        "{}",
        plan.decision.explanation
    );

    for dir in [dir_a.path(), dir_b.path()] {
        tokenwise_testkit::assert_no_file_contains(dir, "twd_");
    }
    a.disconnect_company().await.unwrap();
    assert!(a.company_status().await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_cloud_waits_local_answers_go_on_and_the_outbox_catches_up() {
    start_gnome_keyring();
    let proxy = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let mut company = Company::start("5.00");
    let dir = tempfile::tempdir().unwrap();
    let app = laptop(dir.path(), &proxy.base_url()).await;
    app.connect_company(&company.url(), &company.code_for("ada"), "laptop")
        .await
        .unwrap();

    // A local answer's usage reaches the server with the next sync (free, with what it
    // saved); the answer itself never waits for the server.
    ask_local(&app).await;
    assert_eq!(
        app.company_status().await.unwrap().unwrap().pending_records,
        1
    );
    app.sync_company().await.unwrap();
    let books = company.books();
    assert_eq!(books["rows"][0]["local_answers"], 1, "{books}");

    // The server goes away (kill -9).
    company.server.as_mut().unwrap().kill_hard();
    let status = app.sync_company().await.unwrap().unwrap();
    let offline = status.offline.expect("offline");
    assert!(offline.contains("cannot be reached"), "{offline}");

    // Local answers go on; their records wait in the outbox.
    ask_local(&app).await;
    ask_local(&app).await;
    assert_eq!(
        app.company_status().await.unwrap().unwrap().pending_records,
        2
    );
    // The cloud waits for the server, saying why; nothing is sent.
    let plan = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: PROMPT.into(),
            choice: frontier(),
        })
        .await
        .unwrap();
    let blocked = plan.cloud_blocked.expect("cloud blocked while offline");
    assert!(blocked.contains("Cloud answers wait for it"), "{blocked}");
    // Even with an approval in hand (a dialog opened before the server went away).
    let before = proxy.requests_to("/v1/chat/completions");
    let sent = app
        .ask(
            AskInput {
                conversation_id: None,
                prompt: PROMPT.into(),
                greedy: true,
                choice: frontier(),
                approval: Some(CloudApproval {
                    tier_id: "frontier".into(),
                    max_cost: Money::from_dollars(1),
                }),
                project_id: None,
            },
            |_| {},
        )
        .await;
    if let Ok(answer) = &sent {
        let route = answer.route.as_ref().unwrap();
        assert_eq!(
            route.tier_id, "local",
            "answered locally, not sent: {route:?}"
        );
    }
    assert_eq!(proxy.requests_to("/v1/chat/completions"), before);

    // Back on the same address: one sync delivers the outbox, and again changes nothing.
    company.restart();
    let status = app.sync_company().await.unwrap().unwrap();
    assert_eq!(status.offline, None);
    assert_eq!(status.pending_records, 0);
    let books = company.books();
    assert_eq!(books["rows"][0]["local_answers"], 4, "{books}");
    app.sync_company().await.unwrap();
    let again = company.books();
    assert_eq!(
        again["rows"][0]["local_answers"], 4,
        "counted once: {again}"
    );
    let saved: i64 = app
        .ledger(0, &ScopeFilter::All)
        .await
        .unwrap()
        .iter()
        .map(|row| row.saved_micros)
        .sum();
    assert_eq!(books["total_saved_micros"], saved, "{books}");
}

/// Every fault the network between laptop and server can make, through the testkit's fault
/// proxy: a 500, a captive portal's page, no answer, an answer that never comes back after
/// the server acted, one cut off, one dropped, a request delivered twice. Cloud answers are
/// refused before anything is sent, local answers go on, and afterwards the server's books
/// equal what the laptop settled, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_faults_send_nothing_lose_nothing_and_count_nothing_twice() {
    start_gnome_keyring();
    let gateway = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let company = Company::start("5.00");
    let network = FaultProxy::start(&company.url());
    let dir = tempfile::tempdir().unwrap();
    let app = laptop(dir.path(), &gateway.base_url())
        .await
        .with_company_timeout(Duration::from_secs(1));
    app.connect_company(&network.base_url(), &company.code_for("ada"), "laptop")
        .await
        .unwrap();
    let faults = [
        Fault::ServerError,
        Fault::Garbage,
        Fault::Hang,
        Fault::HangAfterServer,
        Fault::TruncateAnswer,
        Fault::DropAnswer,
    ];
    let exact = |spent: i64, local_answers: usize, context: &str| {
        let books = company.books();
        let row = &books["rows"][0];
        assert_eq!(books["total_cost_micros"], spent, "{context}: {books}");
        assert_eq!(row["local_answers"], local_answers, "{context}: {books}");
        assert_eq!(books["open_holds"], 0, "{context}: {books}");
    };
    let (mut spent, mut local_answers) = (0_i64, 0_usize);

    // The hold on the server fails: nothing is sent, and a hold the server made anyway (its
    // answer lost) is given back once the server answers again.
    for fault in faults {
        network.set_for("/v1/reservations", fault);
        let sent = gateway.requests_to("/v1/chat/completions");
        let error = ask_cloud(&app).await.unwrap_err();
        assert_eq!(error.code(), "cloud_blocked", "{fault:?}: {error}");
        assert!(error.to_string().contains("Nothing was sent"), "{error}");
        assert_eq!(
            gateway.requests_to("/v1/chat/completions"),
            sent,
            "{fault:?}"
        );
        // Local answers go on.
        ask_local(&app).await;
        local_answers += 1;
        network.clear();
        let status = app.sync_company().await.unwrap().unwrap();
        assert_eq!(status.offline, None, "{fault:?}");
        assert_eq!(status.pending_records, 0, "{fault:?}");
        exact(spent, local_answers, &format!("hold through {fault:?}"));
    }

    // The call is made; telling the server what it cost fails. The settlement waits in the
    // outbox and is counted once, whether or not the server had it already.
    for fault in faults.into_iter().chain([Fault::Duplicate]) {
        network.set_for("/settle", fault);
        let answer = ask_cloud(&app).await.unwrap();
        spent += cost_of(&answer);
        network.clear();
        let status = app.sync_company().await.unwrap().unwrap();
        assert_eq!(
            (status.pending_records, status.refused_records),
            (0, 0),
            "{fault:?}"
        );
        exact(spent, local_answers, &format!("settle through {fault:?}"));
    }

    // Usage batches through every fault, each pushed while it lasts; then one sync.
    for fault in faults.into_iter().chain([Fault::Duplicate]) {
        network.set(fault);
        ask_local(&app).await;
        local_answers += 1;
        let _ = app.push_outbox().await;
    }
    assert!(network.forwarded("/v1/usage") > 0, "the server saw batches");
    network.clear();
    let status = app.sync_company().await.unwrap().unwrap();
    assert_eq!((status.pending_records, status.refused_records), (0, 0));
    exact(spent, local_answers, "usage through every fault");

    // The laptop is killed mid-push (the request reached the server, the answer never came
    // back): a new start delivers the same records again, counted once.
    network.set_for("/v1/usage", Fault::HangAfterServer);
    ask_local(&app).await;
    local_answers += 1;
    let forwarded = network.forwarded("/v1/usage");
    {
        // Stopped once the batch is at the server (its answer is held back), not after a
        // fixed time: polled with a deadline.
        let push = app.push_outbox();
        tokio::pin!(push);
        let mut pushing = true;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while network.forwarded("/v1/usage") == forwarded {
            assert!(std::time::Instant::now() < deadline, "the batch never came");
            tokio::select! {
                _ = &mut push, if pushing => pushing = false,
                _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            }
        }
    }
    assert!(
        network.forwarded("/v1/usage") > forwarded,
        "the server had the batch"
    );
    assert_eq!(
        app.company_status().await.unwrap().unwrap().pending_records,
        1,
        "the push was cut off before the laptop heard back"
    );
    app.close().await;
    drop(app);
    network.clear();
    let restarted = laptop(dir.path(), &gateway.base_url()).await;
    let status = restarted.sync_company().await.unwrap().unwrap();
    assert_eq!(status.pending_records, 0);
    exact(spent, local_answers, "after a restart mid-push");
    let saved: i64 = restarted
        .ledger(0, &ScopeFilter::All)
        .await
        .unwrap()
        .iter()
        .map(|row| row.saved_micros)
        .sum();
    assert_eq!(company.books()["total_saved_micros"], saved);
}

/// `offline_allowance_usd`: while the server cannot be reached the laptop may spend this much
/// in the cloud, each call confirmed with a dialog that says so; the server hears of it,
/// once, when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_allowance_pays_for_cloud_calls_reported_when_the_server_is_back() {
    start_gnome_keyring();
    let proxy = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let mut company = Company::start("5.00");
    let dir = tempfile::tempdir().unwrap();
    let budget_file = dir.path().join("budgets.toml");
    let allow = |usd: &str, bump_s: u64| {
        std::fs::write(
            &budget_file,
            format!(
                "time_zone = \"UTC\"\noffline_allowance_usd = \"{usd}\"\n\n\
                 [identity]\nuser_id = \"ada\"\nteam_id = \"eng\"\n"
            ),
        )
        .unwrap();
        // A new modification time even within the file system's clock tick.
        std::fs::File::options()
            .write(true)
            .open(&budget_file)
            .unwrap()
            .set_modified(std::time::SystemTime::now() + Duration::from_secs(bump_s))
            .unwrap();
    };
    allow("0.01", 0);
    let app = laptop(dir.path(), &proxy.base_url()).await;
    app.connect_company(&company.url(), &company.code_for("ada"), "laptop")
        .await
        .unwrap();
    company.server.as_mut().unwrap().kill_hard();
    assert!(app.sync_company().await.unwrap().unwrap().offline.is_some());

    // $0.01 does not cover the call's maximum (about $0.041): refused, nothing sent.
    let sent = proxy.requests_to("/v1/chat/completions");
    let refused = ask_cloud(&app).await.unwrap_err();
    assert_eq!(refused.code(), "budget_too_low", "{refused}");
    assert!(
        refused.to_string().contains("offline allowance"),
        "{refused}"
    );
    assert_eq!(proxy.requests_to("/v1/chat/completions"), sent);

    // $0.50 does: the dialog says the call is offline, it goes out, its usage waits.
    allow("0.50", 5);
    let plan = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: PROMPT.into(),
            choice: frontier(),
        })
        .await
        .unwrap();
    let preview = plan.preview.expect("a cloud preview while offline");
    assert!(
        preview
            .warnings
            .iter()
            .any(|w| w.contains("offline allowance")),
        "{:?}",
        preview.warnings
    );
    assert!(!preview.auto_approved);
    let answer = ask_cloud(&app).await.unwrap();
    let cost = cost_of(&answer);
    assert!(cost > 0);
    assert_eq!(proxy.requests_to("/v1/chat/completions"), sent + 1);
    assert!(app.company_status().await.unwrap().unwrap().pending_records >= 1);

    // Back: the server has the call once, at exactly its cost; nothing is held or refused.
    company.restart();
    let status = app.sync_company().await.unwrap().unwrap();
    assert_eq!(
        (
            status.offline,
            status.pending_records,
            status.refused_records
        ),
        (None, 0, 0),
        "{:?}",
        status.last_refusal
    );
    let books = company.books();
    assert_eq!(books["total_cost_micros"], cost, "{books}");
    assert_eq!(books["open_holds"], 0, "{books}");
    app.sync_company().await.unwrap();
    assert_eq!(company.books()["total_cost_micros"], cost, "counted once");
}

/// A LiteLLM proxy's `GET /key/info` as LiteLLM documents it, for one virtual key: the
/// figures the test sets, `401` in LiteLLM's shape for any other key, and, on request, a
/// captive portal's page. (LiteLLM's own budgets need its database and Prisma engines, which
/// cannot be installed here.) Records the paths it is asked for.
struct KeyInfoServer {
    base: String,
    spend: Arc<std::sync::Mutex<f64>>,
    garbage: Arc<std::sync::atomic::AtomicBool>,
    paths: Arc<std::sync::Mutex<Vec<String>>>,
}

const VIRTUAL_KEY: &str = "sk-litellm-virtual-ada-4Kp9";

impl KeyInfoServer {
    fn start() -> KeyInfoServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = KeyInfoServer {
            base,
            spend: Arc::new(std::sync::Mutex::new(1.234567)),
            garbage: Arc::default(),
            paths: Arc::default(),
        };
        let (spend, garbage, paths) = (
            server.spend.clone(),
            server.garbage.clone(),
            server.paths.clone(),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
                let mut authorized = false;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if lower.starts_with("authorization:")
                        && line.trim_end().ends_with(&format!("Bearer {VIRTUAL_KEY}"))
                    {
                        authorized = true;
                    }
                }
                paths.lock().unwrap().push(path.clone());
                let (status, content_type, body) = if garbage
                    .load(std::sync::atomic::Ordering::SeqCst)
                {
                    (
                        "200 OK",
                        "text/html",
                        "<html>Sign in to the hotel Wi-Fi</html>".to_string(),
                    )
                } else if !authorized {
                    (
                        "401 Unauthorized",
                        "application/json",
                        r#"{"error": {"message": "Authentication Error, Invalid proxy server token passed.", "type": "auth_error", "param": "None", "code": "401"}}"#.to_string(),
                    )
                } else if path.starts_with("/key/info") {
                    let spend = *spend.lock().unwrap();
                    (
                        "200 OK",
                        "application/json",
                        format!(
                            r#"{{"key": "sk-...4Kp9", "info": {{"key_name": "sk-...4Kp9", "key_alias": "ada-laptop", "spend": {spend}, "max_budget": 10.0, "soft_budget": 8.0, "budget_duration": "30d", "budget_reset_at": "2099-01-01T00:00:00.000000+00:00", "user_id": "ada@example.com", "team_id": "eng", "models": [], "metadata": {{}}}}}}"#
                        ),
                    )
                } else {
                    (
                        "404 Not Found",
                        "application/json",
                        r#"{"detail": "Not Found"}"#.to_string(),
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        server
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_litellm_proxy_s_virtual_key_budget_is_the_company_window() {
    start_gnome_keyring();
    let gateway = LiteLlmProxy::start_mock_gateway(MASTER_KEY);
    let proxy = KeyInfoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let app = laptop(dir.path(), &gateway.base_url()).await;

    // A wrong key links nothing and says so.
    let wrong = app
        .connect_litellm(&proxy.base, "sk-not-the-key")
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), "company_unauthorized", "{wrong}");
    assert!(app.company_status().await.unwrap().is_none());

    // The OpenAI base URL of the proxy is accepted too.
    let status = app
        .connect_litellm(&format!("{}/v1/", proxy.base), VIRTUAL_KEY)
        .await
        .unwrap();
    assert_eq!(
        status.server_kind,
        tokenwise_app::CompanyServerKind::Litellm
    );
    assert_eq!(status.user_id, "ada@example.com");
    assert_eq!(status.offline, None);
    let window = |overview: &tokenwise_app::BudgetOverview| {
        overview
            .statuses
            .iter()
            .find(|s| s.scope_id == "ada@example.com")
            .map(|s| (s.window_kind, s.limit.micros(), s.spent.micros(), s.hard))
    };
    assert_eq!(
        window(&app.budget_overview().await.unwrap()),
        Some((
            tokenwise_core::WindowKind::Month,
            10_000_000,
            1_234_567,
            true
        ))
    );

    // LiteLLM keeps its own books: a cloud call is not held here and nothing is queued.
    let answer = ask_cloud(&app).await.unwrap();
    assert!(cost_of(&answer) > 0);
    ask_local(&app).await;
    assert_eq!(
        app.company_status().await.unwrap().unwrap().pending_records,
        0
    );
    assert!(
        proxy
            .paths
            .lock()
            .unwrap()
            .iter()
            .all(|p| p.starts_with("/key/info")),
        "only the budget is read: {:?}",
        proxy.paths.lock().unwrap()
    );

    // Nearly spent on LiteLLM's side: the preview no longer offers a call it cannot cover.
    *proxy.spend.lock().unwrap() = 9.99;
    app.sync_company().await.unwrap();
    assert_eq!(
        window(&app.budget_overview().await.unwrap()).map(|w| w.2),
        Some(9_990_000)
    );
    let refused = ask_cloud(&app).await.unwrap_err();
    assert_eq!(refused.code(), "budget_too_low", "{refused}");
    // The synced figures alert like a budget file's: LiteLLM's soft budget (80 %) and the
    // limit's 100 % are not reached yet at 99.9 %, 80 % is; once only.
    let notifier = Arc::new(tokenwise_notify::RecordingNotifier::new());
    app.set_notifier(notifier.clone());
    let raised = app.check_budget_alerts().await.unwrap();
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert!(notifier.take()[0].title.contains("80 %"));
    assert!(app.check_budget_alerts().await.unwrap().is_empty(), "once");

    // A captive portal instead of the proxy: offline, and the cloud waits.
    proxy
        .garbage
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let status = app.sync_company().await.unwrap().unwrap();
    let offline = status.offline.expect("offline on garbage");
    assert!(offline.contains("not its API's"), "{offline}");

    tokenwise_testkit::assert_no_file_contains(dir.path(), VIRTUAL_KEY);
    app.disconnect_company().await.unwrap();
    assert!(app.company_status().await.unwrap().is_none());
}

/// A laptop clock an hour fast: the server's figures would be read against the wrong day, so
/// they are marked unusable with the reason, and the cloud waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_far_off_the_server_s_marks_the_figures_unusable() {
    struct HourFast;
    impl tokenwise_core::Clock for HourFast {
        fn now_ms(&self) -> i64 {
            SystemClock.now_ms() + 3_600_000
        }
    }
    start_gnome_keyring();
    let company = Company::start("5.00");
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths {
        data_dir: dir.path().to_path_buf(),
        models_dir: dir.path().join("models"),
    };
    let app = Tokenwise::open(paths, Arc::new(HourFast)).await.unwrap();
    let status = app
        .connect_company(&company.url(), &company.code_for("ada"), "laptop")
        .await
        .unwrap();
    let offline = status.offline.expect("the figures are not used");
    assert!(offline.contains("60 minutes ahead of"), "{offline}");
    assert!(offline.contains("set it to the right time"), "{offline}");
}
