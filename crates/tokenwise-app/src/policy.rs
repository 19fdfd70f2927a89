//! The organization's policy (`tokenwise-policy`), applied here in the facade so the router,
//! the cost preview, the CLI and the window all obey it, not only the user interface.
//!
//! Read again before every decision (a few small files), so a changed policy file applies to
//! the next prompt without a restart. What it does:
//! - cloud answers off (managed `cloud_enabled: false`, or a managed file that cannot be
//!   used: fail closed), with the reason;
//! - only the managed `allowed_tiers`, and tiers of managed `allowed_providers`;
//! - `max_request_usd`: a request whose maximum is above it is refused before it is sent;
//! - `auto_approve_below_usd`, `offline_allowance_usd`: ceilings over the budget file's.

use tokenwise_core::TierCatalog;
use tokenwise_policy::{read_effective, EffectivePolicy, PolicyDirs};
use tokenwise_quota::CostPreview;

use crate::error::AppError;
use crate::facade::Tokenwise;

impl Tokenwise {
    /// The policy in force now, with the source of every value and its problems.
    pub fn policy(&self) -> EffectivePolicy {
        read_effective(&self.policy_dirs)
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

    /// Reads policy from `dirs` instead of `TOKENWISE_POLICY_DIR` / `/etc/tokenwise/policies`.
    pub fn with_policy_dirs(mut self, dirs: PolicyDirs) -> Self {
        self.policy_dirs = dirs;
        self
    }
}

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
    /// The folder read.
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
            folder: self.policy_dirs.root.display().to_string(),
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
