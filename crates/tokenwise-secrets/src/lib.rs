//! Cloud API keys and gateway tokens in the OS keyring — and nowhere else (not SQLite, not a
//! config file, not a log, not an error message).
//!
//! ```no_run
//! use tokenwise_core::Secret;
//! use tokenwise_secrets::KeyStore;
//!
//! # fn demo() -> Result<(), tokenwise_secrets::SecretsError> {
//! let store = KeyStore::new();
//! store.save("openrouter", &Secret::new("sk-…"))?;
//! let key: Option<Secret> = store.load("openrouter")?;
//! store.delete("openrouter")?;
//! # Ok(()) }
//! ```
//!
//! Each key is one keyring entry: service [`SERVICE`] (`"tokenwise"`), account = the provider
//! id. The store is the platform's own: the Secret Service (GNOME Keyring, KWallet) over D-Bus
//! on Linux, the Keychain on macOS, the Credential Manager on Windows.
//!
//! The calls block (a D-Bus or system call round trip); from async code run them in
//! `tokio::task::spawn_blocking`.
//!
//! # Errors
//!
//! [`SecretsError`] says what to do (start or unlock the keyring) and never contains the key:
//! text from the platform is passed through redaction (key → `***`) before it goes into one.

use keyring::Entry;
use tokenwise_core::ErrorCode;
use tokenwise_core::Secret;

/// The keyring service name every Tokenwise key is stored under.
pub const SERVICE: &str = "tokenwise";

/// Longest text from the platform kept in an error message.
const MAX_DETAIL_CHARS: usize = 300;

/// Why the keyring could not be used. Messages are for people and never contain a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// No keyring service could be reached (on Linux: no Secret Service on the session D-Bus).
    #[error(
        "the OS keyring is not available ({detail}). On Linux start a Secret Service provider in \
         your desktop session (GNOME Keyring: `gnome-keyring-daemon --start --components=secrets`, \
         or KWallet) and make sure DBUS_SESSION_BUS_ADDRESS is set; on macOS/Windows check that \
         the Keychain / Credential Manager is accessible"
    )]
    Unavailable { detail: String },
    /// The keyring exists but is locked, or the user dismissed the unlock prompt.
    #[error(
        "the OS keyring is locked ({detail}). Unlock it (log in to your desktop session, or \
         unlock the \"Login\" keyring in your keyring manager) and try again"
    )]
    Locked { detail: String },
    /// The provider id cannot name a keyring entry (empty, too long, …).
    #[error("provider id {provider_id:?} cannot be used as a keyring account: {reason}")]
    InvalidProviderId { provider_id: String, reason: String },
    /// The stored value is not UTF-8 text (written by something other than Tokenwise).
    #[error(
        "the keyring entry for provider {provider_id:?} does not hold a text key; delete it and \
         enter the key again"
    )]
    NotText { provider_id: String },
    /// More than one keyring entry matches (service "tokenwise", this provider id).
    #[error(
        "the keyring holds {count} entries for provider {provider_id:?} (service \"tokenwise\"); \
         remove the extra ones in your keyring manager, or delete the key and enter it again"
    )]
    Ambiguous { provider_id: String, count: usize },
}

impl SecretsError {
    /// A stable code for programs.
    pub fn code(&self) -> ErrorCode {
        match self {
            SecretsError::Unavailable { .. } => ErrorCode::KeyringUnavailable,
            SecretsError::Locked { .. } => ErrorCode::KeyringLocked,
            SecretsError::InvalidProviderId { .. } => ErrorCode::KeyringInvalidProvider,
            SecretsError::NotText { .. } => ErrorCode::KeyringNotText,
            SecretsError::Ambiguous { .. } => ErrorCode::KeyringAmbiguous,
        }
    }
}

/// The OS keyring, seen as one key per provider id.
#[derive(Debug, Clone)]
pub struct KeyStore {
    service: String,
}

impl Default for KeyStore {
    fn default() -> Self {
        KeyStore::new()
    }
}

