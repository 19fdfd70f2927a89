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
        Self::start_at(binary, database_url, admin_token, "127.0.0.1:0", options)
    }

    /// [`QuotaServer::start_with`] on a given address (a restart on the port clients know).
    pub fn start_at(
        binary: &Path,
        database_url: &str,
        admin_token: &str,
        listen: &str,
        options: &[&str],
    ) -> QuotaServer {
        let mut child = Command::new(binary)
            .args(["--database-url", database_url, "serve"])
            .args(["--listen", listen])
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

/// The `tokenwise-server` binary of this build (next to the running test's folder), built
/// first when it is not there yet (a test of another crate run on its own).
pub fn quota_server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let binary = profile_dir.join(format!("tokenwise-server{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "-p", "tokenwise-server"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build -p tokenwise-server failed");
    }
    binary
}

/// Panics when any file under `dir` (recursively) contains `needle`: a secret that must live
/// in the keyring only.
pub fn assert_no_file_contains(dir: &Path, needle: &str) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            assert_no_file_contains(&path, needle);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle:?} was written to {}",
            path.display()
        );
    }
}
