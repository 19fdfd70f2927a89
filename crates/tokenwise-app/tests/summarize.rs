//! Quick summarize through the facade: a real SQLite file, a scripted engine that records what
//! it is asked (the real model's summaries are tested in tokenwise-local's real_model.rs and
//! the CLI tests), the policy from a real folder.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokenwise_app::quick_summarize::DEFAULT_SHORTCUT;
use tokenwise_app::{AppPaths, RouteQuery, SummarizeInput, SummaryEvent, SummaryOrigin, Tokenwise};
use tokenwise_core::{
    CancellationToken, ChatEngine, ChatEvent, ClipboardContent, Error, ErrorCode, FixedClock,
    GenerationOutcome, GenerationRequest, GenerationStats, MessageStatus, Placement, PromptMessage,
    Role, UserChoice,
};
use tokenwise_policy::{Level, PolicyDirs};
use tokio::sync::mpsc::UnboundedSender;

/// One token a word; answers "Note N says this." (N counts the calls), stops when cancelled,
/// and with `until_stopped` holds after its first word until it is. Records every request.
struct NotesEngine {
    requests: Mutex<Vec<GenerationRequest>>,
    until_stopped: bool,
}

impl NotesEngine {
    fn new(until_stopped: bool) -> Arc<NotesEngine> {
        Arc::new(NotesEngine {
            requests: Mutex::new(Vec::new()),
            until_stopped,
        })
    }

    fn requests(&self) -> Vec<GenerationRequest> {
        self.requests.lock().unwrap().clone()
    }
}

#[async_trait]
impl ChatEngine for NotesEngine {
    fn model_name(&self) -> String {
        "notes".into()
    }
    fn context_tokens(&self) -> u32 {
        4096
    }
    async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error> {
        Ok(tokenwise_app::test_support::words_as_tokens(messages))
    }
    async fn generate(
        &self,
        request: GenerationRequest,
        tokens: UnboundedSender<String>,
        cancel: CancellationToken,
    ) -> Result<GenerationOutcome, Error> {
        let tokens_in = self.count_prompt_tokens(&request.messages).await?;
        let call = {
            let mut requests = self.requests.lock().unwrap();
            requests.push(request);
            requests.len()
        };
        let words = [format!("Note {call}"), "says".into(), "this.".into()];
        let mut sent = 0;
        for word in words {
            if cancel.is_cancelled() {
                break;
            }
            let _ = tokens.send(format!("{word} "));
            sent += 1;
            if self.until_stopped {
                // Holds after the first word until Stop (or a generous deadline), so the
                // stop lands mid-part however loaded the machine is.
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = tokio::time::sleep(Duration::from_secs(60)) => {}
                }
            }
        }
        Ok(GenerationOutcome {
            stats: GenerationStats {
                model: "notes".into(),
                tokens_in,
                tokens_out: sent,
                time_to_first_token_ms: 5,
                prefill_tokens_per_second: 100.0,
                decode_tokens_per_second: 10.0,
                total_ms: 10,
            },
            stopped: cancel.is_cancelled(),
        })
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    policy: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            policy: tempfile::tempdir().unwrap(),
        }
    }

    async fn app(&self, engine: Arc<NotesEngine>) -> Tokenwise {
        let paths = AppPaths {
            data_dir: self.dir.path().to_path_buf(),
            models_dir: self.dir.path().join("models"),
        };
        let app = Tokenwise::open(paths, Arc::new(FixedClock::at(1_764_504_000_000)))
            .await
            .unwrap()
            .with_policy_dirs(PolicyDirs {
                root: self.policy.path().to_path_buf(),
            });
        app.engine_ready(engine);
        app
    }

    fn managed_policy(&self, json: &str) {
        write_policy(self.policy.path(), Level::Managed, json);
    }
}

fn write_policy(root: &Path, level: Level, json: &str) {
    let dirs = PolicyDirs {
        root: root.to_path_buf(),
    };
    std::fs::create_dir_all(dirs.dir(level)).unwrap();
    std::fs::write(dirs.dir(level).join("10-test.json"), json).unwrap();
}

