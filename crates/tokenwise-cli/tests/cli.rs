//! The `tokenwise` binary end to end, on the real model.

use std::process::Command;

fn tokenwise(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenwise"));
    command.env("TOKENWISE_DATA_DIR", data_dir);
    if std::env::var_os("TOKENWISE_MODELS_DIR").is_none() {
        command.env(
            "TOKENWISE_MODELS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"),
        );
    }
    command
}

#[test]
fn ask_json_prints_the_answer_with_usage_and_saves_the_conversation() {
    let data = tempfile::tempdir().unwrap();
    let output = tokenwise(data.path())
        .args(["ask", "--json", "What is the capital of France?"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
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
    let output = tokenwise(data.path())
        .args(["ask", "What", "is", "the", "capital", "of", "France?"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
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
