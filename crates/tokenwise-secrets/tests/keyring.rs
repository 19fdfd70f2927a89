//! Against a REAL keyring: gnome-keyring-daemon's Secret Service on a private D-Bus session.
//!
//! Run through `scripts/test.sh`, which wraps the Rust tests in
//! `xvfb-run … dbus-run-session --`; this test starts the daemon on that bus itself, with its
//! keyring files in a temporary directory and the login keyring created and unlocked with an
//! empty password (an empty line on stdin). Outside a D-Bus session it fails and says so (it never touches a desktop's
//! own keyring unless the caller puts it on that bus on purpose).

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use tokenwise_core::Secret;
use tokenwise_secrets::{KeyStore, SecretsError};
use tokenwise_testkit::start_gnome_keyring;

const KEY: &str = "sk-tokenwise-keyring-it-4b1d9e";
const SECOND_KEY: &str = "sk-tokenwise-keyring-it-second-77aa";
const PROVIDER: &str = "it-provider";

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
