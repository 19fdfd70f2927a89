//! Switching the local model without a restart, through the facade: a real SQLite file, a real
//! models folder with a pinned download, the organization's policy written while the app runs,
//! and a download from a local HTTP server paused, resumed and cancelled. The engine is a
//! stand-in (the front end loads the real one; `tests/e2e/models.test.mjs` does it for real).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokenwise_app::models::{Catalog, Pins};
use tokenwise_app::test_support::WordsEngine;
use tokenwise_app::{AppPaths, DownloadPhase, RouteQuery, Tokenwise, Triage};
use tokenwise_core::{Difficulty, EngineStatus, RouteReason, SystemClock, UserChoice};
use tokenwise_policy::{Level, PolicyDirs};

fn catalog(url: &str) -> Catalog {
    Catalog::from_toml(
        &format!(
            r#"
[[model]]
id = "bundled"
name = "Bundled"
parameters = "135M"
quant = "Q4_1"
file = "bundled.gguf"
sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
size_bytes = 98362432
licence = "Apache-2.0"
source = "test"
context_tokens = 8192
layers = 30
kv_heads = 3
head_dim = 64
local_reach = "simple"
bundled = true

[[model]]
id = "stronger"
name = "Stronger 1.5B"
parameters = "1.5B"
quant = "Q4_K_M"
file = "stronger.gguf"
url = "{url}/stronger.gguf"
approx_size_bytes = 2000000
licence = "Apache-2.0"
source = "test"
context_tokens = 32768
layers = 28
kv_heads = 2
head_dim = 128
local_reach = "medium"
"#
        ),
        "test catalog",
    )
    .unwrap()
}

async fn app(dir: &Path, url: &str) -> Arc<Tokenwise> {
    let paths = AppPaths {
        data_dir: dir.to_path_buf(),
        models_dir: dir.join("models"),
    };
    std::fs::create_dir_all(&paths.models_dir).unwrap();
    let app = Tokenwise::open(paths, Arc::new(SystemClock))
        .await
        .unwrap()
        .with_policy_dirs(PolicyDirs {
            root: dir.join("policy"),
        })
        .with_model_catalog(catalog(url));
    app.engine_ready(Arc::new(WordsEngine::new(&["Local", "answer."])));
    Arc::new(app)
}

