//! Against a REAL keyring: gnome-keyring-daemon's Secret Service on a private D-Bus session.
//!
//! Run through `scripts/test.sh`, which wraps the Rust tests in
//! `xvfb-run … dbus-run-session --`; this test starts the daemon on that bus itself, with its
//! keyring files in a temporary directory and the login keyring created and unlocked with an
//! empty password (an empty line on stdin). Outside a D-Bus session it fails and says so (it never touches a desktop's
//! own keyring unless the caller puts it on that bus on purpose).

#![cfg(target_os = "linux")]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokenwise_cloud::Secret;
use tokenwise_secrets::{KeyStore, SecretsError};

const KEY: &str = "sk-tokenwise-keyring-it-4b1d9e";
const SECOND_KEY: &str = "sk-tokenwise-keyring-it-second-77aa";
const PROVIDER: &str = "it-provider";

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tokenwise-keyring-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Starts gnome-keyring-daemon (secrets component only) on the current session bus, its login
/// keyring unlocked with the empty password read from stdin.
fn start_gnome_keyring() {
    let dir = temp_dir();
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
    // The empty password as one line. (Bare EOF, as `echo -n '' |` gives, unlocks nothing
    // and creates no login keyring: every call then fails with "locked".)
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
    // Wait until it owns the Secret Service name: a call made earlier would make D-Bus
    // activate a second, locked daemon.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !secret_service_owned() {
        assert!(
            Instant::now() < deadline,
            "gnome-keyring-daemon did not claim org.freedesktop.secrets within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn secret_service_owned() -> bool {
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

/// `op` retried for a few seconds while the daemon claims its bus name.
fn with_retry<T>(mut op: impl FnMut() -> Result<T, SecretsError>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match op() {
            Ok(value) => return value,
            Err(e) if Instant::now() < deadline => {
                eprintln!("keyring not ready yet: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("the real keyring did not answer: {e}"),
        }
    }
}

fn assert_clean(text: &str) {
    assert!(
        !text.contains(KEY) && !text.contains(SECOND_KEY),
        "a key leaked into: {text}"
    );
}

#[test]
fn real_gnome_keyring_round_trip() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "DBUS_SESSION_BUS_ADDRESS is not set: this test needs a private D-Bus session. Run it \
         through scripts/test.sh, or as `xvfb-run -a dbus-run-session -- cargo test -p \
         tokenwise-secrets`"
    );
    start_gnome_keyring();

    let store = KeyStore::new();
    assert_eq!(store.service(), "tokenwise");

    // Save, load: the same key back.
    with_retry(|| store.save(PROVIDER, &Secret::new(KEY)));
    let loaded = store.load(PROVIDER).expect("load").expect("a key");
    assert_eq!(loaded, Secret::new(KEY));
    assert_clean(&format!("{loaded:?} {loaded} {store:?}"));

    // Overwrite.
    store
        .save(PROVIDER, &Secret::new(SECOND_KEY))
        .expect("overwrite");
    let loaded = store.load(PROVIDER).expect("load").expect("a key");
    assert_eq!(loaded.expose(), SECOND_KEY);

    // Another provider is a separate entry.
    assert_eq!(store.load("it-other-provider").expect("load other"), None);

    // Delete: gone, and deleting again is fine.
    store.delete(PROVIDER).expect("delete");
    assert_eq!(store.load(PROVIDER).expect("load after delete"), None);
    store.delete(PROVIDER).expect("delete again");

    // Errors never carry the key.
    let err = store.save("", &Secret::new(KEY)).unwrap_err();
    assert_clean(&format!("{err} {err:?}"));
}