/// `words` words of prose in sentences of ten.
fn prose(words: usize) -> String {
    (0..words)
        .map(|i| {
            if i % 10 == 9 {
                format!("w{i}.")
            } else {
                format!("w{i}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn input(text: &str) -> SummarizeInput {
    SummarizeInput {
        text: text.into(),
        origin: SummaryOrigin::Clipboard,
        confirmed_long: false,
        greedy: true,
    }
}

async fn summarize(
    app: &Tokenwise,
    input: SummarizeInput,
) -> (
    Result<tokenwise_core::ChatMessage, tokenwise_app::AppError>,
    Vec<SummaryEvent>,
) {
    let mut events = Vec::new();
    let result = app.summarize(input, |event| events.push(event)).await;
    (result, events)
}

#[tokio::test]
async fn a_short_text_is_summarized_in_one_go_and_saved_as_a_free_local_answer() {
    let fixture = Fixture::new();
    let engine = NotesEngine::new(false);
    let app = fixture.app(engine.clone()).await;
    let text = prose(300);

    let plan = app
        .plan_summary(&text, &SummaryOrigin::Clipboard)
        .await
        .unwrap();
    assert_eq!((plan.words, plan.parts), (300, 1));
    assert_eq!(plan.label, "300 words from the clipboard");
    assert!(!plan.needs_confirmation);

    let (summary, events) = summarize(&app, input(&text)).await;
    let summary = summary.unwrap();
    assert_eq!(summary.content, "Note 1 says this. ");
    assert_eq!(summary.status, MessageStatus::Complete);

    // One request: the instructions and the whole text.
    let requests = engine.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].messages[0].role, Role::System);
    assert!(requests[0].messages[1].content.contains("3 to 5 sentences"));
    assert!(requests[0].messages[1].content.ends_with(&text));

    // Planned, Started, the tokens, Finished.
    assert!(matches!(events[0], SummaryEvent::Planned { .. }));
    assert!(matches!(
        &events[1],
        SummaryEvent::Answer { event } if matches!(**event, ChatEvent::Started { .. })
    ));
    assert!(matches!(
        events.last(),
        Some(SummaryEvent::Answer { event }) if matches!(**event, ChatEvent::Finished { .. })
    ));

    // The conversation holds the whole text and the summary, titled as a summary.
    let conversations = app.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert!(conversations[0].title.starts_with("Summary: "));
    let messages = app.messages(&summary.conversation_id).await.unwrap();
    assert_eq!(messages.len(), 2);
    assert!(messages[0]
        .content
        .starts_with("Summarize this text (300 words from the clipboard):"));
    assert!(messages[0].content.ends_with(&text));
    assert_eq!(messages[1].content, summary.content);
    assert!(messages[1]
        .route
        .as_ref()
        .unwrap()
        .explanation
        .starts_with("quick summary of 300 words from the clipboard → local"));

    // A local answer's ledger row: free, with what the frontier tier would have charged.
    let rows = app
        .ledger(0, &tokenwise_app::ScopeFilter::All)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cost_micros, 0);
    assert!(rows[0].saved_micros > 0, "{:?}", rows[0]);
}

#[tokio::test]
async fn a_long_text_is_summarized_part_by_part_then_the_notes_are_combined() {
    let fixture = Fixture::new();
    let engine = NotesEngine::new(false);
    let app = fixture.app(engine.clone()).await;
    let text = prose(3_000);

    let (summary, events) = summarize(&app, input(&text)).await;
    let summary = summary.unwrap();
    let requests = engine.requests();
    let parts = requests.len() - 1;
    assert!((3..=4).contains(&parts), "{parts} parts");

    // Each part's request carries its part of the text and says which part it is; together
    // they cover the text from its first word to its last.
    for (index, request) in requests[..parts].iter().enumerate() {
        let asked = &request.messages[1].content;
        assert!(
            asked.starts_with(&format!("This is part {} of {parts}", index + 1)),
            "{asked}"
        );
    }
    assert!(requests[0].messages[1].content.contains("w0 w1"));
    assert!(requests[parts - 1].messages[1].content.ends_with("w2999."));
    // The combining request holds every part's notes, in order.
    let combine = &requests[parts].messages[1].content;
    for part in 1..=parts {
        assert!(
            combine.contains(&format!("Part {part}: Note {part} says this.")),
            "{combine}"
        );
    }
    assert_eq!(summary.content, format!("Note {} says this. ", parts + 1));

    // Events: Planned, Started, then per part PartStarted + tokens, Combining, the summary.
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            SummaryEvent::Planned { .. } => "planned",
            SummaryEvent::PartStarted { .. } => "part",
            SummaryEvent::PartToken { .. } => "note",
            SummaryEvent::Combining { .. } => "combining",
            SummaryEvent::Answer { event } => match event.as_ref() {
                ChatEvent::Started { .. } => "started",
                ChatEvent::Token { .. } => "token",
                ChatEvent::Finished { .. } => "finished",
                ChatEvent::Failed { .. } => "failed",
            },
        })
        .collect();
    let mut expected = vec!["planned", "started"];
    for _ in 0..parts {
        expected.extend(["part", "note", "note", "note"]);
    }
    expected.extend(["combining", "token", "token", "token", "finished"]);
    assert_eq!(kinds, expected);

    // The figures count every request: all parts' prompts and notes plus the summary.
    let stats = summary.stats.unwrap();
    assert_eq!(stats.tokens_out, 3 * (parts as u32 + 1));
    assert!(stats.tokens_in > 3_000, "{}", stats.tokens_in);
}

