//! Provider API keys: entered in settings, kept in the OS keyring, read only to make a call.
//!
//! The facade never stores a key itself and never returns one: front ends learn only whether
//! a provider has a key ([`ProviderKeyStatus::has_key`]). Keyring calls block (a D-Bus round
//! trip on Linux), so they run on Tokio's blocking pool.

use serde::{Deserialize, Serialize};
use tokenwise_core::ProviderApi;
use tokenwise_core::Secret;
use tokenwise_secrets::{KeyStore, SecretsError};
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;

/// Longest key accepted (real keys are 40 to 200 characters; JWT gateway tokens up to ~2 KB).
pub const MAX_KEY_CHARS: usize = 8192;

/// One provider of the catalog, as the settings screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderKeyStatus {
    pub provider_id: String,
    pub display_name: String,
    pub api: ProviderApi,
    /// The address it is called at (the organization's gateway when policy sets one).
    pub base_url: String,
    /// Where the organization's policy sets that address (a file or registry key), if it does.
    pub base_url_set_by: Option<String>,
    /// The catalog entries that send to this provider, e.g. `["mid", "frontier"]`.
    pub used_by: Vec<String>,
    /// Whether the keyring holds a key for it (the key itself is never shown again).
    pub has_key: bool,
    /// Why the keyring could not be asked, if it could not.
    pub problem: Option<String>,
}

impl Tokenwise {
    fn vault(&self) -> KeyStore {
        self.keys.clone()
    }

    /// Every cloud provider of the catalog and whether it has a key.
    pub async fn provider_keys(&self) -> Result<Vec<ProviderKeyStatus>, AppError> {
        let catalog = self.triage.catalog();
        let policy = self.policy();
        let mut statuses = Vec::new();
        for provider in catalog.providers() {
            let catalog_url = provider.base_url.clone();
            let provider = &self.provider_under_policy(&policy, provider);
            let base_url_set_by = (provider.base_url != catalog_url)
                .then(|| policy.setting("provider_base_urls"))
                .flatten()
                .map(|setting| setting.location.clone());
            let (has_key, problem) = match self.load_key(&provider.id).await {
                Ok(key) => (key.is_some(), None),
                Err(error) => (false, Some(error.to_string())),
            };
            statuses.push(ProviderKeyStatus {
                provider_id: provider.id.clone(),
                display_name: provider.display_name.clone(),
                api: provider.api,
                base_url: provider.base_url.clone(),
                base_url_set_by,
                used_by: catalog
                    .entries()
                    .iter()
                    .filter(|e| !e.is_local() && e.provider == provider.id)
                    .map(|e| e.id.clone())
                    .collect(),
                has_key,
                problem,
            });
        }
        Ok(statuses)
    }

    /// Stores `key` for a catalog provider in the OS keyring (surrounding spaces removed).
    pub async fn save_provider_key(&self, provider_id: &str, key: &str) -> Result<(), AppError> {
        self.known_provider(provider_id)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(AppError::InvalidInput(
                "The key is empty: paste the key your provider or administrator gave you.".into(),
            ));
        }
        if key.chars().count() > MAX_KEY_CHARS {
            return Err(AppError::InvalidInput(format!(
                "That is longer than any API key ({MAX_KEY_CHARS} characters at most): check \
                 what was pasted."
            )));
        }
        if key.chars().any(char::is_whitespace) || key.chars().any(char::is_control) {
            return Err(AppError::InvalidInput(
                "A key has no spaces or line breaks: check what was pasted.".into(),
            ));
        }
        let secret = Secret::new(key);
        let vault = self.vault();
        let id = provider_id.to_string();
        Ok(blocking(move || vault.save(&id, &secret)).await?)
    }

    /// Removes a provider's key from the OS keyring (nothing to remove is not an error).
    pub async fn delete_provider_key(&self, provider_id: &str) -> Result<(), AppError> {
        self.known_provider(provider_id)?;
        let vault = self.vault();
        let id = provider_id.to_string();
        Ok(blocking(move || vault.delete(&id)).await?)
    }

    /// The key for a provider, read from the keyring just before a call.
    pub(crate) async fn load_key(&self, provider_id: &str) -> Result<Option<Secret>, AppError> {
        let vault = self.vault();
        let id = provider_id.to_string();
        Ok(blocking(move || vault.load(&id)).await?)
    }

    fn known_provider(&self, provider_id: &str) -> Result<(), AppError> {
        match self.triage.catalog().provider(provider_id) {
            Some(_) => Ok(()),
            None => Err(AppError::InvalidInput(format!(
                "No cloud tier uses a provider called \"{provider_id}\"."
            ))),
        }
    }
}

pub(crate) async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, SecretsError> + Send + 'static,
) -> Result<T, SecretsError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|join| {
            Err(SecretsError::Unavailable {
                detail: format!("the keyring call did not finish: {join}"),
            })
        })
}
