//! `tokenwise ask --tier …` against a real LiteLLM proxy, with the key in the real keyring
//! (gnome-keyring-daemon on the test's private D-Bus session).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use tokenwise_core::Secret;
use tokenwise_secrets::KeyStore;
use tokenwise_testkit::{start_gnome_keyring, LiteLlmProxy, MOCK_TEXT};

const KEY: &str = "sk-tokenwise-cli-it-8Hq2";

fn tokenwise(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenwise"));
    command
        .env("TOKENWISE_DATA_DIR", data_dir)
        .env(
            "TOKENWISE_MODELS_DIR",
            std::env::var_os("TOKENWISE_MODELS_DIR")
                .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../models").into()),
        )
        // Not a terminal: confirmation must come from --yes.
        .stdin(Stdio::null());
    command
}

/// Runs `tokenwise ARGS` on a pseudo-terminal (`script`), typing `typed` once it asks;
/// returns everything the terminal showed.
fn on_terminal(data_dir: &Path, args: &[&str], typed: &str) -> String {
    use std::io::Write;
    let command = std::iter::once(env!("CARGO_BIN_EXE_tokenwise"))
        .chain(args.iter().copied())
        .map(|arg| format!("'{}'", arg.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("TOKENWISE_DATA_DIR", data_dir)
        .env(
            "TOKENWISE_MODELS_DIR",
            std::env::var_os("TOKENWISE_MODELS_DIR")
                .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../models").into()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the command on a pty");
    let mut stdin = child.stdin.take().unwrap();
    // The question comes after the model loads and the preview prints; the pty buffers what
    // is typed until the command reads it.
    stdin.write_all(typed.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let shown = text(&output.stdout);
    assert!(output.status.success(), "{shown}\n{}", text(&output.stderr));
    shown
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

#[test]
fn ask_tier_previews_the_cost_refuses_without_a_terminal_and_sends_with_yes() {
    start_gnome_keyring();
    let proxy = LiteLlmProxy::start_mock_gateway(KEY);
    let data = tempfile::tempdir().unwrap();
    // The company points the built-in "openai" provider at its gateway.
    let builtin = tokenwise_core::tiers::BUILTIN_CATALOG_TOML;
    std::fs::write(
        data.path().join("tiers.toml"),
        format!(
            "{builtin}\n[[provider]]\nid = \"openai\"\napi = \"openai\"\nbase_url = \"{}\"\n",
            proxy.base_url()
        ),
    )
    .unwrap();
    KeyStore::new().save("openai", &Secret::new(KEY)).unwrap();
    let prompt = "Explain the trade-offs of consensus algorithms.";

    // No terminal, no --yes: the preview is printed, nothing is sent.
    let refused = tokenwise(data.path())
        .args(["ask", "--tier", "frontier", prompt])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{}", show(&refused));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("cloud: gpt-4o (frontier, openai)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tokens in [o200k_base (gpt-4o)]"),
        "{stderr}"
    );
    assert!(stderr.contains("cost:  ≈ $"), "{stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    assert_eq!(
        proxy.requests_to("/v1/chat/completions"),
        0,
        "nothing was sent"
    );

    // On a terminal (a real pty from util-linux `script`) the person is asked; "n" sends
    // nothing, "y" sends.
    let declined = on_terminal(data.path(), &["ask", "--tier", "frontier", prompt], "n\n");
    assert!(
        declined.contains("Send to gpt-4o? [y]es / [l]ocal model instead / [N]o"),
        "{declined}"
    );
    assert!(declined.contains("Nothing was sent."), "{declined}");
    assert_eq!(
        proxy.requests_to("/v1/chat/completions"),
        0,
        "declined: nothing was sent"
    );
    let accepted = on_terminal(data.path(), &["ask", "--tier", "frontier", prompt], "y\n");
    assert!(accepted.contains(MOCK_TEXT), "{accepted}");
    assert_eq!(proxy.requests_to("/v1/chat/completions"), 1);

    // --yes: streamed, with the actual cost next to the estimate.
    let sent = tokenwise(data.path())
        .args(["ask", "--tier", "frontier", "--yes", prompt])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", show(&sent));
    assert!(text(&sent.stdout).contains(MOCK_TEXT), "{}", show(&sent));
    assert!(text(&sent.stderr).contains("[cost: $"), "{}", show(&sent));
    assert_eq!(proxy.requests_to("/v1/chat/completions"), 2);

    // The ledger has the charge; the key is in no file the CLI wrote.
    let usage = tokenwise(data.path())
        .args(["usage", "--json"])
        .output()
        .unwrap();
    assert!(usage.status.success(), "{}", show(&usage));
    let json: serde_json::Value = serde_json::from_slice(&usage.stdout).unwrap();
    assert!(json["totals"]["costMicros"].as_i64().unwrap() > 0, "{json}");
    assert_key_in_no_file(data.path());
    assert!(!text(&sent.stderr).contains(KEY) && !text(&refused.stderr).contains(KEY));

    broken_files_block_the_cloud_and_send_nothing(data.path(), &proxy, prompt);
    KeyStore::new().delete("openai").unwrap();
}

/// The key is in no file under `dir`, however deep.
fn assert_key_in_no_file(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_key_in_no_file(&path);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the key leaked into {}",
            path.display()
        );
    }
}

/// `ask --tier frontier --yes` must be refused, saying why, with nothing sent.
fn refused_with_nothing_sent(data: &Path, proxy: &LiteLlmProxy, prompt: &str, why: &str) {
    let before = proxy.requests_to("/v1/chat/completions");
    let output = tokenwise(data)
        .args(["ask", "--tier", "frontier", "--yes", prompt])
        .output()
        .unwrap();
    assert!(!output.status.success(), "{why}: {}", show(&output));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("Cloud answers are off"), "{why}: {stderr}");
    assert!(stderr.contains("not sent"), "{why}: {stderr}");
    assert_eq!(
        proxy.requests_to("/v1/chat/completions"),
        before,
        "{why}: nothing may reach the gateway"
    );
}

