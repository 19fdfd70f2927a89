//! The ask use case against a real SQLite file and a scripted engine.
//!
//! The real model is exercised by `tokenwise-local`'s integration test and the end-to-end
//! test; here a scripted engine makes the facade's rules checkable quickly and exactly.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokenwise_app::{AppPaths, AskInput, Tokenwise};
use tokenwise_core::{
    CancellationToken, ChatEngine, ChatEvent, ChatMessage, Error, FixedClock, GenerationOutcome,
    GenerationRequest, GenerationStats, MessageStatus, PromptMessage, Role, UserChoice,
};
use tokio::sync::mpsc::UnboundedSender;

/// Answers with fixed words, one every `delay`; one token per word.
struct ScriptedEngine {
    words: Vec<&'static str>,
    delay: Duration,
    context: u32,
    fail_after: Option<usize>,
}

impl ScriptedEngine {
    fn new(words: &[&'static str]) -> Self {
        Self {
            words: words.to_vec(),
            delay: Duration::from_millis(1),
            context: 4096,
            fail_after: None,
        }
    }
}

#[async_trait]
impl ChatEngine for ScriptedEngine {
    fn model_name(&self) -> String {
        "scripted".into()
    }
    fn context_tokens(&self) -> u32 {
        self.context
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
        let mut sent = 0;
        let mut stopped = false;
        for word in &self.words {
            if self.fail_after == Some(sent) {
                return Err(Error::Generation("scripted failure".into()));
            }
            tokio::select! {
                _ = cancel.cancelled() => { stopped = true; break; }
                _ = tokio::time::sleep(self.delay) => {}
            }
            tokens.send(format!("{word} ")).unwrap();
            sent += 1;
        }
        Ok(GenerationOutcome {
            stats: GenerationStats {
                model: "scripted".into(),
                tokens_in,
                tokens_out: sent as u32,
                time_to_first_token_ms: 1,
                prefill_tokens_per_second: 100.0,
                decode_tokens_per_second: 50.0,
                total_ms: 2,
            },
            stopped,
        })
    }
}

async fn app_with(engine: ScriptedEngine, dir: &std::path::Path) -> Arc<Tokenwise> {
    let paths = AppPaths {
        data_dir: dir.to_path_buf(),
        models_dir: dir.join("models"),
    };
    let app = Tokenwise::open(paths, Arc::new(FixedClock::at(1_700_000_000_000)))
        .await
        .unwrap();
    app.engine_ready(Arc::new(engine));
    Arc::new(app)
}

fn ask(prompt: &str, conversation: Option<&str>) -> AskInput {
    AskInput {
        conversation_id: conversation.map(String::from),
        prompt: prompt.into(),
        greedy: true,
        choice: UserChoice::Auto,
        approval: None,
        project_id: None,
    }
}

/// A question for the local model whatever the classifier makes of it: for tests of what
/// happens around a local answer, which should not move when the classifier is retrained.
fn ask_locally(prompt: &str) -> AskInput {
    AskInput {
        choice: UserChoice::ForceLocal,
        ..ask(prompt, None)
    }
}

#[tokio::test]
async fn an_answer_streams_in_order_and_is_saved_with_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(ScriptedEngine::new(&["Paris", "is", "lovely."]), dir.path()).await;
    let mut events = Vec::new();
    let answer = app
        .ask(ask("  What is the capital of France?  ", None), |e| {
            events.push(e)
        })
        .await
        .unwrap();

    assert_eq!(answer.content, "Paris is lovely. ");
    assert_eq!(answer.status, MessageStatus::Complete);
    assert_eq!(answer.stats.as_ref().unwrap().tokens_out, 3);
    assert!(matches!(events.first(), Some(ChatEvent::Started { .. })));
    let streamed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Token { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, ["Paris ", "is ", "lovely. "]);
    assert!(matches!(events.last(), Some(ChatEvent::Finished { .. })));

    let conversations = app.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].title, "What is the capital of France?");
    let saved = app.messages(&conversations[0].id).await.unwrap();
    assert_eq!(saved.len(), 2);
    assert_eq!(
        saved[0].content, "What is the capital of France?",
        "trimmed"
    );
    assert_eq!(saved[1], answer);
}

#[tokio::test]
async fn a_follow_up_continues_the_conversation_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(ScriptedEngine::new(&["ok"]), dir.path()).await;
    let first = app.ask(ask("one", None), |_| {}).await.unwrap();
    app.ask(ask("two", Some(&first.conversation_id)), |_| {})
        .await
        .unwrap();
    let saved = app.messages(&first.conversation_id).await.unwrap();
    let roles: Vec<_> = saved.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
    // The second answer saw the whole history: 3 messages of 1 word + 3 markers each.
    assert_eq!(saved[3].stats.as_ref().unwrap().tokens_in, 3 * (1 + 3));
}

