//! Starts the tests' mock LiteLLM gateway ([`MOCK_GATEWAY_YAML`]) for a test written in another
//! language (the end-to-end tests in `tests/e2e/`), so every test uses the one launcher.
//!
//! ```sh
//! tokenwise-test-gateway MASTER_KEY
//! ```
//!
//! Prints one JSON line once the proxy answers — `{"baseUrl": "http://127.0.0.1:PORT/v1",
//! "log": "/tmp/…/proxy.log"}` — then keeps it running until its standard input closes (the
//! caller ends it with `stdin.end()`, or by exiting), and stops it.

use std::io::{Read, Write};
use std::process::ExitCode;

use tokenwise_testkit::{LiteLlmProxy, MOCK_GATEWAY_YAML};

fn main() -> ExitCode {
    let Some(master_key) = std::env::args().nth(1) else {
        eprintln!("usage: tokenwise-test-gateway MASTER_KEY");
        return ExitCode::from(2);
    };
    let proxy = LiteLlmProxy::start(MOCK_GATEWAY_YAML, &master_key);
    let line = format!(
        "{{\"baseUrl\":\"{}\",\"log\":\"{}\"}}\n",
        proxy.base_url(),
        proxy.log_path().display()
    );
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    // Until the caller closes our stdin (or goes away): then `proxy` drops and LiteLLM stops.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(proxy);
    ExitCode::SUCCESS
}
