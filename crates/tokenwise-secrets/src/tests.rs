//! The logic against keyring's mock credential store (one in-memory credential per entry).

use keyring::mock::MockCredential;
use keyring::{Entry, Error};

use super::*;

const KEY: &str = "sk-unit-test-7f3a9c";

fn mock_entry() -> Entry {
    Entry::new_with_credential(Box::new(MockCredential::default()))
}

fn mock_of(entry: &Entry) -> &MockCredential {
    entry
        .get_credential()
        .downcast_ref::<MockCredential>()
        .expect("a mock credential")
}

fn platform(text: &str) -> Box<dyn std::error::Error + Send + Sync> {
    text.to_owned().into()
}

fn assert_clean(err: &SecretsError) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(KEY), "key leaked into {text}");
    }
}

#[test]
fn round_trip_overwrite_delete() {
    let entry = mock_entry();
    assert_eq!(load_from(&entry, "p").unwrap(), None);
    save_to(&entry, "p", &Secret::new(KEY)).unwrap();
    assert_eq!(load_from(&entry, "p").unwrap(), Some(Secret::new(KEY)));
    save_to(&entry, "p", &Secret::new("second")).unwrap();
    assert_eq!(load_from(&entry, "p").unwrap(), Some(Secret::new("second")));
    delete_from(&entry, "p").unwrap();
    assert_eq!(load_from(&entry, "p").unwrap(), None);
    // Deleting what is not there is fine.
    delete_from(&entry, "p").unwrap();
}

#[test]
fn locked_keyring_says_unlock_and_hides_key() {
    let entry = mock_entry();
    mock_of(&entry).set_error(Error::NoStorageAccess(platform(&format!(
        "collection is locked; item secret was {KEY}"
    ))));
    let err = save_to(&entry, "p", &Secret::new(KEY)).unwrap_err();
    assert!(matches!(err, SecretsError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("Unlock it"), "{err}");
    assert!(err.to_string().contains("***"), "{err}");
    assert_clean(&err);
}

#[test]
fn missing_service_says_start_one() {
    let entry = mock_entry();
    mock_of(&entry).set_error(Error::PlatformFailure(platform(
        "org.freedesktop.DBus.Error.ServiceUnknown",
    )));
    let err = load_from(&entry, "p").unwrap_err();
    assert!(matches!(err, SecretsError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("gnome-keyring-daemon"), "{text}");
    assert!(text.contains("ServiceUnknown"), "{text}");
}

#[test]
fn raw_bytes_are_never_printed() {
    let entry = mock_entry();
    mock_of(&entry).set_error(Error::BadEncoding(KEY.as_bytes().to_vec()));
    let err = load_from(&entry, "p").unwrap_err();
    assert!(matches!(err, SecretsError::NotText { .. }), "{err:?}");
    assert_clean(&err);
    let text = format!("{err:?} {err}");
    assert!(!text.contains(&format!("{:?}", KEY.as_bytes())), "{text}");
}

#[test]
fn long_platform_text_is_cut() {
    let entry = mock_entry();
    mock_of(&entry).set_error(Error::PlatformFailure(platform(&"x".repeat(5000))));
    let err = delete_from(&entry, "p").unwrap_err();
    assert!(err.to_string().len() < 1000, "{err}");
}

#[test]
fn invalid_and_empty_provider_ids() {
    let entry = mock_entry();
    mock_of(&entry).set_error(Error::TooLong("user".into(), 255));
    let err = load_from(&entry, "p").unwrap_err();
    assert!(
        matches!(err, SecretsError::InvalidProviderId { .. }),
        "{err:?}"
    );
    let err = KeyStore::new().load("  ").unwrap_err();
    assert!(
        matches!(err, SecretsError::InvalidProviderId { .. }),
        "{err:?}"
    );
}

#[test]
fn service_name_is_tokenwise() {
    assert_eq!(KeyStore::new().service(), "tokenwise");
    assert_eq!(KeyStore::default().service(), SERVICE);
}