impl KeyStore {
    /// The store with service name [`SERVICE`].
    pub fn new() -> KeyStore {
        KeyStore {
            service: SERVICE.to_owned(),
        }
    }

    /// The service name the entries live under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Store `key` for `provider_id`, replacing any key stored before.
    pub fn save(&self, provider_id: &str, key: &Secret) -> Result<(), SecretsError> {
        let entry = self.entry(provider_id, Some(key))?;
        save_to(&entry, provider_id, key)
    }

    /// The key stored for `provider_id`, or `None` when there is none.
    pub fn load(&self, provider_id: &str) -> Result<Option<Secret>, SecretsError> {
        let entry = self.entry(provider_id, None)?;
        load_from(&entry, provider_id)
    }

    /// Remove the key for `provider_id`. Removing a key that is not there is not an error.
    pub fn delete(&self, provider_id: &str) -> Result<(), SecretsError> {
        let entry = self.entry(provider_id, None)?;
        delete_from(&entry, provider_id)
    }

    fn entry(&self, provider_id: &str, key: Option<&Secret>) -> Result<Entry, SecretsError> {
        if provider_id.trim().is_empty() {
            return Err(SecretsError::InvalidProviderId {
                provider_id: provider_id.to_owned(),
                reason: "it is empty".to_owned(),
            });
        }
        Entry::new(&self.service, provider_id).map_err(|e| map_error(e, provider_id, key))
    }
}

fn save_to(entry: &Entry, provider_id: &str, key: &Secret) -> Result<(), SecretsError> {
    entry
        .set_password(key.expose())
        .map_err(|e| map_error(e, provider_id, Some(key)))
}

fn load_from(entry: &Entry, provider_id: &str) -> Result<Option<Secret>, SecretsError> {
    match entry.get_password() {
        Ok(value) => Ok(Some(Secret::new(value))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(map_error(e, provider_id, None)),
    }
}

fn delete_from(entry: &Entry, provider_id: &str) -> Result<(), SecretsError> {
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(map_error(e, provider_id, None)),
    }
}

/// A keyring error as a [`SecretsError`]. Never formats a stored value: `BadEncoding` carries
/// the raw bytes and `Ambiguous` the credentials, so neither is printed; platform text is
/// redacted with the key when we know it, and shortened.
fn map_error(err: keyring::Error, provider_id: &str, key: Option<&Secret>) -> SecretsError {
    let detail = |source: &dyn std::error::Error| {
        let mut text = source.to_string();
        if let Some(key) = key.filter(|k| !k.expose().is_empty()) {
            text = text.replace(key.expose(), "***");
        }
        if text.chars().count() > MAX_DETAIL_CHARS {
            text = text.chars().take(MAX_DETAIL_CHARS).collect::<String>() + "…";
        }
        text
    };
    match err {
        keyring::Error::NoStorageAccess(source) => SecretsError::Locked {
            detail: detail(source.as_ref()),
        },
        keyring::Error::PlatformFailure(source) => SecretsError::Unavailable {
            detail: detail(source.as_ref()),
        },
        keyring::Error::TooLong(attribute, limit) => SecretsError::InvalidProviderId {
            provider_id: provider_id.to_owned(),
            reason: format!("the {attribute} is longer than the platform's limit of {limit}"),
        },
        keyring::Error::Invalid(attribute, reason) => SecretsError::InvalidProviderId {
            provider_id: provider_id.to_owned(),
            reason: format!("{attribute} {reason}"),
        },
        keyring::Error::BadEncoding(_) => SecretsError::NotText {
            provider_id: provider_id.to_owned(),
        },
        keyring::Error::Ambiguous(credentials) => SecretsError::Ambiguous {
            provider_id: provider_id.to_owned(),
            count: credentials.len(),
        },
        // `NoEntry` is handled by the callers; anything newer is reported without its payload.
        _ => SecretsError::Unavailable {
            detail: "unexpected keyring error".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests;
