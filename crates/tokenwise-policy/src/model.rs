//! [`Policy`]: every setting a company may govern, all optional (absent: not set by this
//! source). The JSON Schema (`docs/policy.schema.json`, `tokenwise policy schema`) is
//! generated from this type; its doc comments are the schema's descriptions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokenwise_core::Money;

/// A Tokenwise policy: what IT sets for every laptop (managed) or suggests (recommended).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Tokenwise policy")]
pub struct Policy {
    /// Whether prompts may be sent to cloud tiers at all. `false`: every answer is local.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_enabled: Option<bool>,
    /// Tier catalog entry ids that may be used, e.g. `["local", "mid"]`. The local model is
    /// always allowed. Absent: every tier of the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tiers: Option<Vec<String>>,
    /// Provider ids of the tier catalog that may be called. Absent: every provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_providers: Option<Vec<String>>,
    /// The base URL each provider is called at, by provider id: the company gateway
    /// (`https://…`, or `http://` to this machine only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_base_urls: Option<BTreeMap<String, String>>,
    /// Cloud requests whose maximum cost is below this (dollars as a string, `"0.05"`) may be
    /// sent without asking. A ceiling: a user's own lower value wins, a higher one does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approve_below_usd: Option<String>,
    /// The most one cloud request may cost at its maximum (dollars as a string); a request
    /// above it is refused before anything is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_usd: Option<String>,
    /// The company quota server's address, preset for Settings → "Your company".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_server_url: Option<String>,
    /// How often the quota is pulled, in seconds (15 to 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 15, max = 3600))]
    pub sync_interval_seconds: Option<u32>,
    /// Cloud spend allowed while the quota server cannot be reached (dollars as a string).
    /// A ceiling, like `auto_approve_below_usd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_allowance_usd: Option<String>,
    /// File names of the local models that may be loaded. Absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_models_allowed: Option<Vec<String>>,
    /// Path of a model catalog file (TOML, as `models/catalog.toml`) that replaces the
    /// built-in one on the Models screen and in `tokenwise models`: an internal mirror's
    /// download addresses, a shorter list, checksums IT has verified. Managed: used even when
    /// the user names another catalog; a file that cannot be used stops downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_catalog_file: Option<String>,
    /// Whether a person's routing choices ("Not good enough: ask a cloud tier", "A local answer
    /// would do") adjust how their prompts are routed. The choices stay on the laptop (task
    /// cues, never the prompt). `false`: choices are not kept, kept ones are not used, and the
    /// buttons still ask the other tier once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learn_from_choices: Option<bool>,
    /// Whether the tray's "quick summarize" of the clipboard is offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_summarize_enabled: Option<bool>,
    /// The global shortcut of quick summarize, e.g. `"Ctrl+Alt+S"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quick_summarize_shortcut: Option<String>,
    /// Whether chats are kept on the laptop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_enabled: Option<bool>,
    /// How many days chats are kept (1 to 3650). Absent: until deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub history_retention_days: Option<u32>,
}

/// The keys whose policy value is a ceiling (the user may choose stricter, never looser).
pub const CEILING_KEYS: [&str; 3] = [
    "auto_approve_below_usd",
    "max_request_usd",
    "offline_allowance_usd",
];

impl Policy {
    /// What is wrong with the values (the shape was checked by parsing): each problem names
    /// its key.
    pub fn value_problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, message: String| problems.push((key.to_string(), message));
        for (key, value) in [
            ("auto_approve_below_usd", &self.auto_approve_below_usd),
            ("max_request_usd", &self.max_request_usd),
            ("offline_allowance_usd", &self.offline_allowance_usd),
        ] {
            if let Some(text) = value {
                if let Err(error) = tokenwise_quota::parse_usd(text) {
                    bad(key, error.to_string());
                }
            }
        }
        if let Some(url) = &self.quota_server_url {
            if let Err(reason) = check_url(url) {
                bad("quota_server_url", reason);
            }
        }
        for (provider, url) in self.provider_base_urls.iter().flatten() {
            if let Err(reason) = check_url(url) {
                bad("provider_base_urls", format!("{provider}: {reason}"));
            }
        }
        if let Some(seconds) = self.sync_interval_seconds {
            if !(15..=3600).contains(&seconds) {
                bad(
                    "sync_interval_seconds",
                    format!("{seconds} is outside 15 to 3600"),
                );
            }
        }
        if let Some(days) = self.history_retention_days {
            if !(1..=3650).contains(&days) {
                bad(
                    "history_retention_days",
                    format!("{days} is outside 1 to 3650"),
                );
            }
        }
        if self
            .model_catalog_file
            .as_deref()
            .is_some_and(|path| path.trim().is_empty())
        {
            bad("model_catalog_file", "it is empty".into());
        }
        for (key, list) in [
            ("allowed_tiers", &self.allowed_tiers),
            ("allowed_providers", &self.allowed_providers),
            ("local_models_allowed", &self.local_models_allowed),
        ] {
            if list.iter().flatten().any(|id| id.trim().is_empty()) {
                bad(key, "an entry is empty".into());
            }
        }
        problems
    }

    /// A dollar string of this policy as money (checked by [`Policy::value_problems`]).
    pub fn usd(text: &Option<String>) -> Option<Money> {
        text.as_deref()
            .and_then(|text| tokenwise_quota::parse_usd(text).ok())
    }
}

/// `https://…`, or `http://` to this machine (a token or key is never sent in clear text to
/// another).
fn check_url(url: &str) -> Result<(), String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost") && !rest.starts_with("[::1]") {
            return Err(format!(
                "{url:?} is unencrypted: use https:// (plain http:// only to this machine)"
            ));
        }
        rest
    } else {
        return Err(format!("{url:?} is not an https:// address"));
    };
    if rest.is_empty() || rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
        return Err(format!("{url:?} has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_rule_names_its_key() {
        let policy = Policy {
            auto_approve_below_usd: Some("lots".into()),
            max_request_usd: Some("-1".into()),
            quota_server_url: Some("http://quota.example.com".into()),
            provider_base_urls: Some(BTreeMap::from([("openai".into(), "ftp://x".into())])),
            sync_interval_seconds: Some(1),
            history_retention_days: Some(0),
            allowed_tiers: Some(vec![" ".into()]),
            ..Policy::default()
        };
        let keys: Vec<String> = policy
            .value_problems()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for key in [
            "auto_approve_below_usd",
            "max_request_usd",
            "quota_server_url",
            "provider_base_urls",
            "sync_interval_seconds",
            "history_retention_days",
            "allowed_tiers",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key}: {keys:?}");
        }
        let good = Policy {
            quota_server_url: Some("http://127.0.0.1:8787".into()),
            auto_approve_below_usd: Some("0.05".into()),
            ..Policy::default()
        };
        assert!(good.value_problems().is_empty());
    }
}