/// Starts `prompt` on a task; the receiver fires on the answer's first token, so a test can
/// act while the answer is certainly running instead of guessing with a delay.
fn ask_in_background(
    app: &Arc<Tokenwise>,
    prompt: &str,
) -> (
    tokio::sync::oneshot::Receiver<()>,
    tokio::task::JoinHandle<Result<ChatMessage, tokenwise_app::AppError>>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    let app = app.clone();
    let input = ask(prompt, None);
    let task = tokio::spawn(async move {
        app.ask(input, move |event| {
            if matches!(event, ChatEvent::Token { .. }) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(());
                }
            }
        })
        .await
    });
    (rx, task)
}

#[tokio::test]
async fn stop_ends_the_answer_early_and_keeps_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = ScriptedEngine::new(&["a"; 500]);
    engine.delay = Duration::from_millis(5);
    let app = app_with(engine, dir.path()).await;

    let (first_token, asking) = ask_in_background(&app, "count");
    if first_token.await.is_err() {
        panic!(
            "the answer ended before its first token: {:?}",
            asking.await
        );
    }
    assert!(app.stop(), "an answer was running");
    let answer = asking.await.unwrap().unwrap();
    assert_eq!(answer.status, MessageStatus::Stopped);
    let tokens_out = answer.stats.unwrap().tokens_out;
    assert!(tokens_out > 0 && tokens_out < 500, "{tokens_out}");
    assert!(!app.stop(), "nothing runs any more");
}

#[tokio::test]
async fn a_second_question_while_one_runs_is_refused_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = ScriptedEngine::new(&["a"; 100]);
    engine.delay = Duration::from_millis(5);
    let app = app_with(engine, dir.path()).await;
    let (first_token, asking) = ask_in_background(&app, "first");
    first_token.await.expect("a first token arrives");
    let error = app.ask(ask("second", None), |_| {}).await.unwrap_err();
    assert_eq!(error.code(), "engine_busy");
    app.stop();
    asking.await.unwrap().unwrap();
    assert_eq!(app.conversations().await.unwrap().len(), 1);
}

#[tokio::test]
async fn empty_and_oversized_prompts_are_refused_before_anything_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = ScriptedEngine::new(&["x"]);
    engine.context = 64;
    let app = app_with(engine, dir.path()).await;

    let empty = app.ask(ask(" \n\t ", None), |_| {}).await.unwrap_err();
    assert_eq!(empty.code(), "empty_prompt");
    let binary = app
        .ask(ask("\0\0\0\u{1b}\u{7f}\0", None), |_| {})
        .await
        .unwrap_err();
    assert_eq!(binary.code(), "empty_prompt", "control characters only");

    let long = app
        .ask(ask_locally(&"word ".repeat(100)), |_| {})
        .await
        .unwrap_err();
    assert_eq!(long.code(), "prompt_too_long");
    assert!(long.to_string().contains("at most 48 tokens"), "{long}");

    let huge = app
        .ask(
            ask(&"x".repeat(tokenwise_app::ASK_MAX_PROMPT_CHARS + 1), None),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(huge.code(), "prompt_too_large");

    assert!(app.conversations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failure_mid_answer_keeps_the_partial_text_and_says_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = ScriptedEngine::new(&["half", "of", "it"]);
    engine.fail_after = Some(2);
    let app = app_with(engine, dir.path()).await;
    let mut events = Vec::new();
    let error = app
        .ask(ask("go", None), |e| events.push(e))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "generation_failed");
    match events.last() {
        Some(ChatEvent::Failed {
            partial: Some(partial),
            message,
            ..
        }) => {
            assert_eq!(partial.content, "half of ");
            assert_eq!(partial.status, MessageStatus::Failed);
            assert!(message.contains("scripted failure"));
        }
        other => panic!("expected Failed with partial, got {other:?}"),
    }
    let conversation = &app.conversations().await.unwrap()[0];
    assert_eq!(app.messages(&conversation.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn without_a_model_the_question_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(ScriptedEngine::new(&["x"]), dir.path()).await;
    app.engine_failed("The local model file /m/x.gguf is missing.".into());
    let error = app.ask(ask("hi", None), |_| {}).await.unwrap_err();
    assert!(
        error.to_string().contains("/m/x.gguf is missing"),
        "{error}"
    );
}

#[tokio::test]
async fn a_damaged_history_file_leaves_the_app_working_in_memory_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenwise.sqlite3"), vec![0x5a; 8192]).unwrap();
    let app = app_with(ScriptedEngine::new(&["fine"]), dir.path()).await;
    let [warning] = app.status().warnings.try_into().expect("one warning");
    assert!(
        warning.contains("tokenwise.sqlite3") && warning.contains("not saved"),
        "{warning}"
    );
    app.ask(ask_locally("still works?"), |_| {}).await.unwrap();
    assert_eq!(app.conversations().await.unwrap().len(), 1);
    assert_eq!(
        std::fs::read(dir.path().join("tokenwise.sqlite3")).unwrap(),
        vec![0x5a; 8192]
    );
}

#[tokio::test]
async fn rename_validates_and_delete_removes() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(ScriptedEngine::new(&["x"]), dir.path()).await;
    let answer = app.ask(ask("hello", None), |_| {}).await.unwrap();
    let id = answer.conversation_id;
    assert_eq!(
        app.rename_conversation(&id, "   ")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
    app.rename_conversation(&id, "  Greetings ").await.unwrap();
    assert_eq!(app.conversations().await.unwrap()[0].title, "Greetings");
    app.delete_conversation(&id).await.unwrap();
    assert!(app.conversations().await.unwrap().is_empty());
}

/// A long, multi-step engineering task: the classifier calls it complex.
fn hard_prompt() -> String {
    let task = "Design a distributed rate limiter for a multi-region API: compare token bucket \
        and sliding window approaches, analyse the consistency trade-offs step by step, prove \
        the bound on over-admission, and write the Rust implementation with tests. ";
    task.repeat(6)
}

#[tokio::test]
async fn each_answer_carries_its_routing_badge_also_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(ScriptedEngine::new(&["Paris."]), dir.path()).await;
    let mut started_route = None;
    let answer = app
        .ask(ask("What is the capital of France?", None), |event| {
            if let ChatEvent::Started { route, .. } = event {
                started_route = Some(route);
            }
        })
        .await
        .unwrap();
    let badge = answer.route.clone().expect("an answer has a route");
    assert_eq!(started_route.as_ref(), Some(&badge));
    assert_eq!(badge.tier_id, "local");
    assert!(
        badge.explanation.contains("simple"),
        "{}",
        badge.explanation
    );
    assert!(badge.explanation.contains("free"), "{}", badge.explanation);

    drop(app);
    let reopened = app_with(ScriptedEngine::new(&["x"]), dir.path()).await;
    let saved = reopened.messages(&answer.conversation_id).await.unwrap();
    assert_eq!(saved[0].route, None, "questions have no badge");
    assert_eq!(saved[1].route.as_ref(), Some(&badge));
}