/// The fail-closed rule, against the same gateway and keyring: a budget file or tier catalog
/// that cannot be used blocks cloud answers (zero requests), the last good budgets stay
/// visible, and special files are refused at once.
fn broken_files_block_the_cloud_and_send_nothing(data: &Path, proxy: &LiteLlmProxy, prompt: &str) {
    let budgets = data.join("budgets.toml");
    let good = "time_zone = \"UTC\"\n[identity]\nuser_id = \"alice\"\n\n[[budget]]\nscope = \"user\"\nid = \"alice\"\nwindow = \"day\"\nlimit_usd = \"5.00\"\n";
    std::fs::write(&budgets, good).unwrap();
    let usage = tokenwise(data).args(["usage", "--json"]).output().unwrap();
    assert!(usage.status.success(), "{}", show(&usage));

    // A syntax error, then a limit written as a float: both block, and `usage` shows the last
    // good budgets with the problem and fails.
    std::fs::write(&budgets, good.replace("window = ", "window = = ")).unwrap();
    refused_with_nothing_sent(data, proxy, prompt, "syntax error");
    std::fs::write(&budgets, good.replace("\"5.00\"", "0.0")).unwrap();
    refused_with_nothing_sent(data, proxy, prompt, "float limit");
    let usage = tokenwise(data).args(["usage"]).output().unwrap();
    assert!(!usage.status.success(), "{}", show(&usage));
    assert!(
        text(&usage.stdout).contains("$5.00"),
        "last good kept: {}",
        show(&usage)
    );
    assert!(
        text(&usage.stderr).contains("budgets.toml"),
        "{}",
        show(&usage)
    );

    // A FIFO as the budget file: refused at once, not waited on.
    std::fs::remove_file(&budgets).unwrap();
    let made = Command::new("mkfifo").arg(&budgets).status().unwrap();
    assert!(made.success());
    refused_with_nothing_sent(data, proxy, prompt, "fifo");
    std::fs::remove_file(&budgets).unwrap();

    // A broken tier catalog: the built-in one does not come back for the cloud.
    let tiers = data.join("tiers.toml");
    let company = std::fs::read_to_string(&tiers).unwrap();
    std::fs::write(&tiers, format!("{company}\n[[tier]]\nid = \"broken\"\n")).unwrap();
    refused_with_nothing_sent(data, proxy, prompt, "broken catalog");
    std::fs::write(&tiers, &company).unwrap();

    // A catalog named explicitly that does not exist: an error, not a silent fall-back.
    let before = proxy.requests_to("/v1/chat/completions");
    let missing = tokenwise(data)
        .env("TOKENWISE_TIERS_FILE", data.join("no-such-tiers.toml"))
        .args(["ask", "--tier", "frontier", "--yes", prompt])
        .output()
        .unwrap();
    assert!(!missing.status.success(), "{}", show(&missing));
    assert!(
        text(&missing.stderr).contains("no-such-tiers.toml"),
        "{}",
        show(&missing)
    );
    assert_eq!(proxy.requests_to("/v1/chat/completions"), before);
}

