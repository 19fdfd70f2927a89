//! The organization's policy (`tokenwise-policy`), applied here in the facade so the router,
//! the cost preview, the CLI and the window all obey it, not only the user interface.
//!
//! Read again before every decision (a few small files), so a changed policy file applies to
//! the next prompt without a restart. What it does:
//! - cloud answers off (managed `cloud_enabled: false`, or a managed file that cannot be
//!   used: fail closed), with the reason;
//! - only the managed `allowed_tiers`, and tiers of managed `allowed_providers`;
//! - `max_request_usd`: a request whose maximum is above it is refused before it is sent;
//! - `auto_approve_below_usd`, `offline_allowance_usd`: ceilings over the budget file's;
//! - `provider_base_urls`: the company gateway a provider is called at;
//! - `sync_interval_seconds`: how often the company quota is pulled;
//! - `local_models_allowed`: which model files the local engine may load;
//! - `history_enabled` / `history_retention_days`: how long chats stay on the laptop.

use tokenwise_core::{Provider, TierCatalog};
use tokenwise_policy::{read_effective, EffectivePolicy, PolicyDirs, PolicySources};
use tokenwise_quota::CostPreview;

use crate::error::AppError;
use crate::facade::Tokenwise;

impl Tokenwise {
    /// The policy in force now, with the source of every value and its problems.
    pub fn policy(&self) -> EffectivePolicy {
        read_effective(&self.policy_sources)
    }

    /// Refuses a company server other than the one a managed `quota_server_url` sets.
    pub(crate) fn check_quota_server(&self, server_url: &str) -> Result<(), AppError> {
        let policy = self.policy();
        let Some(setting) = policy.setting("quota_server_url").filter(|s| s.locked) else {
            return Ok(());
        };
        let Some(required) = setting.value.as_str() else {
            return Ok(());
        };
        let same = |url: &str| url.trim().trim_end_matches('/').to_ascii_lowercase();
        if same(required) == same(server_url) {
            return Ok(());
        }
        Err(AppError::InvalidInput(format!(
            "Your organization sets the quota server to {required} ({}); connect to that one.",
            setting.location
        )))
    }

    /// `provider` as the policy sets it: a managed `provider_base_urls` entry replaces its
    /// address; a recommended one does too unless the user keeps a tier catalog file of
    /// their own (their choice wins over a suggestion).
    pub(crate) fn provider_under_policy(
        &self,
        policy: &EffectivePolicy,
        provider: &Provider,
    ) -> Provider {
        let mut provider = provider.clone();
        let Some(setting) = policy.setting("provider_base_urls") else {
            return provider;
        };
        if !setting.locked && self.paths().tiers_file().exists() {
            return provider;
        }
        let url = policy
            .policy
            .provider_base_urls
            .as_ref()
            .and_then(|urls| urls.get(&provider.id));
        if let Some(url) = url {
            provider.base_url = url.trim().trim_end_matches('/').to_string();
        }
        provider
    }

    /// How often the company quota is pulled: the policy's `sync_interval_seconds`, else
    /// every minute.
    pub fn sync_interval_ms(&self) -> i64 {
        self.policy()
            .policy
            .sync_interval_seconds
            .map_or(crate::company::SYNC_INTERVAL_MS, |seconds| {
                i64::from(seconds) * 1000
            })
    }

    /// Refuses a local model file the managed `local_models_allowed` leaves out.
    pub fn check_local_model(&self, file_name: &str) -> Result<(), AppError> {
        local_model_refusal(&self.policy(), file_name)
    }

    /// Loads a local model with `load` unless the policy forbids its file (then the engine
    /// status says why and nothing is loaded).
    pub async fn load_allowed_engine<E, F, D>(
        &self,
        file_name: &str,
        model: &str,
        load: F,
    ) -> Result<(), String>
    where
        E: tokenwise_core::ChatEngine + 'static,
        F: std::future::Future<Output = Result<E, D>>,
        D: std::fmt::Display,
    {
        if let Err(refused) = self.check_local_model(file_name) {
            let message = refused.to_string();
            self.engine_failed(message.clone());
            return Err(message);
        }
        self.load_engine(model, load).await
    }

    /// Deletes the chats the policy says not to keep: with `history_retention_days`, those
    /// idle longer than that; with `history_enabled: false`, those idle for an hour, and every
    /// chat when the window closes (`closing`). The spend ledger is never touched (it holds
    /// no text). Returns how many conversations were deleted.
    pub async fn enforce_history_policy(&self, closing: bool) -> Result<u64, AppError> {
        let policy = self.policy();
        let now = self.clock.now_ms();
        let cutoff = if policy.policy.history_enabled == Some(false) {
            if closing {
                i64::MAX
            } else {
                now.saturating_sub(HISTORY_OFF_IDLE_MS)
            }
        } else if let Some(days) = policy.policy.history_retention_days {
            now.saturating_sub(i64::from(days) * 86_400_000)
        } else {
            return Ok(0);
        };
        Ok(self.store.delete_conversations_idle_before(cutoff).await?)
    }

