//! The `tokenwise` binary end to end, on the real model.

use std::process::Command;

mod common;

use common::{succeeds, tokenwise};

#[test]
fn ask_json_prints_the_answer_with_usage_and_saves_the_conversation() {
    let data = tempfile::tempdir().unwrap();
    let output =
        succeeds(tokenwise(data.path()).args(["ask", "--json", "What is the capital of France?"]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        json["answer"].as_str().unwrap().contains("Paris"),
        "greedy by default, and right: {json}"
    );
    assert_eq!(json["status"], "complete");
    assert!(json["usage"]["tokens_in"].as_u64().unwrap() > 0, "{json}");
    assert!(json["usage"]["tokens_out"].as_u64().unwrap() > 0, "{json}");
    assert!(data.path().join("tokenwise.sqlite3").exists());
}

#[test]
fn ask_streams_plain_text_to_stdout() {
    let data = tempfile::tempdir().unwrap();
    let output = succeeds(
        tokenwise(data.path()).args(["ask", "What", "is", "the", "capital", "of", "France?"]),
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Paris"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("tok/s"));
}

#[test]
fn an_empty_prompt_fails_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let output = tokenwise(data.path())
        .args(["ask", "   "])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("empty"));
}

#[test]
fn a_missing_model_names_the_file_and_the_fix() {
    let data = tempfile::tempdir().unwrap();
    let output = tokenwise(data.path())
        .env("TOKENWISE_MODELS_DIR", data.path().join("no-models-here"))
        .args(["ask", "hi"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("SmolLM2-135M-Instruct.Q4_1.gguf"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/fetch-model.sh"), "{stderr}");
}

/// The routing dataset in the repository's `data/routing/`: thousands of real prompts.
const DATASET_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/routing/train.jsonl"
);

#[test]
fn classify_prints_tier_confidence_and_reason() {
    let data = tempfile::tempdir().unwrap();
    let output = succeeds(
        tokenwise(data.path()).args(["classify", "What", "is", "the", "capital", "of", "France?"]),
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("simple (0."), "{text}");

    let output = tokenwise(data.path())
        .args(["classify", "--json", "Summarize: the launch moved to May."])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(json["confidence"].as_f64().unwrap() > 0.0, "{json}");
    assert!(!json["reason"].as_str().unwrap().is_empty(), "{json}");
}

/// The first stage is unsure about this one (asserted below), so the encoder is asked.
const UNSURE_PROMPT: &str =
    "What is the most successful go to market strategy for a managed services business?";

#[test]
fn classify_explain_shows_each_stage_and_says_when_the_encoder_is_missing() {
    let data = tempfile::tempdir().unwrap();
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models");
    let output = succeeds(
        tokenwise(data.path())
            .env("TOKENWISE_MODELS_DIR", models)
            .args(["classify", "--explain", "--json", UNSURE_PROMPT]),
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["second_stage"]["kind"], "asked", "{json}");
    assert_eq!(json["stages"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["stages"][1]["stage"], "encoder");
    assert!(json["both_stages"]["probabilities"].is_array(), "{json}");
    // The router acts on the first stage: the verdict is its vote.
    assert_eq!(
        json["verdict"]["difficulty"],
        json["stages"][0]["difficulty"]
    );

    let text = succeeds(
        tokenwise(data.path())
            .env("TOKENWISE_MODELS_DIR", models)
            .args(["classify", "--explain", UNSURE_PROMPT]),
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("stage 1, features:"), "{text}");
    assert!(text.contains("unsure (below 0.40)"), "{text}");
    assert!(text.contains("stage 2, sentence encoder:"), "{text}");
    assert!(text.contains("both stages averaged:"), "{text}");

    let missing = succeeds(
        tokenwise(data.path())
            .env("TOKENWISE_MODELS_DIR", data.path().join("no-models-here"))
            .args(["classify", "--explain", UNSURE_PROMPT]),
    );
    let text = String::from_utf8_lossy(&missing.stdout);
    assert!(
        text.contains(
            "stage 2, sentence encoder: unavailable: the sentence encoder is not installed"
        ),
        "{text}"
    );
    assert!(text.contains("scripts/fetch-model.sh"), "{text}");
}

#[tokio::test]
async fn classify_explain_shows_what_the_persons_choices_do() {
    let data = tempfile::tempdir().unwrap();
    let question = "What is the capital of France?";
    let before = succeeds(tokenwise(data.path()).args(["classify", "--explain", question]));
    let text = String::from_utf8_lossy(&before.stdout);
    assert!(text.contains("your routing choices: none kept"), "{text}");

    // The person said a local answer to it was not good enough (through the facade, as the
    // window does).
    let app = tokenwise_app::Tokenwise::open(
        tokenwise_app::AppPaths {
            data_dir: data.path().to_path_buf(),
            models_dir: data.path().join("models"),
        },
        std::sync::Arc::new(tokenwise_core::SystemClock),
    )
    .await
    .unwrap();
    app.record_routing_feedback(
        question,
        tokenwise_core::Difficulty::Simple,
        tokenwise_app::RoutingFeedback::NeedsCloud,
    )
    .await
    .unwrap();
    app.close().await;

    let after = succeeds(tokenwise(data.path()).args(["classify", "--explain", question]));
    let text = String::from_utf8_lossy(&after.stdout);
    assert!(
        text.starts_with("simple ("),
        "the classifier's own verdict first: {text}"
    );
    assert!(
        text.contains("your routing choices (1 kept): moved it to medium"),
        "{text}"
    );
    let json = succeeds(tokenwise(data.path()).args(["classify", "--explain", "--json", question]));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["your_choices"]["adjusted"], true, "{json}");
    assert_eq!(json["your_choices"]["difficulty"], "medium", "{json}");
}

#[test]
fn classify_jsonl_answers_every_line_of_the_dataset_in_order() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let dataset = std::fs::read_to_string(DATASET_PATH).unwrap();
    let mut child = tokenwise(data.path())
        .args(["classify", "--jsonl", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = dataset.clone();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());

    let inputs: Vec<serde_json::Value> = dataset
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let verdicts: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(inputs.len() > 1000);
    assert_eq!(verdicts.len(), inputs.len(), "one verdict per input line");
    let agreeing = inputs
        .iter()
        .zip(&verdicts)
        .filter(|(input, verdict)| input["tier"] == verdict["difficulty"])
        .count();
    // Trained on this file: most verdicts agree with the labels (so the order is kept).
    assert!(
        agreeing * 2 > inputs.len(),
        "{agreeing} of {} agree",
        inputs.len()
    );
}

#[test]
fn classify_jsonl_marks_bad_lines_and_fails_at_the_end() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("prompts.jsonl");
    std::fs::write(&file, "{\"prompt\": \"Hi\"}\nnot json\n").unwrap();
    let output = tokenwise(data.path())
        .args(["classify", "--jsonl"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 of 2 lines"));
}

#[test]
fn usage_prints_budgets_and_the_ledger_and_json_in_micro_dollars() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("budgets.toml"),
        "time_zone = \"UTC\"\n[identity]\nuser_id = \"alice\"\n\n[[budget]]\nscope = \"user\"\nid = \"alice\"\nwindow = \"day\"\nlimit_usd = \"5.00\"\n",
    )
    .unwrap();
    let output = succeeds(tokenwise(data.path()).args(["usage"]));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("user alice"), "{text}");
    assert!(text.contains("$5.00"), "{text}");

    let output = succeeds(tokenwise(data.path()).args([
        "usage",
        "--json",
        "--since",
        "7d",
        "--scope",
        "user:alice",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["budgets"]["statuses"][0]["limit"], 5_000_000);
    assert_eq!(json["budgets"]["statuses"][0]["spent"], 0);
    assert_eq!(json["spend"]["days"].as_array().unwrap().len(), 30);
    assert_eq!(json["totals"]["requests"], 0);

    let output = tokenwise(data.path())
        .args(["usage", "--scope", "everyone"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("user:ID"));
}

#[test]
fn usage_names_a_broken_budget_file_and_its_line() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("budgets.toml"),
        "time_zone = \"Mars/Olympus\"\n[identity]\nuser_id = \"alice\"\n",
    )
    .unwrap();
    let output = tokenwise(data.path()).args(["usage"]).output().unwrap();
    // A file that did not load is not "all is well": the command fails, saying why.
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("budgets.toml"), "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("Cloud answers are off"), "{stderr}");
}

/// Runs the command with stdout on a pipe whose reader is already closed (as after
/// `| head -1` has read its line): every write fails with EPIPE.
fn with_closed_reader(command: &mut Command) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_each_command_quietly() {
    let data = tempfile::tempdir().unwrap();
    for args in [
        &["classify", "hi"][..],
        &["classify", "--json", "hi"],
        &["usage"],
        &["usage", "--json"],
    ] {
        let output = with_closed_reader(tokenwise(data.path()).args(args));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?}: {:?} {stderr}",
            output.status
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

#[test]
fn classify_jsonl_answers_a_blank_line_in_its_place() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("with-blanks.jsonl");
    std::fs::write(
        &file,
        "{\"prompt\": \"What is 2+2?\"}\n\n{\"prompt\": \"Hi\"}\n   \n",
    )
    .unwrap();
    let output = tokenwise(data.path())
        .args(["classify", "--jsonl"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "one output line per input line: {stdout}");
    assert!(lines[0]["difficulty"].is_string());
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("line 2: blank"));
    assert!(lines[2]["difficulty"].is_string());
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .contains("line 4: blank"));
    assert!(!output.status.success(), "blank lines are not prompts");
}