/// The first 8 MiB of the real default model: its whole GGUF header (what the fit rules read),
/// without the 98 MB of weights a stand-in engine does not need.
fn gguf_header() -> Vec<u8> {
    let models = std::env::var_os("TOKENWISE_MODELS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let mut bytes = std::fs::read(models.join("SmolLM2-135M-Instruct.Q4_1.gguf"))
        .expect("run scripts/fetch-model.sh");
    bytes.truncate(8 << 20);
    bytes
}

/// Puts `stronger.gguf` in the models folder as a finished, pinned download would.
fn downloaded(dir: &Path) {
    std::fs::write(dir.join("models/stronger.gguf"), gguf_header()).unwrap();
    Pins::load(&dir.join("models"))
        .unwrap()
        .pin("stronger.gguf", &"ab".repeat(32))
        .unwrap();
}

/// A prompt the shipped classifier calls `medium` with confidence, long enough not to be
/// "unsure and short": before a switch it goes to a paid tier.
fn medium_prompt() -> String {
    let triage = Triage::embedded().unwrap();
    let context = " The client is a mid-sized retailer; the delay comes from our supplier of \
                   payment terminals, the new date is firm, and we offer a discount on the \
                   next invoice."
        .repeat(4);
    [
        "Draft a polite email to a client explaining that the project deadline moves by two \
         weeks, and propose a new schedule with three milestones.",
        "Write a SQL query that returns each customer's total spend per month in 2025, with \
         customers who spent nothing shown as zero, ordered by month and spend.",
        "Summarize the trade-offs between renting and buying office space for a team of forty \
         people, as a table with costs, flexibility and risks.",
    ]
    .into_iter()
    .map(|task| format!("{task}{context}"))
    .find(|prompt| {
        let class = triage.classify(prompt);
        class.difficulty == Difficulty::Medium && class.confidence >= 0.4
    })
    .expect("one of the prompts is a confident medium")
}

async fn decision(app: &Tokenwise, prompt: &str) -> tokenwise_core::RouteDecision {
    app.plan(RouteQuery {
        conversation_id: None,
        prompt: prompt.into(),
        choice: UserChoice::Auto,
    })
    .await
    .unwrap()
    .decision
}

#[tokio::test]
async fn switching_to_a_stronger_model_keeps_medium_work_local_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), "http://127.0.0.1:9").await;
    let prompt = medium_prompt();
    assert_ne!(decision(&app, &prompt).await.tier_id, "local");

    // Not downloaded yet: a clear refusal, nothing saved.
    let error = app.choose_local_model("stronger").unwrap_err();
    assert!(error.to_string().contains("not downloaded"), "{error}");

    downloaded(dir.path());
    let model = app.choose_local_model("stronger").unwrap().unwrap();
    assert_eq!(model.sha256, "ab".repeat(32));
    assert!(model.context_tokens.is_some_and(|c| c <= 8192));
    let during = Arc::clone(&app);
    app.load_local_model(Some(&model), &model.file, async move {
        // While the new model loads, the previous one answers: the status stays "ready".
        assert!(
            matches!(during.status().engine, EngineStatus::Ready { .. }),
            "{:?}",
            during.status().engine
        );
        Ok::<_, String>(WordsEngine::new(&["Stronger", "answer."]))
    })
    .await
    .unwrap();
    assert!(matches!(app.status().engine, EngineStatus::Ready { .. }));
    assert_eq!(
        app.local_model_state().id.as_deref(),
        Some("stronger"),
        "routing follows the loaded model"
    );
    let after = decision(&app, &prompt).await;
    assert_eq!(after.tier_id, "local", "{}", after.explanation);
    assert_eq!(after.reason, RouteReason::WithinLocalReach);
    assert!(after.cloud_available, "the person can still ask the cloud");
    // The tier catalog's local entry now names the loaded model.
    assert_eq!(after.model, "stronger.gguf");

    // The choice is saved: a restart loads the same model.
    assert_eq!(
        app.active_local_model().map(|m| m.id),
        Some("stronger".into())
    );
    // The model answering cannot be deleted under it.
    let error = app.remove_model("stronger").unwrap_err();
    assert!(error.to_string().contains("switch"), "{error}");
    let screen = app.models_screen().await.unwrap();
    assert_eq!(screen.active_id.as_deref(), Some("stronger"));
    let offer = screen.offers.iter().find(|o| o.id == "stronger").unwrap();
    assert!(
        !offer.switch_to && !offer.remove,
        "the model answering is neither offered again nor removable: {offer:?}"
    );
}

#[tokio::test]
async fn a_switch_that_fails_leaves_the_previous_model_answering_and_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), "http://127.0.0.1:9").await;
    downloaded(dir.path());
    let model = app.choose_local_model("stronger").unwrap().unwrap();
    let error = app
        .load_local_model(Some(&model), &model.file, async {
            Err::<WordsEngine, _>("the file is damaged (sha256 mismatch)")
        })
        .await
        .unwrap_err();
    assert!(
        error.contains("previous model goes on answering"),
        "{error}"
    );
    assert!(matches!(app.status().engine, EngineStatus::Ready { .. }));
    assert_eq!(app.local_model_state().id, None);
    assert_eq!(app.local_model_state().reach, Difficulty::Simple);
    assert_eq!(
        app.desktop_settings().local_model,
        None,
        "a model that does not load is not kept as the choice"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_model_is_caught_before_the_engine_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), "http://127.0.0.1:9").await;
    std::fs::write(
        dir.path().join("models/stronger.gguf"),
        b"<html>login page</html>",
    )
    .unwrap();
    Pins::load(&dir.path().join("models"))
        .unwrap()
        .pin("stronger.gguf", &"ab".repeat(32))
        .unwrap();
    let refused = app.choose_local_model("stronger").unwrap_err();
    assert!(
        refused.to_string().contains("not a GGUF model file"),
        "{refused}"
    );
    assert_eq!(app.desktop_settings().local_model, None);
    let row = model_row(&app, "stronger").await;
    assert_eq!(row.fit.verdict, tokenwise_app::models::Verdict::DoesNotFit);
    assert!(
        row.fit.reason.contains("download it again"),
        "{}",
        row.fit.reason
    );
}

