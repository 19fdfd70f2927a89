//! Cloud providers: where a cloud tier's requests go and which wire protocol they speak.
//!
//! A tier catalog may declare `[[provider]]` tables next to its `[[tier]]` tables:
//!
//! ```toml
//! [[provider]]
//! id = "gateway"                              # what [[tier]] `provider` keys name
//! api = "openai"                              # "openai" (chat completions) | "anthropic" (messages)
//! base_url = "https://llm.example.com/v1"     # the API root (`/chat/completions`, `/messages`)
//! display_name = "Example Corp AI gateway"    # optional; what the settings screen shows
//! ```
//!
//! Two ids are known without a table ([`Provider::well_known`]): `openai`
//! (`https://api.openai.com/v1`, chat completions) and `anthropic`
//! (`https://api.anthropic.com/v1`, messages). A table with the same id replaces the default,
//! which is how a company points `openai` at its LiteLLM proxy. Every cloud entry's provider
//! must be one of these; the API key of a provider lives in the OS keyring under its id, never
//! in the catalog.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The wire protocol of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ProviderApi {
    /// OpenAI-compatible `POST /chat/completions` (OpenAI, LiteLLM, OpenRouter, vLLM, Ollama).
    OpenAi,
    /// Anthropic's `POST /messages`.
    Anthropic,
}

impl ProviderApi {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderApi::OpenAi => "openai",
            ProviderApi::Anthropic => "anthropic",
        }
    }
}

/// One cloud provider (or gateway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Provider {
    /// What catalog entries name in `provider`, and the key's name in the keyring.
    pub id: String,
    pub api: ProviderApi,
    /// The API root, without a trailing slash.
    pub base_url: String,
    /// What people see, e.g. "OpenAI".
    pub display_name: String,
}

impl Provider {
    /// The providers known without a `[[provider]]` table.
    pub fn well_known(id: &str) -> Option<Provider> {
        let (api, base_url, display_name) = match id {
            "openai" => (ProviderApi::OpenAi, "https://api.openai.com/v1", "OpenAI"),
            "anthropic" => (
                ProviderApi::Anthropic,
                "https://api.anthropic.com/v1",
                "Anthropic",
            ),
            _ => return None,
        };
        Some(Provider {
            id: id.to_string(),
            api,
            base_url: base_url.to_string(),
            display_name: display_name.to_string(),
        })
    }

    /// What is wrong with this provider on its own, if anything.
    pub(crate) fn problem(&self) -> Option<String> {
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Some(format!(
                "base_url \"{}\" must start with http:// or https://.",
                self.base_url
            ));
        }
        if url.len() <= "https://".len() {
            return Some(format!("base_url \"{}\" has no host.", self.base_url));
        }
        if self.display_name.trim().is_empty() {
            return Some("display_name is blank.".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_and_anthropic_are_known_without_a_table() {
        let openai = Provider::well_known("openai").unwrap();
        assert_eq!(openai.api, ProviderApi::OpenAi);
        assert_eq!(openai.base_url, "https://api.openai.com/v1");
        let anthropic = Provider::well_known("anthropic").unwrap();
        assert_eq!(anthropic.api, ProviderApi::Anthropic);
        assert!(Provider::well_known("gateway").is_none());
    }

    #[test]
    fn a_base_url_must_be_http() {
        let mut provider = Provider::well_known("openai").unwrap();
        assert_eq!(provider.problem(), None);
        provider.base_url = "ftp://x".into();
        assert!(provider.problem().unwrap().contains("http://"));
        provider.base_url = "https://".into();
        assert!(provider.problem().unwrap().contains("no host"));
    }
}