    /// Reads policy from the folders `dirs` instead of the system's place (tests).
    pub fn with_policy_dirs(mut self, dirs: PolicyDirs) -> Self {
        self.policy_sources = PolicySources::Folders(dirs);
        self
    }
}

/// With history off, a chat idle this long is deleted (the window deletes the rest when it
/// closes): long enough to finish a conversation, short enough to keep nothing overnight.
pub const HISTORY_OFF_IDLE_MS: i64 = 3_600_000;

/// The catalog entries the policy allows (`None`: every entry): its tier list, narrowed to
/// the entries of its allowed providers.
pub(crate) fn allowed_tiers(
    policy: &EffectivePolicy,
    catalog: &TierCatalog,
) -> Option<Vec<String>> {
    let tiers = policy.allowed_tiers();
    let providers = policy.allowed_providers();
    if tiers.is_none() && providers.is_none() {
        return None;
    }
    Some(
        catalog
            .entries()
            .iter()
            .filter(|entry| tiers.is_none_or(|ids| ids.contains(&entry.id)))
            .filter(|entry| {
                entry.is_local() || providers.is_none_or(|ids| ids.contains(&entry.provider))
            })
            .map(|entry| entry.id.clone())
            .collect(),
    )
}

/// Refuses a preview whose maximum is above the policy's `max_request_usd`.
pub(crate) fn cap_request(preview: &mut CostPreview, policy: &EffectivePolicy) {
    let Some(cap) = policy.max_request() else {
        return;
    };
    if preview.blocked_reason.is_some() || preview.max_cost <= cap {
        return;
    }
    let from = policy
        .setting("max_request_usd")
        .map(|s| s.location.clone())
        .unwrap_or_default();
    preview.affordable = false;
    preview.auto_approved = false;
    preview.blocked_reason = Some(format!(
        "Your organization caps one cloud request at {cap} ({from}); this one may cost up to \
         {}. Nothing was sent; pick a cheaper tier or answer locally.",
        preview.max_cost
    ));
}

/// One governed setting for Settings: its value, and whether the organization locks it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PolicySetting {
    pub key: String,
    /// The value as JSON text (`false`, `["local","mid"]`, `"0.05"`).
    pub value: String,
    /// Managed (locked) or only recommended.
    pub locked: bool,
    /// The file it comes from.
    pub location: String,
}

/// Settings → "Managed by your organization".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PolicyOverview {
    /// Where policy is read (a folder, the managed preferences, the registry keys).
    pub folder: String,
    pub settings: Vec<PolicySetting>,
    /// Files that cannot be used, each with file, line and column.
    pub problems: Vec<String>,
    /// Why cloud answers are off by policy, if they are.
    pub cloud_blocked: Option<String>,
}

impl Tokenwise {
    /// What the organization's policy sets, for Settings.
    pub fn policy_overview(&self) -> PolicyOverview {
        let policy = self.policy();
        PolicyOverview {
            folder: self.policy_sources.describe(),
            settings: policy
                .settings
                .iter()
                .map(|setting| PolicySetting {
                    key: setting.key.clone(),
                    value: setting.value.to_string(),
                    locked: setting.locked,
                    location: setting.location.clone(),
                })
                .collect(),
            problems: policy.problems.iter().map(ToString::to_string).collect(),
            cloud_blocked: policy.cloud_blocked(),
        }
    }
}

/// Refuses a local model file the managed `local_models_allowed` of `policy` leaves out (one
/// policy read for many files).
pub(crate) fn local_model_refusal(
    policy: &EffectivePolicy,
    file_name: &str,
) -> Result<(), AppError> {
    let Some(setting) = policy.setting("local_models_allowed").filter(|s| s.locked) else {
        return Ok(());
    };
    let allowed = policy
        .policy
        .local_models_allowed
        .clone()
        .unwrap_or_default();
    if allowed.iter().any(|name| name == file_name) {
        return Ok(());
    }
    Err(AppError::InvalidInput(format!(
        "Your organization does not allow the local model {file_name} ({}); it allows: {}.",
        setting.location,
        if allowed.is_empty() {
            "none".to_string()
        } else {
            allowed.join(", ")
        }
    )))
}