#[cfg(unix)]
#[test]
fn a_new_data_folder_and_its_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("fresh");
    succeeds(tokenwise(&data).args(["usage", "--json"]));
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder is this user's only");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("tokenwise.sqlite3")
        {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert_eq!(mode(&data.join("tokenwise.sqlite3")), 0o600);
}

#[test]
fn ask_refuses_when_the_history_cannot_be_saved() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("tokenwise.sqlite3"),
        b"this is not a database, and it is long enough for SQLite to read its header......",
    )
    .unwrap();
    let output = tokenwise(data.path())
        .args(["ask", "--local", "--json", "What is the capital of France?"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("nothing was asked"), "{stderr}");
    assert!(output.stdout.is_empty(), "no answer with invented IDs");
}

#[test]
fn concurrent_first_asks_on_a_new_folder_all_save_their_answers() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("new");
    let children: Vec<_> = ["Hi", "Hello", "Good morning", "Hey there"]
        .iter()
        .map(|prompt| {
            tokenwise(&data)
                .args(["ask", "--local", "--json", prompt])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut message_ids = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        message_ids.push(json["message_id"].as_str().unwrap().to_string());
    }
    // Every printed ID is a real saved answer: each has its ledger row.
    let usage = succeeds(tokenwise(&data).args(["usage", "--json"]));
    let json: serde_json::Value = serde_json::from_slice(&usage.stdout).unwrap();
    let rows: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["requestId"].as_str().unwrap())
        .collect();
    for id in &message_ids {
        assert!(rows.contains(&id.as_str()), "{id} not saved: {rows:?}");
    }
}

