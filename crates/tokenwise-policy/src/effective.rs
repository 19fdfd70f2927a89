//! [`EffectivePolicy`]: the layers merged by precedence, with the source of every value, and
//! the rules the app applies from it.
//!
//! Precedence, highest first: managed files (a later file name over an earlier one), then
//! recommended files, then the user's own settings, then built-in defaults. A managed value is
//! locked; the cost keys ([`CEILING_KEYS`]) are ceilings: the user's own stricter (lower)
//! value still applies under them. A managed file that cannot be used turns cloud answers
//! off until it is fixed: a broken policy must never open what a good one would close.

use serde::Serialize;
use serde_json::{Map, Value};
use tokenwise_core::Money;

use crate::model::{Policy, CEILING_KEYS};
use crate::sources::{Layer, Level, PolicyProblem};

/// One governed key as `tokenwise policy show` and Settings present it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownSetting {
    pub key: String,
    pub value: Value,
    pub level: Level,
    /// The file (or registry key) it came from.
    pub location: String,
    /// The user cannot change it (a managed value).
    pub locked: bool,
}

/// The merged policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EffectivePolicy {
    /// The value of every key that some layer sets.
    pub policy: Policy,
    /// Where each set key came from, in key order.
    pub settings: Vec<ShownSetting>,
    pub problems: Vec<PolicyProblem>,
}

impl EffectivePolicy {
    /// Merges `layers` (any order; precedence is by level, then file order as given).
    pub fn merge(layers: &[Layer], problems: Vec<PolicyProblem>) -> EffectivePolicy {
        let mut chosen: Map<String, Value> = Map::new();
        let mut settings: Vec<ShownSetting> = Vec::new();
        // Lowest first, so a higher source overwrites: recommended, then managed; within a
        // level, files in the order given (name order), later over earlier.
        for level in [Level::Recommended, Level::Managed] {
            for layer in layers.iter().filter(|layer| layer.level == level) {
                let Ok(Value::Object(values)) = serde_json::to_value(&layer.policy) else {
                    continue;
                };
                for (key, value) in values {
                    settings.retain(|s| s.key != key);
                    settings.push(ShownSetting {
                        key: key.clone(),
                        value: value.clone(),
                        level,
                        location: layer.location.clone(),
                        locked: level == Level::Managed,
                    });
                    chosen.insert(key, value);
                }
            }
        }
        settings.sort_by(|a, b| a.key.cmp(&b.key));
        let policy = serde_json::from_value(Value::Object(chosen)).unwrap_or_default();
        EffectivePolicy {
            policy,
            settings,
            problems,
        }
    }

    /// The setting of `key`, if some source sets it.
    pub fn setting(&self, key: &str) -> Option<&ShownSetting> {
        self.settings.iter().find(|s| s.key == key)
    }

    /// Why cloud answers are off by policy, if they are: a managed file that cannot be
    /// used, or a managed `cloud_enabled: false` (a recommended one is only a suggestion).
    pub fn cloud_blocked(&self) -> Option<String> {
        if let Some(problem) = self.problems.iter().find(|p| p.level == Level::Managed) {
            return Some(format!(
                "Your organization's policy cannot be used ({problem}). Cloud answers are off \
                 until it is fixed; local answers work as usual."
            ));
        }
        let off = self
            .setting("cloud_enabled")
            .filter(|s| s.locked && s.value == serde_json::Value::Bool(false));
        if let Some(setting) = off {
            let from = &setting.location;
            return Some(format!(
                "Your organization has turned cloud answers off ({from}); every answer is local."
            ));
        }
        None
    }

    /// The catalog entries the policy allows (`None`: every entry). Recommended lists are
    /// suggestions and do not restrict.
    pub fn allowed_tiers(&self) -> Option<&[String]> {
        self.managed(&self.policy.allowed_tiers, "allowed_tiers")
    }

    /// The providers the policy allows (`None`: every provider).
    pub fn allowed_providers(&self) -> Option<&[String]> {
        self.managed(&self.policy.allowed_providers, "allowed_providers")
    }

    fn managed<'a>(&self, value: &'a Option<Vec<String>>, key: &str) -> Option<&'a [String]> {
        match self.setting(key) {
            Some(setting) if setting.locked => value.as_deref(),
            _ => None,
        }
    }

    /// The most one cloud request may cost at its maximum, if the policy caps it.
    pub fn max_request(&self) -> Option<Money> {
        Policy::usd(&self.policy.max_request_usd)
    }

    /// A cost setting under the policy: a managed value applies, lowered by the user's own
    /// (`own`) but never raised; a recommended one fills in when the user set none.
    pub fn cost_setting(&self, key: &str, own: Option<Money>) -> Option<Money> {
        debug_assert!(CEILING_KEYS.contains(&key));
        let policy = match key {
            "auto_approve_below_usd" => Policy::usd(&self.policy.auto_approve_below_usd),
            "offline_allowance_usd" => Policy::usd(&self.policy.offline_allowance_usd),
            "max_request_usd" => Policy::usd(&self.policy.max_request_usd),
            _ => None,
        };
        let Some(policy) = policy else {
            return own;
        };
        match (self.setting(key).map(|s| s.locked), own) {
            // Managed: the policy's value, or the user's own when that is stricter (lower).
            (Some(true), Some(own)) => Some(own.min(policy)),
            // Recommended: the user's own choice wins; the suggestion fills in.
            (_, Some(own)) => Some(own),
            (_, None) => Some(policy),
        }
    }
}