#[tokio::test]
async fn stop_while_the_parts_are_read_keeps_the_notes_as_a_stopped_answer() {
    let fixture = Fixture::new();
    let engine = NotesEngine::new(true);
    let app = Arc::new(fixture.app(engine.clone()).await);
    let text = prose(3_000);

    let (first_note, noted) = tokio::sync::oneshot::channel();
    let mut first_note = Some(first_note);
    let stopper = app.clone();
    let summarizing = async {
        app.summarize(input(&text), |event| {
            if matches!(event, SummaryEvent::PartToken { .. }) {
                if let Some(tell) = first_note.take() {
                    let _ = tell.send(());
                }
            }
        })
        .await
    };
    let stopping = async {
        noted.await.unwrap();
        assert!(stopper.stop());
    };
    let (summary, ()) = tokio::join!(summarizing, stopping);
    let summary = summary.unwrap();
    assert_eq!(summary.status, MessageStatus::Stopped);
    assert!(
        summary.content.starts_with("Part 1: Note 1"),
        "{}",
        summary.content
    );
    // No part after the stop, and no combining.
    assert_eq!(engine.requests().len(), 1);
    let saved = app.messages(&summary.conversation_id).await.unwrap();
    assert_eq!(saved[1].status, MessageStatus::Stopped);
}

#[tokio::test]
async fn what_cannot_be_summarized_is_refused_with_a_reason_and_nothing_is_saved() {
    let fixture = Fixture::new();
    let engine = NotesEngine::new(false);
    let app = fixture.app(engine.clone()).await;

    let refusals = [
        ("", "no text in the clipboard"),
        ("short note", "too little to summarize"),
        ("\u{0}\u{1}binary\u{0}", "binary data"),
        ("file:///home/ana/a.pdf", "1 file (a.pdf)"),
    ];
    for (text, reason) in refusals {
        let error = app
            .plan_summary(text, &SummaryOrigin::Clipboard)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::NothingToSummarize);
        assert!(error.to_string().contains(reason), "{error}");
        let (result, events) = summarize(&app, input(text)).await;
        assert_eq!(result.unwrap_err().code(), ErrorCode::NothingToSummarize);
        assert!(events.is_empty());
    }
    for content in [
        ClipboardContent::Empty,
        ClipboardContent::NotText,
        ClipboardContent::Image {
            width: 10,
            height: 10,
        },
    ] {
        let error = tokenwise_app::CopiedText::from_clipboard(content).unwrap_err();
        assert_eq!(error.code(), ErrorCode::NothingToSummarize);
    }
    assert!(engine.requests().is_empty());
    assert!(app.conversations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_summary_that_takes_minutes_waits_for_a_yes_and_one_too_long_is_refused() {
    let fixture = Fixture::new();
    let engine = NotesEngine::new(false);
    let app = fixture.app(engine.clone()).await;

    let long = prose(12_000);
    let plan = app
        .plan_summary(&long, &SummaryOrigin::Stdin)
        .await
        .unwrap();
    assert!(plan.needs_confirmation, "{plan:?}");
    assert!(plan.estimated_seconds > 120);
    let (refused, _) = summarize(&app, input(&long)).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::SummaryNeedsConfirmation);
    assert!(
        refused.to_string().contains("Start it anyway?"),
        "{refused}"
    );
    assert!(engine.requests().is_empty());

    let confirmed = SummarizeInput {
        confirmed_long: true,
        ..input(&long)
    };
    let (summary, _) = summarize(&app, confirmed).await;
    assert_eq!(summary.unwrap().status, MessageStatus::Complete);
    assert_eq!(engine.requests().len() as u32, plan.parts + 1);

    // More parts than the model can combine (4,096-token context here): refused before
    // anything runs, though within the character limit.
    let too_long = "a ".repeat(40_000);
    let error = app
        .plan_summary(&too_long, &SummaryOrigin::Stdin)
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::PromptTooLarge);
    assert!(
        error.to_string().contains("too long for the local model"),
        "{error}"
    );
}