/// Starts a long streamed answer, waits (on the output itself, not a delay) until text has
/// arrived, sends `signal`, and returns what was printed and how the process ended.
#[cfg(unix)]
fn interrupted_answer(data: &std::path::Path, signal: &str) -> (String, std::process::Output) {
    use std::io::Read;
    let mut child = tokenwise(data)
        .args([
            "ask",
            "--local",
            "Write a long story about a lighthouse keeper and a storm, in many paragraphs.",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut printed: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 256];
    while printed.iter().filter(|b| !b.is_ascii_whitespace()).count() < 20 {
        let read = stdout.read(&mut buffer).unwrap();
        assert!(read > 0, "the answer ended before it could be interrupted");
        printed.extend_from_slice(&buffer[..read]);
    }
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    stdout.read_to_end(&mut printed).unwrap();
    let output = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&printed).into_owned(), output)
}

#[cfg(unix)]
#[tokio::test]
async fn an_interrupted_answer_is_saved_as_stopped_with_its_text() {
    for signal in ["-INT", "-TERM", "-HUP"] {
        let data = tempfile::tempdir().unwrap();
        let (printed, output) = interrupted_answer(data.path(), signal);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{signal}: {stderr}");
        assert!(stderr.contains("interrupted by"), "{signal}: {stderr}");
        assert!(stderr.contains("saved as stopped"), "{signal}: {stderr}");

        let store = tokenwise_store::Store::open(&data.path().join("tokenwise.sqlite3"))
            .await
            .unwrap();
        let conversation = &store.list_conversations().await.unwrap()[0];
        let messages = store.messages(&conversation.id).await.unwrap();
        assert_eq!(
            messages.len(),
            2,
            "{signal}: the question and the answer so far"
        );
        let answer = &messages[1];
        assert_eq!(
            answer.status,
            tokenwise_core::MessageStatus::Stopped,
            "{signal}"
        );
        assert!(!answer.content.trim().is_empty(), "{signal}");
        assert!(
            printed.trim_end().starts_with(answer.content.trim_end())
                || answer.content.trim_end().starts_with(printed.trim_end()),
            "{signal}: saved {:?}, printed {printed:?}",
            answer.content
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn an_answer_killed_mid_stream_is_recovered_as_stopped_on_the_next_start() {
    let data = tempfile::tempdir().unwrap();
    // SIGKILL cannot be caught: only what was written while streaming survives.
    let (printed, output) = interrupted_answer(data.path(), "-KILL");
    assert!(!output.status.success());

    // The next command finds the dead process's draft and keeps it as a stopped answer.
    let usage = succeeds(tokenwise(data.path()).args(["usage"]));
    let stderr = String::from_utf8_lossy(&usage.stderr);
    assert!(
        stderr.contains("interrupted when Tokenwise stopped unexpectedly"),
        "{stderr}"
    );
    let store = tokenwise_store::Store::open(&data.path().join("tokenwise.sqlite3"))
        .await
        .unwrap();
    let conversation = &store.list_conversations().await.unwrap()[0];
    let messages = store.messages(&conversation.id).await.unwrap();
    assert_eq!(messages.len(), 2, "the question and the answer so far");
    let answer = &messages[1];
    assert_eq!(answer.status, tokenwise_core::MessageStatus::Stopped);
    assert!(!answer.content.trim().is_empty());
    assert!(
        printed.starts_with(answer.content.trim_end()),
        "saved {:?} is not what was printed {printed:?}",
        answer.content
    );
    // Recovered once: the next start has nothing to say about it.
    let again = succeeds(tokenwise(data.path()).args(["usage"]));
    assert!(!String::from_utf8_lossy(&again.stderr).contains("interrupted"));
}

/// Runs `tokenwise ARGS` with the size of every file it writes limited to `limit_kib` KiB
/// (`ulimit -f`; SIGXFSZ ignored, so a write past the limit fails the way it does on a full
/// disk instead of killing the process).
#[cfg(unix)]
fn with_file_size_limit(
    data: &std::path::Path,
    limit_kib: u64,
    args: &[&str],
) -> std::process::Output {
    let mut command = tokenwise(data);
    let program = command.get_program().to_owned();
    let mut shell = Command::new("bash");
    shell
        .arg("-c")
        .arg(format!(
            "ulimit -f {limit_kib}; trap '' XFSZ; exec \"$0\" \"$@\""
        ))
        .arg(program)
        .args(args)
        .envs(
            command
                .get_envs()
                .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value.to_owned()))),
        );
    command = shell;
    command.output().unwrap()
}