#[tokio::test]
async fn a_prompt_routed_to_the_cloud_is_not_sent_without_approval_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(ScriptedEngine::new(&["local", "answer"]), dir.path()).await;
    let decision = app
        .plan(tokenwise_app::RouteQuery {
            conversation_id: None,
            prompt: hard_prompt(),
            choice: UserChoice::Auto,
        })
        .await
        .unwrap()
        .decision;
    assert_eq!(
        decision.kind,
        tokenwise_core::Placement::Cloud,
        "{}",
        decision.explanation
    );
    assert!(decision.needs_confirmation);

    let mut events = Vec::new();
    let error = app
        .ask(ask(&hard_prompt(), None), |e| events.push(e))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "confirmation_required");
    assert!(error.to_string().contains(&decision.model_name), "{error}");
    assert!(events.is_empty());
    assert!(
        app.conversations().await.unwrap().is_empty(),
        "nothing saved"
    );

    // The user chooses to answer locally instead.
    let input = AskInput {
        choice: UserChoice::ForceLocal,
        ..ask(&hard_prompt(), None)
    };
    let answer = app.ask(input, |_| {}).await.unwrap();
    assert_eq!(answer.content, "local answer ");
    let badge = answer.route.unwrap();
    assert_eq!(badge.tier_id, "local");
}

#[tokio::test]
async fn asking_an_unanswered_question_again_answers_it_instead_of_saving_it_twice() {
    let dir = tempfile::tempdir().unwrap();
    let failing = ScriptedEngine {
        fail_after: Some(0),
        ..ScriptedEngine::new(&["never"])
    };
    let app = app_with(failing, dir.path()).await;
    let input = AskInput {
        choice: UserChoice::ForceLocal,
        ..ask("Why is the sky blue?", None)
    };
    let mut conversation = None;
    let error = app
        .ask(input.clone(), |e| {
            if let ChatEvent::Started {
                conversation_id, ..
            } = e
            {
                conversation = Some(conversation_id);
            }
        })
        .await
        .unwrap_err();
    assert_eq!(error.code(), "generation_failed");
    let conversation = conversation.unwrap();
    let question = app.messages(&conversation).await.unwrap();
    assert_eq!(question.len(), 1, "the question is kept");

    // "Answer locally instead": the same question, same conversation, a working model.
    app.engine_ready(Arc::new(ScriptedEngine::new(&["Rayleigh", "scattering."])));
    let mut started_with = None;
    let answer = app
        .ask(
            AskInput {
                conversation_id: Some(conversation.clone()),
                ..input
            },
            |e| {
                if let ChatEvent::Started { user_message, .. } = e {
                    started_with = Some(user_message.id);
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(started_with.as_deref(), Some(question[0].id.as_str()));
    // The model read the question once: 5 words + 3 framing tokens.
    assert_eq!(answer.stats.unwrap().tokens_in, 8);
    let saved = app.messages(&conversation).await.unwrap();
    let roles: Vec<Role> = saved.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant]);
}