#[tokio::test]
async fn the_organization_can_turn_quick_summarize_off_and_lock_its_shortcut() {
    let fixture = Fixture::new();
    let engine = NotesEngine::new(false);
    let app = fixture.app(engine.clone()).await;

    let settings = app.quick_summarize_settings();
    assert!(settings.enabled);
    assert_eq!(settings.shortcut.as_deref(), Some(DEFAULT_SHORTCUT));
    assert!(settings.selection_fallback);

    // The person's own shortcut is kept across restarts.
    app.set_quick_summarize_shortcut(Some("Ctrl+Shift+Y".into()))
        .unwrap();
    let reopened = fixture.app(engine.clone()).await;
    assert_eq!(
        reopened.quick_summarize_settings().shortcut.as_deref(),
        Some("Ctrl+Shift+Y")
    );
    app.set_quick_summarize_shortcut(Some(String::new()))
        .unwrap();
    assert_eq!(app.quick_summarize_settings().shortcut, None);

    // A managed shortcut wins and cannot be changed.
    fixture.managed_policy(r#"{"quick_summarize_shortcut": "Ctrl+Alt+Q"}"#);
    let settings = app.quick_summarize_settings();
    assert_eq!(settings.shortcut.as_deref(), Some("Ctrl+Alt+Q"));
    assert!(settings.shortcut_locked);
    let error = app
        .set_quick_summarize_shortcut(Some("Ctrl+Alt+W".into()))
        .unwrap_err();
    assert!(error.to_string().contains("organization sets"), "{error}");

    // Turned off: no shortcut, and summaries are refused.
    fixture.managed_policy(r#"{"quick_summarize_enabled": false}"#);
    let settings = app.quick_summarize_settings();
    assert!(!settings.enabled);
    assert_eq!(settings.shortcut, None);
    let (refused, _) = summarize(&app, input(&prose(100))).await;
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("turned quick summarize off"));
    assert!(engine.requests().is_empty());
}

#[tokio::test]
async fn closing_to_the_tray_is_explained_once() {
    let fixture = Fixture::new();
    let app = fixture.app(NotesEngine::new(false)).await;
    assert!(app.first_close_to_tray());
    assert!(!app.first_close_to_tray());
    let reopened = fixture.app(NotesEngine::new(false)).await;
    assert!(!reopened.first_close_to_tray());
}

#[tokio::test]
async fn pause_cloud_answers_everything_locally_and_says_why_until_resumed() {
    let fixture = Fixture::new();
    let app = fixture.app(NotesEngine::new(false)).await;
    let hard = "Design a fault-tolerant, multi-region event sourcing architecture for a bank's \
                payment ledger, with the consistency trade-offs, failure modes and a migration \
                plan from the current monolith, step by step.";
    let query = || RouteQuery {
        conversation_id: None,
        prompt: hard.into(),
        choice: UserChoice::Auto,
    };
    let before = app.plan(query()).await.unwrap();
    assert_eq!(
        before.decision.kind,
        Placement::Cloud,
        "{:?}",
        before.decision
    );

    app.set_cloud_paused(true);
    let paused = app.plan(query()).await.unwrap();
    assert_eq!(paused.decision.kind, Placement::Local);
    assert!(paused.cloud_blocked.unwrap().contains("paused"));
    assert!(app.status().warnings.iter().any(|w| w.contains("paused")));

    app.set_cloud_paused(false);
    assert_eq!(
        app.plan(query()).await.unwrap().decision.kind,
        Placement::Cloud
    );
    assert!(!app.status().warnings.iter().any(|w| w.contains("paused")));
}

#[tokio::test]
async fn the_tray_line_names_what_is_left_of_the_tightest_budget() {
    let fixture = Fixture::new();
    let app = fixture.app(NotesEngine::new(false)).await;
    assert_eq!(
        app.budget_overview().await.unwrap().headline(),
        "No budget set"
    );
    std::fs::write(
        fixture.dir.path().join("budgets.toml"),
        r#"
time_zone = "UTC"
[identity]
user_id = "alice"
team_id = "eng"

[[budget]]
scope = "user"
id = "alice"
window = "day"
limit_usd = "3.20"

[[budget]]
scope = "team"
id = "eng"
window = "month"
limit_usd = "1000.00"
"#,
    )
    .unwrap();
    let app = fixture.app(NotesEngine::new(false)).await;
    assert_eq!(
        app.budget_overview().await.unwrap().headline(),
        "$3.20 left today"
    );
}