/// A disk that fills up at any step: at start, while the answer streams, when it is saved.
/// Whatever step fails, the command says the disk is full and exits non-zero, and an answer
/// that was generated is printed (also with `--json`, marked `saved: false`); it never
/// reports success for something it did not save.
#[cfg(unix)]
#[test]
fn a_full_disk_is_named_and_a_generated_answer_is_printed_anyway() {
    let template = tempfile::tempdir().unwrap();
    succeeds(tokenwise(template.path()).args(["ask", "--local", "--json", "Hi"]));
    // A clean exit checkpoints the write-ahead log into the database, so every run below
    // starts from the same files (a left-over log would make the first write a checkpoint).
    let wal = std::fs::metadata(template.path().join("tokenwise.sqlite3-wal"));
    assert!(
        !matches!(&wal, Ok(wal) if wal.len() > 0),
        "the write-ahead log outlived a clean exit: {wal:?}"
    );
    let prompt = "Write three sentences about the sea.";
    let mut outcomes = std::collections::BTreeMap::<&str, u64>::new();
    // Larger limits let each run get further; the sweep ends at the first that saves.
    for limit_kib in (4..=1024).step_by(8) {
        let data = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(template.path()).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), data.path().join(entry.file_name())).unwrap();
            }
        }
        let output = with_file_size_limit(
            data.path(),
            limit_kib,
            &["ask", "--local", "--json", prompt],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        let outcome = if output.status.success() {
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(json["saved"], true, "{limit_kib} KiB: {json}");
            "saved"
        } else {
            assert!(stderr.contains("disk is full"), "{limit_kib} KiB: {stderr}");
            if output.stdout.is_empty() {
                "refused before answering"
            } else {
                let json: serde_json::Value = serde_json::from_slice(&output.stdout)
                    .unwrap_or_else(|e| panic!("{limit_kib} KiB: {e}: {stderr}"));
                assert_eq!(json["saved"], false, "{limit_kib} KiB: {json}");
                assert!(!json["answer"].as_str().unwrap().trim().is_empty());
                assert!(
                    stderr.contains("was not saved"),
                    "{limit_kib} KiB: {stderr}"
                );
                "answered, not saved"
            }
        };
        *outcomes.entry(outcome).or_default() += 1;
        // Whatever happened, the database is intact (opening runs SQLite's integrity check).
        let path = data.path().join("tokenwise.sqlite3");
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(tokenwise_store::Store::open(&path))
            .unwrap_or_else(|e| panic!("{limit_kib} KiB: {e}"));
        if outcome == "saved" {
            break;
        }
    }
    for expected in ["refused before answering", "answered, not saved", "saved"] {
        assert!(
            outcomes.contains_key(expected),
            "no limit produced {expected:?}: {outcomes:?}"
        );
    }
}