#[tokio::test]
async fn the_organization_decides_which_models_may_run() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), "http://127.0.0.1:9").await;
    downloaded(dir.path());
    let dirs = PolicyDirs {
        root: dir.path().join("policy"),
    };
    std::fs::create_dir_all(dirs.dir(Level::Managed)).unwrap();
    std::fs::write(
        dirs.dir(Level::Managed).join("10.json"),
        r#"{"local_models_allowed": ["bundled.gguf"]}"#,
    )
    .unwrap();
    let refused = app.choose_local_model("stronger").unwrap_err();
    assert!(refused.to_string().contains("does not allow"), "{refused}");
    assert!(app.start_model_download("stronger").is_err());
    let screen = app.models_screen().await.unwrap();
    assert_eq!(screen.not_allowed.len(), 1);
    assert_eq!(screen.not_allowed[0].id, "stronger");
    let offer = screen.offers.iter().find(|o| o.id == "stronger").unwrap();
    assert!(
        !offer.download && !offer.switch_to,
        "nothing is offered for a model the organization does not allow: {offer:?}"
    );
    // A choice saved before the policy came is not loaded; the status says why.
    let mut settings = app.desktop_settings();
    settings.local_model = Some("stronger".into());
    std::fs::write(
        app.paths().desktop_settings_file(),
        serde_json::to_string(&settings).unwrap(),
    )
    .unwrap();
    assert_eq!(app.active_local_model(), None);
    let warnings = app.status().warnings.join(" ");
    assert!(warnings.contains("`stronger` cannot be used"), "{warnings}");
}

/// Serves `body` at any path, honouring `Range: bytes=N-`, `chunk` bytes every 20 ms.
fn slow_server(body: Arc<Vec<u8>>, chunk: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let body = body.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let start = head
                    .lines()
                    .find_map(|line| line.strip_prefix("range: bytes="))
                    .and_then(|range| range.trim().trim_end_matches('-').parse::<usize>().ok())
                    .unwrap_or(0)
                    .min(body.len());
                let status = if start > 0 {
                    format!(
                        "206 Partial Content\r\ncontent-range: bytes {start}-{}/{}",
                        body.len() - 1,
                        body.len()
                    )
                } else {
                    "200 OK".to_string()
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len() - start
                );
                for part in body[start..].chunks(chunk) {
                    if stream.write_all(part).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
        }
    });
    url
}

/// The first download report that satisfies `wanted` (the current one included), within a
/// minute: the test waits on the condition, not on time.
async fn wait_for(
    app: &Tokenwise,
    what: &str,
    wanted: impl Fn(&tokenwise_app::ModelDownload) -> bool,
) -> tokenwise_app::ModelDownload {
    let mut watch = app.watch_model_download();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Some(download) = watch.borrow_and_update().clone() {
                if wanted(&download) {
                    return download;
                }
            }
            watch.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within a minute"))
}

/// The Models screen's row of model `id`.
async fn model_row(app: &Tokenwise, id: &str) -> tokenwise_app::models::ModelRow {
    let screen = app.models_screen().await.unwrap();
    screen
        .overview
        .models
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no model {id} on the Models screen"))
}

async fn wait_for_phase(app: &Tokenwise, phase: DownloadPhase) -> tokenwise_app::ModelDownload {
    wait_for(app, &format!("{phase:?}"), |d| d.phase == phase).await
}

/// A running download's first progress report past `bytes`.
async fn wait_for_bytes(app: &Tokenwise, bytes: u64) -> tokenwise_app::models::Progress {
    wait_for(app, &format!("progress past {bytes} bytes"), |d| {
        d.phase == DownloadPhase::Running && d.progress.is_some_and(|p| p.downloaded_bytes > bytes)
    })
    .await
    .progress
    .expect("the condition requires progress")
}