/// An OpenAI-compatible endpoint that streams `pieces` and then keeps the call open without
/// finishing it: a cloud answer still under way (a provider that stalls) when its process is
/// killed. Returns its base URL; the thread ends when the client's connection closes.
fn stalling_gateway(pieces: &'static [&'static str]) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut content_length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap();
                }
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).unwrap();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
             connection: close\r\n\r\n"
        )
        .unwrap();
        for piece in pieces {
            let chunk = serde_json::json!({
                "id": "chatcmpl-stall",
                "object": "chat.completion.chunk",
                "model": "gpt-4o",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}],
            });
            write!(stream, "data: {chunk}\n\n").unwrap();
            stream.flush().unwrap();
        }
        // Hold the call open until the client goes away.
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    (base_url, server)
}

/// The data-loss rule for money: a cloud call killed mid-stream (SIGKILL: nothing runs at
/// exit) is settled on the next start for its prompt and the answer that had streamed, at the
/// catalog's price, instead of holding its maximum for 15 minutes and then counting $0.
#[cfg(unix)]
#[test]
fn a_cloud_answer_killed_mid_stream_is_charged_for_what_streamed_on_the_next_start() {
    use std::io::Read;
    start_gnome_keyring();
    const PIECES: &[&str] = &["By induction ", "on n: the base ", "case n = 1 holds, "];
    let (base_url, server) = stalling_gateway(PIECES);
    let data = tempfile::tempdir().unwrap();
    let local = tokenwise_core::tiers::BUILTIN_CATALOG_TOML
        .split("[[tier]]")
        .find(|part| part.contains("id = \"local\""))
        .unwrap();
    std::fs::write(
        data.path().join("tiers.toml"),
        format!(
            "[[provider]]\nid = \"stall\"\napi = \"openai\"\nbase_url = \"{base_url}\"\n\n\
             [[tier]]{local}\n[[tier]]\nid = \"frontier\"\ndifficulty = \"complex\"\n\
             kind = \"cloud\"\nprovider = \"stall\"\nmodel = \"gpt-4o\"\n\
             display_name = \"gpt-4o\"\ninput_per_mtok_micros = 2500000\n\
             output_per_mtok_micros = 10000000\nmax_output_tokens = 4096\n\
             context_tokens = 128000\n"
        ),
    )
    .unwrap();
    KeyStore::new()
        .save("stall", &Secret::new("sk-stall-it-3fQ"))
        .unwrap();

    let mut child = tokenwise(data.path())
        .args([
            "ask",
            "--tier",
            "frontier",
            "--yes",
            "Prove that the sum of the first n odd numbers is n squared.",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let expected: String = PIECES.concat();
    let mut printed = Vec::new();
    let mut buffer = [0u8; 256];
    while !text(&printed).contains(expected.trim_end()) {
        let read = stdout.read(&mut buffer).unwrap();
        assert!(read > 0, "the answer ended early: {}", text(&printed));
        printed.extend_from_slice(&buffer[..read]);
    }
    // Everything shown is in the draft without another piece arriving (the draft is written
    // on a timer while the stream stalls), before the process is killed.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(tokenwise_store::Store::open(
            &data.path().join("tokenwise.sqlite3"),
        ))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let drafts = runtime.block_on(store.drafts()).unwrap();
        if drafts
            .first()
            .is_some_and(|draft| draft.content == expected)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the draft never caught up with the screen: {drafts:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait_with_output().unwrap();
    server.join().unwrap();

    let usage = tokenwise(data.path())
        .args(["usage", "--json"])
        .output()
        .unwrap();
    assert!(usage.status.success(), "{}", show(&usage));
    assert!(
        text(&usage.stderr).contains("The cloud call was charged $"),
        "{}",
        show(&usage)
    );
    let json: serde_json::Value = serde_json::from_slice(&usage.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{json}");
    let row = &rows[0];
    assert_eq!(row["status"], "settled", "{json}");
    let tokens_in = row["tokensIn"].as_i64().unwrap();
    let tokens_out = row["tokensOut"].as_i64().unwrap();
    assert!(tokens_in > 10 && tokens_out > 5, "{json}");
    let expected_micros = (tokens_in * 2_500_000 + tokens_out * 10_000_000 + 999_999) / 1_000_000;
    assert_eq!(
        row["costMicros"].as_i64().unwrap(),
        expected_micros,
        "{json}"
    );

    // The answer is kept as stopped with everything that was shown.
    let conversation = &runtime.block_on(store.list_conversations()).unwrap()[0];
    let messages = runtime.block_on(store.messages(&conversation.id)).unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].status, tokenwise_core::MessageStatus::Stopped);
    assert_eq!(messages[1].content, expected);
    KeyStore::new().delete("stall").unwrap();
}
