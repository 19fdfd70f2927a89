//! A real LiteLLM proxy for a test.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `litellm` executable: `TOKENWISE_LITELLM_BIN`, else the workspace's
/// `target/litellm-venv/bin/litellm`. Panics with what to run when it is missing.
pub fn litellm_bin() -> PathBuf {
    let path = std::env::var_os("TOKENWISE_LITELLM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/litellm-venv/bin/litellm")
        });
    assert!(
        path.is_file(),
        "the LiteLLM proxy is not installed at {}: run `scripts/install-deps.sh test` (it creates \
         target/litellm-venv), or set TOKENWISE_LITELLM_BIN to a `litellm` executable",
        path.display()
    );
    path
}

/// The text every mock model of [`MOCK_GATEWAY_YAML`] answers with.
pub const MOCK_TEXT: &str = "The quick brown fox jumps over the lazy dog.";

/// The one mock gateway every test uses (Rust and the end-to-end tests, through the
/// `tokenwise-test-gateway` binary): a company LiteLLM proxy whose models answer without any
/// upstream. `{port}` and `{master_key}` are filled in by [`LiteLlmProxy::start`].
///
/// - `gpt-4o`, `gpt-4o-mini`, `mock-mini`: stream [`MOCK_TEXT`] with usage and cost (priced
///   from LiteLLM's bundled price map as gpt-4o / gpt-4o-mini);
/// - `mock-ratelimit`, `mock-error`: an upstream 429 / 500;
/// - `mock-slow`: answers after 30 s (for stop and idle-timeout tests);
/// - `claude-via-gateway`: the proxy's own `gpt-4o` behind the Anthropic Messages route, a
///   real upstream that streams (where `mock_response` does not).
pub const MOCK_GATEWAY_YAML: &str = r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: fake-upstream-key
      mock_response: "The quick brown fox jumps over the lazy dog."
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: fake-upstream-key
      mock_response: "The quick brown fox jumps over the lazy dog."
  - model_name: mock-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: fake-upstream-key
      mock_response: "The quick brown fox jumps over the lazy dog."
  - model_name: mock-ratelimit
    litellm_params:
      model: openai/gpt-4o
      api_key: fake-upstream-key
      mock_response: "litellm.RateLimitError"
  - model_name: mock-error
    litellm_params:
      model: openai/gpt-4o
      api_key: fake-upstream-key
      mock_response: "litellm.InternalServerError"
  - model_name: mock-slow
    litellm_params:
      model: openai/gpt-4o
      api_key: fake-upstream-key
      mock_response: "too late"
      mock_delay: 30
  - model_name: claude-via-gateway
    litellm_params:
      model: hosted_vllm/gpt-4o
      api_base: http://127.0.0.1:{port}/v1
      api_key: "{master_key}"
"#;

/// A LiteLLM proxy on a free port; killed when dropped.
pub struct LiteLlmProxy {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl LiteLlmProxy {
    /// Starts the proxy with `config_yaml` (its `model_list`), requiring `master_key` as the
    /// bearer key, and waits until it answers (up to 2 minutes: it takes ~20 s on two cores).
    ///
    /// The config may use `{port}`: it is replaced by the proxy's own port, so a model can
    /// point `api_base` at the proxy itself (`http://127.0.0.1:{port}/v1`) — a real upstream
    /// that streams, for protocols where `mock_response` does not; and `{master_key}`.
    pub fn start(config_yaml: &str, master_key: &str) -> LiteLlmProxy {
        let bin = litellm_bin();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("tokenwise-litellm-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = config_yaml
            .replace("{port}", &port.to_string())
            .replace("{master_key}", master_key);
        std::fs::write(dir.join("config.yaml"), config).unwrap();
        let log = std::fs::File::create(dir.join("proxy.log")).unwrap();
        let child = Command::new(&bin)
            .args(["--config", "config.yaml", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .current_dir(&dir)
            // The bundled price map: no download at start.
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .env("LITELLM_MASTER_KEY", master_key)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let mut proxy = LiteLlmProxy { child, port, dir };
        proxy.wait_ready(Duration::from_secs(120));
        proxy
    }

    /// [`LiteLlmProxy::start`] with [`MOCK_GATEWAY_YAML`].
    pub fn start_mock_gateway(master_key: &str) -> LiteLlmProxy {
        LiteLlmProxy::start(MOCK_GATEWAY_YAML, master_key)
    }

    /// The proxy's log file (one line per request, see [`LiteLlmProxy::log`]).
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("proxy.log")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:{port}/v1`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The whole log so far (requests are logged one per line: `"POST /v1/... HTTP/1.1" 200`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("proxy.log")).unwrap_or_default()
    }

    /// How many requests for `path` (e.g. `/v1/chat/completions`) the proxy has logged.
    pub fn requests_to(&self, path: &str) -> usize {
        let needle = format!("\"POST {path} ");
        self.log().matches(&needle).count()
    }

    /// The last 30 lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "LiteLLM exited ({status}) while starting:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.write_all(
                    b"GET /health/liveliness HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                );
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!(
            "LiteLLM was not ready within {limit:?}:\n{}",
            self.log_tail()
        );
    }
}

impl Drop for LiteLlmProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