#[tokio::test]
async fn a_download_shows_progress_pauses_resumes_and_cancels() {
    let body: Arc<Vec<u8>> = Arc::new(gguf_header());
    let url = slow_server(body.clone(), 128 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), &url).await;
    let partial = dir.path().join("models/.download/stronger.gguf.part");

    app.start_model_download("stronger").unwrap();
    let again = app.start_model_download("stronger").unwrap_err();
    assert!(again.to_string().contains("is downloading"), "{again}");
    // Progress arrives with bytes and a total.
    let progress = wait_for_bytes(&app, 100_000).await;
    assert_eq!(progress.total_bytes, Some(body.len() as u64));

    // Pause: what arrived is kept.
    app.stop_model_download("stronger", true).unwrap();
    let paused = wait_for_phase(&app, DownloadPhase::Paused).await;
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(kept > 0 && kept < body.len() as u64, "{kept} bytes kept");
    assert!(paused.progress.is_some());
    let row = model_row(&app, "stronger").await;
    assert_eq!(row.partial_bytes, Some(kept));

    // Resume to the end: verified, pinned, usable.
    app.start_model_download("stronger").unwrap();
    let done = wait_for_phase(&app, DownloadPhase::Done).await;
    assert!(done.message.unwrap().contains("pinned"));
    assert_eq!(
        std::fs::read(dir.path().join("models/stronger.gguf")).unwrap(),
        *body
    );
    assert!(app.choose_local_model("stronger").is_ok());

    // Cancel: a fresh download of another copy deletes what arrived.
    app.remove_model("stronger").unwrap_or_else(|_| {
        // It was chosen above but never loaded: the default still answers.
        panic!("the model is not answering, so it can be removed")
    });
    app.start_model_download("stronger").unwrap();
    // Cancelled once bytes have arrived, so there is a partial file to delete.
    wait_for_bytes(&app, 0).await;
    app.stop_model_download("stronger", false).unwrap();
    wait_for_phase(&app, DownloadPhase::Cancelled).await;
    assert!(!partial.exists(), "a cancelled download leaves nothing");
}

#[tokio::test]
async fn the_organization_can_replace_the_catalog_and_a_broken_one_stops_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), "http://127.0.0.1:9").await;
    let dirs = PolicyDirs {
        root: dir.path().join("policy"),
    };
    std::fs::create_dir_all(dirs.dir(Level::Managed)).unwrap();
    let theirs = dir.path().join("company-catalog.toml");
    let only_the_mirror = CATALOG_HEAD.replace("@URL@", "https://mirror.example.com");
    std::fs::write(&theirs, only_the_mirror).unwrap();
    let policy = format!(
        r#"{{"model_catalog_file": {}}}"#,
        serde_json::to_string(&theirs.display().to_string()).unwrap()
    );
    std::fs::write(dirs.dir(Level::Managed).join("20.json"), policy).unwrap();
    let screen = app.models_screen().await.unwrap();
    let ids: Vec<_> = screen
        .overview
        .models
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["mirrored"],
        "the organization's list replaces the person's"
    );
    assert_eq!(
        app.models().entry("mirrored").unwrap().url.as_deref(),
        Some("https://mirror.example.com/m.gguf")
    );

    // Broken: downloads stop and the screen says why; the list falls back for the verdicts.
    std::fs::write(&theirs, "[[model]]\nid = ").unwrap();
    let refused = app.start_model_download("stronger").unwrap_err();
    assert!(
        refused.to_string().contains("Downloads are stopped"),
        "{refused}"
    );
    let screen = app.models_screen().await.unwrap();
    assert!(
        screen
            .warnings
            .iter()
            .any(|w| w.contains("company-catalog.toml")),
        "{:?}",
        screen.warnings
    );
}

const CATALOG_HEAD: &str = r#"
[[model]]
id = "mirrored"
name = "Mirrored"
parameters = "135M"
quant = "Q4_1"
file = "m.gguf"
url = "@URL@/m.gguf"
licence = "Apache-2.0"
source = "IT"
context_tokens = 8192
layers = 30
kv_heads = 3
head_dim = 64
local_reach = "simple"
"#;
