//! A real `tokenwise-server serve` process on a free 127.0.0.1 port, and its `admin` verbs.
//! The binary's path is passed in (`env!("CARGO_BIN_EXE_tokenwise-server")` in the caller).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `tokenwise-server serve`; killed when dropped.
pub struct QuotaServer {
    child: Child,
    /// `http://127.0.0.1:PORT` (`https://…` when started with TLS).
    pub base: String,
}

impl QuotaServer {
    /// Starts `binary serve` on `database_url` with the admin API on (`admin_token`) and the
    /// rate limit out of the way (the caller's clients are the load; the limit has its own
    /// test). Returns once the server says where it listens.
    pub fn start(binary: &Path, database_url: &str, admin_token: &str) -> QuotaServer {
        Self::start_with(binary, database_url, admin_token, &[])
    }

    /// [`QuotaServer::start`] with more `serve` options (`--tls-cert …`).
    pub fn start_with(
        binary: &Path,
        database_url: &str,
        admin_token: &str,
        options: &[&str],
    ) -> QuotaServer {
        let mut child = Command::new(binary)
            .args(["--database-url", database_url, "serve"])
            .args(["--listen", "127.0.0.1:0"])
            .args(options)
            .args(["--rate-per-second", "100000", "--rate-burst", "100000"])
            .env("TOKENWISE_SERVER_ADMIN_TOKEN", admin_token)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the server's first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        QuotaServer { child, base }
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill_hard(&mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for QuotaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `binary --database-url URL admin ARGS`; its standard output. Panics with its standard
/// error when it fails.
pub fn quota_admin(binary: &Path, database_url: &str, args: &[&str]) -> String {
    let output = Command::new(PathBuf::from(binary))
        .args(["--database-url", database_url, "admin"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    assert!(
        output.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