#[test]
fn the_engine_writes_nothing_outside_the_apps_own_folders() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    succeeds(
        tokenwise(&data)
            .env("HOME", home.path())
            .env_remove("HF_HOME")
            .env_remove("XDG_CACHE_HOME")
            .args(["ask", "--local", "--json", "Hi"]),
    );
    let outside: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .filter(|name| name != "data")
        .collect();
    assert!(
        outside.is_empty(),
        "written outside the data folder: {outside:?}"
    );
}

/// `kill -9` of `tokenwise sync` while its usage batch is at the server (the server has it,
/// the answer never came back): the next `tokenwise sync` sends the same records again, and
/// the server counts each local answer once. Real processes throughout: the CLI, a
/// `tokenwise-server`, the keyring, and the testkit's fault proxy between them.
#[test]
fn a_sync_killed_mid_push_loses_nothing_and_counts_nothing_twice() {
    use tokenwise_testkit::{quota_admin, quota_server_binary, Fault, FaultProxy, QuotaServer};
    tokenwise_testkit::start_gnome_keyring();
    let company = tempfile::tempdir().unwrap();
    let database = company.path().join("quota.sqlite3");
    let database = database.to_str().unwrap();
    let admin = |args: &[&str]| quota_admin(&quota_server_binary(), database, args);
    admin(&["team", "add", "eng"]);
    let code: serde_json::Value =
        serde_json::from_str(&admin(&["user", "add", "ada", "--team", "eng"])).unwrap();
    let server = QuotaServer::start(&quota_server_binary(), database, "admin-token-cli-test");
    let network = FaultProxy::start(&server.base);
    let data = tempfile::tempdir().unwrap();
    succeeds(tokenwise(data.path()).args([
        "connect",
        &network.base_url(),
        "--code",
        code["code"].as_str().unwrap(),
    ]));

    // Two local answers while the server fails: their usage waits in the outbox.
    network.set_for("/v1/usage", Fault::ServerError);
    for _ in 0..2 {
        succeeds(tokenwise(data.path()).args(["ask", "--local", "--json", "Hi"]));
    }
    // The push reaches the server, whose answer is held back; the command is killed.
    network.set_for("/v1/usage", Fault::HangAfterServer);
    let forwarded = network.forwarded("/v1/usage");
    let mut sync = tokenwise(data.path()).arg("sync").spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while network.forwarded("/v1/usage") == forwarded {
        assert!(std::time::Instant::now() < deadline, "the push never came");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sync.kill().unwrap();
    sync.wait().unwrap();
    let books = |label: &str| {
        let spend: serde_json::Value =
            serde_json::from_str(&admin(&["spend", "--group-by", "team"])).unwrap();
        (spend["rows"][0]["local_answers"].clone(), label.to_string())
    };
    assert_eq!(books("server had the batch").0, 2);

    // Next time through: delivered again, counted once, nothing left waiting.
    network.clear();
    let output = succeeds(tokenwise(data.path()).arg("sync"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("wait to be sent"), "{stdout}");
    assert_eq!(books("after the retry").0, 2);
}

/// IT's policy from the CLI: `policy validate` names file, line and column and fails;
/// `policy show --json` says what is in force and from where; `ask --tier frontier` is
/// refused under a managed "no frontier" policy, and nothing is sent.
#[test]
fn policy_validate_show_and_a_managed_tier_limit() {
    let data = tempfile::tempdir().unwrap();
    let policy = tempfile::tempdir().unwrap();
    let managed = policy.path().join("managed");
    std::fs::create_dir_all(&managed).unwrap();
    let good = managed.join("50-interns.json");
    std::fs::write(&good, r#"{"allowed_tiers": ["local", "mid"]}"#).unwrap();
    let bad = policy.path().join("draft.json");
    std::fs::write(&bad, "{\n  \"cloud_enabled\": \"yes\"\n}").unwrap();

    let output = tokenwise(data.path())
        .args(["policy", "validate"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("draft.json, line 2, column"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("50-interns.json: ok"));

    let shown = succeeds(
        tokenwise(data.path())
            .env("TOKENWISE_POLICY_DIR", policy.path())
            .args(["policy", "show", "--json"]),
    );
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let setting = &shown["settings"][0];
    assert_eq!(setting["key"], "allowed_tiers");
    assert_eq!(setting["locked"], true);
    assert!(setting["location"]
        .as_str()
        .unwrap()
        .ends_with("50-interns.json"));

    let refused = tokenwise(data.path())
        .env("TOKENWISE_POLICY_DIR", policy.path())
        .args(["ask", "--tier", "frontier", "--yes"])
        .arg("Design a distributed rate limiter and prove its bounds")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not allowed by policy"), "{stderr}");
    assert!(stderr.contains("Nothing was sent"), "{stderr}");

    let schema = succeeds(tokenwise(data.path()).args(["policy", "schema"]));
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(schema["title"], "Tokenwise policy");

    // The macOS and Windows examples IT starts from validate too, each level named.
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let checked = succeeds(
        tokenwise(data.path())
            .args(["policy", "validate"])
            .arg(docs.join("examples/tokenwise.reg"))
            .arg(docs.join("examples/tokenwise.mobileconfig")),
    );
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        stdout.contains(r"(HKLM\SOFTWARE\Policies\Tokenwise): ok (7 managed settings)"),
        "{stdout}"
    );
    assert!(stdout.contains("ok (1 recommended settings)"), "{stdout}");
    assert!(
        stdout.contains("(payload 1): ok (8 managed settings)"),
        "{stdout}"
    );

    // `policy admx` writes the templates that are checked in.
    let templates = tempfile::tempdir().unwrap();
    succeeds(
        tokenwise(data.path())
            .args(["policy", "admx"])
            .arg(templates.path()),
    );
    for file in ["tokenwise.admx", "en-US/tokenwise.adml"] {
        assert_eq!(
            std::fs::read_to_string(templates.path().join(file)).unwrap(),
            std::fs::read_to_string(docs.join("windows").join(file)).unwrap(),
            "{file}"
        );
    }
}

/// `tokenwise route` prints where each prompt would go after every rule, not only the
/// classifier's tier: the budget and the organization's policy change the answer.
#[test]
fn route_audits_the_final_decision_after_budget_and_policy() {
    let data = tempfile::tempdir().unwrap();
    let input = data.path().join("prompts.jsonl");
    let hard = "Design a distributed rate limiter for a multi-region API: compare token bucket \
                and sliding window approaches, analyse the consistency trade-offs step by step, \
                prove the bound on over-admission, and write the Rust implementation with tests.";
    std::fs::write(
        &input,
        format!(
            "{}\n{}\n\n{}\n",
            serde_json::json!({"id": "easy", "prompt": "What is the capital of France?", "tier": "simple"}),
            serde_json::json!({"id": "hard", "prompt": hard, "tier": "complex"}),
            serde_json::json!({"id": "proof", "prompt": "Prove that n^3 - n is divisible by 6 for every positive integer n.", "tier": "complex"}),
        ),
    )
    .unwrap();
    let run = |policy: Option<&std::path::Path>| {
        let mut command = tokenwise(data.path());
        command.args(["route", "--jsonl"]).arg(&input);
        if let Some(policy) = policy {
            command.env("TOKENWISE_POLICY_DIR", policy);
        }
        command.output().unwrap()
    };
    let lines = |output: &std::process::Output| -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };

    let open = run(None);
    assert!(
        !open.status.success(),
        "the blank line fails the command at the end"
    );
    assert!(String::from_utf8_lossy(&open.stderr).contains("1 of 4 lines could not be routed"));
    let routed = lines(&open);
    assert_eq!(routed.len(), 4, "one line out per line in");
    assert_eq!(routed[0]["id"], "easy");
    assert_eq!(routed[0]["tier"], "local");
    assert_eq!(routed[1]["id"], "hard");
    assert_eq!(routed[1]["tier"], "frontier", "{}", routed[1]);
    assert_eq!(routed[1]["needs_confirmation"], true);
    assert!(routed[1]["estimated_cost_micros"].as_i64().unwrap() > 0);
    assert!(routed[2]["error"].as_str().unwrap().contains("line 3"));
    // A short proof is not tried on the small local model on a hunch.
    assert_eq!(
        routed[3]["classifier"]["difficulty"], "complex",
        "{}",
        routed[3]
    );
    assert_ne!(routed[3]["tier"], "local", "{}", routed[3]);

    // Labelled lines are scored against their labels.
    let scored = tokenwise(data.path())
        .args(["route", "--score", "--jsonl"])
        .arg(&input)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&scored.stderr);
    assert!(report.contains("3 labelled prompts"), "{report}");
    assert!(report.contains("| final route |"), "{report}");

    // A budget with a cent left: the frontier is stepped past, and the line says why.
    std::fs::write(
        data.path().join("budgets.toml"),
        "time_zone = \"UTC\"\n[identity]\nuser_id = \"ada\"\n\n[[budget]]\nscope = \"user\"\n\
         id = \"ada\"\nwindow = \"day\"\nlimit_usd = \"0.0002\"\n",
    )
    .unwrap();
    let tight = lines(&run(None));
    assert_ne!(tight[1]["tier"], "frontier", "{}", tight[1]);
    assert!(
        tight[1]["explanation"]
            .as_str()
            .unwrap()
            .contains("budget too low"),
        "{}",
        tight[1]
    );
    std::fs::remove_file(data.path().join("budgets.toml")).unwrap();

    // The organization turns the cloud off: the same prompt stays on the laptop, and says why.
    let policy = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(policy.path().join("managed")).unwrap();
    std::fs::write(
        policy.path().join("managed/10.json"),
        r#"{"cloud_enabled": false}"#,
    )
    .unwrap();
    let closed = lines(&run(Some(policy.path())));
    assert_eq!(closed[1]["tier"], "local");
    assert_eq!(closed[1]["reason"], "local_only");
    assert_eq!(closed[1]["classifier"]["difficulty"], "complex");
}

#[test]
fn bench_local_prints_its_prompts_for_the_llamacpp_comparison() {
    let data = tempfile::tempdir().unwrap();
    let output = succeeds(tokenwise(data.path()).args(["bench", "local", "--prompts-json"]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for case in ["short", "decode", "1k", "summarize-4k"] {
        assert!(
            json["cases"][case].as_str().is_some_and(|p| !p.is_empty()),
            "{case} missing: {json}"
        );
    }
    assert!(json["system"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn bench_local_times_decode_over_the_tokens_asked_for() {
    // The `decode` case exists because the short answer gives only ~8 tokens to time: its
    // request must keep the model writing for every token asked for.
    let data = tempfile::tempdir().unwrap();
    let output = succeeds(tokenwise(data.path()).args([
        "bench",
        "local",
        "--runs",
        "1",
        "--tokens",
        "48",
        "--cases",
        "short,decode",
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let cases = json["cases"].as_array().unwrap();
    let decode = cases.iter().find(|c| c["case"] == "decode").unwrap();
    assert_eq!(decode["tokens_out"].as_f64(), Some(48.0), "{json}");
    assert!(decode["decode_tokens_per_second"].as_f64().unwrap() > 0.0);
    let short = cases.iter().find(|c| c["case"] == "short").unwrap();
    assert!(short["tokens_out"].as_f64().unwrap() < 48.0, "{json}");
    assert!(json["peak_rss_mib"].as_f64().unwrap() > 0.0, "{json}");
}
