//! `tokenwise models`: this machine's fit verdicts, a pull from a local server (the real model
//! file) through an IT catalog, the pinned checksum, removal, and bad input.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

mod common;

use common::{succeeds, tokenwise};

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

fn checkout_models() -> std::path::PathBuf {
    std::env::var_os("TOKENWISE_MODELS_DIR")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// Serves the real model file over HTTP on 127.0.0.1 until the test ends; returns its URL.
fn serve_model() -> String {
    let bytes = std::fs::read(checkout_models().join(FILE)).expect("run scripts/fetch-model.sh");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/{FILE}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = stream.write_all(&bytes);
        }
    });
    url
}

fn mirror_catalog(dir: &Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("catalog.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[model]]
id = "mirrored-smollm2"
name = "SmolLM2 from the mirror"
parameters = "135M"
quant = "Q4_1"
file = "{FILE}"
url = "{url}"
licence = "Apache-2.0"
source = "test mirror"
context_tokens = 8192
layers = 30
kv_heads = 3
head_dim = 64
local_reach = "simple"
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn list_shows_this_machine_and_a_verdict_per_model() {
    let data = tempfile::tempdir().unwrap();
    let output = succeeds(tokenwise(data.path()).args(["models", "list", "--json"]));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        json["hardware"]["total_memory_bytes"].as_u64().unwrap() > 1 << 28,
        "{json}"
    );
    assert!(
        json["weight_bytes_per_second"].as_f64().unwrap() > 1e8,
        "{json}"
    );
    let models = json["models"].as_array().unwrap();
    assert!(models.len() >= 4);
    let default = models
        .iter()
        .find(|m| m["id"] == "smollm2-135m-instruct-q4_1")
        .unwrap();
    assert_eq!(default["downloaded"], true);
    assert_eq!(default["fit"]["verdict"], "runs_well", "{default}");
    assert!(
        default["fit"]["expected_tokens_per_second"]
            .as_f64()
            .unwrap()
            > 1.0
    );
    for model in models {
        let verdict = model["fit"]["verdict"].as_str().unwrap();
        assert!(["runs_well", "runs_slowly", "does_not_fit"].contains(&verdict));
        assert!(!model["fit"]["reason"].as_str().unwrap().is_empty());
    }
    // The probe ran once and is kept.
    assert!(data.path().join("speed-probe.json").exists());
    let again = succeeds(tokenwise(data.path()).args(["models", "list"]));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        !stderr.contains("measuring"),
        "the cached probe is reused: {stderr}"
    );
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("This machine:") && text.contains("runs well"),
        "{text}"
    );
}

#[test]
fn pull_from_a_mirror_pins_the_checksum_and_rm_removes_it() {
    let data = tempfile::tempdir().unwrap();
    let models = data.path().join("models");
    let catalog = mirror_catalog(data.path(), &serve_model());
    let run = |args: &[&str]| {
        let mut command = tokenwise(data.path());
        command
            .env("TOKENWISE_MODELS_DIR", &models)
            .env("TOKENWISE_MODEL_CATALOG", &catalog)
            .args(args);
        command
    };
    let pulled = succeeds(&mut run(&["models", "pull", "mirrored-smollm2"]));
    let stdout = String::from_utf8_lossy(&pulled.stdout);
    assert!(
        stdout.contains("pinned") && stdout.contains(SHA256),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&pulled.stderr).contains("of 99 MB"));
    assert_eq!(
        std::fs::metadata(models.join(FILE)).unwrap().len(),
        98_362_432
    );

    let listed = succeeds(&mut run(&["models", "list"]));
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("checksum pinned on first download") && text.contains("downloaded"),
        "{text}"
    );

    // The switch: loaded once to check it runs, then it is the one that answers.
    let used = succeeds(&mut run(&["models", "use", "mirrored-smollm2"]));
    let stdout = String::from_utf8_lossy(&used.stdout);
    assert!(
        stdout.contains("SmolLM2 from the mirror answers from now on"),
        "{stdout}"
    );
    let listed = succeeds(&mut run(&["models", "list"]));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("* mirrored-smollm2"));
    // The model that answers is not deleted under it.
    let refused = run(&["models", "rm", "mirrored-smollm2"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("answers now"));

    // Back to the default (the settings file is the person's own), then removal works.
    std::fs::remove_file(data.path().join("desktop-settings.json")).unwrap();
    succeeds(&mut run(&["models", "rm", "mirrored-smollm2"]));
    assert!(!models.join(FILE).exists());
    // A model that is not downloaded cannot be chosen.
    let missing = run(&["models", "use", "mirrored-smollm2"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("not downloaded yet"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[test]
fn bad_input_gets_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let fails = |args: &[&str], env: Option<(&str, &Path)>, expected: &str| {
        let mut command = tokenwise(data.path());
        if let Some((key, value)) = env {
            command.env(key, value);
        }
        let output = command.args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(expected),
            "{args:?}: {stderr}"
        );
    };
    fails(
        &["models", "pull", "no-such-model"],
        None,
        "No model called `no-such-model`",
    );
    fails(
        &["models", "pull", "smollm2-135m-instruct-q4_1"],
        None,
        "scripts/fetch-model.sh",
    );
    fails(
        &["models", "rm", "smollm2-135m-instruct-q4_1"],
        None,
        "not removed",
    );
    let garbage = data.path().join("garbage.toml");
    std::fs::write(&garbage, "[[model]]\nid = 3\n\u{0}").unwrap();
    fails(
        &["models", "list"],
        Some(("TOKENWISE_MODEL_CATALOG", &garbage)),
        "is not valid",
    );
}
