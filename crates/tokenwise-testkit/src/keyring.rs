//! A real Secret Service for a test: gnome-keyring-daemon on the current session bus.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts gnome-keyring-daemon (secrets component only) on the current session bus, its
/// login keyring created in a temporary directory and unlocked with the empty password, and
/// waits until it owns `org.freedesktop.secrets`. Returns the directory holding its files.
///
/// Run inside `dbus-run-session` (as `scripts/test.sh` does): it never touches a desktop's own
/// keyring unless the caller puts it on that bus on purpose.
///
/// Once per test process: the tests of one binary run at once, and a second `--replace`
/// would take the keyring away from a test using it (its calls then fail as "locked").
pub fn start_gnome_keyring() -> PathBuf {
    static STARTED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    STARTED.get_or_init(start_daemon).clone()
}

fn start_daemon() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tokenwise-keyring-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "no D-Bus session: run the tests through scripts/test.sh (dbus-run-session)"
    );
    let mut child = Command::new("gnome-keyring-daemon")
        // --replace: take over from a daemon D-Bus activation may already have started (the
        // gnome-keyring package installs an activation file for org.freedesktop.secrets; that
        // one has no unlocked login keyring).
        .args([
            "--replace",
            "--unlock",
            "--components=secrets",
            "--daemonize",
        ])
        // Keyring files and the control socket go to the temp dir, not the user's home.
        .env("HOME", &dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_RUNTIME_DIR", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run gnome-keyring-daemon ({e}): install it with \
                 `scripts/install-deps.sh test` (Debian package gnome-keyring)"
            )
        });
    // The empty password as one line. (Bare EOF unlocks nothing and creates no login
    // keyring: every call then fails with "locked".)
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let output = child
        .wait_with_output()
        .expect("wait for gnome-keyring-daemon");
    assert!(
        output.status.success(),
        "gnome-keyring-daemon failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // A call made before it owns the name would make D-Bus activate a second, locked daemon.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !secret_service_owned() {
        assert!(
            Instant::now() < deadline,
            "gnome-keyring-daemon did not claim org.freedesktop.secrets within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    dir
}

/// Whether some process owns `org.freedesktop.secrets` on the session bus.
pub fn secret_service_owned() -> bool {
    let output = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run dbus-send ({e}): install the Debian package dbus"));
    output.status.success() && String::from_utf8_lossy(&output.stdout).contains("boolean true")
}
