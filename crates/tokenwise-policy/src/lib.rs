//! IT-managed configuration for Tokenwise (`docs/it-admin.md`).
//!
//! - [`model`]: [`Policy`], every setting a company may govern (cloud on/off, tiers and
//!   providers, the gateway, cost ceilings, the quota server, the offline allowance, local
//!   models, quick summarize, chat history), all optional; its JSON Schema
//!   ([`schema_json`]) is generated from the type.
//! - [`sources`]: Linux drop-in folders of JSON files, managed and recommended, read with
//!   problems that name file, line and column; [`macos`]: managed preferences plists and
//!   configuration profiles; [`windows`]: registry values and `.reg` files; [`system`]: which
//!   of them this machine reads, and reading any one file for `tokenwise policy validate`.
//! - [`keys`]: the keys and their kinds, from the schema; [`admx`]: the Windows Group Policy
//!   templates generated from them.
//! - [`effective`]: the layers merged by precedence with the source of every value, and the
//!   rules the app applies: managed values are locked, cost values are ceilings, and a broken
//!   managed policy turns cloud answers off (never on).
//!
//! No clock and no network; the app reads the folders again before each decision, so a
//! changed file applies to the next prompt without a restart.

pub mod admx;
pub mod effective;
pub mod keys;
pub mod macos;
pub mod model;
pub mod sources;
pub mod system;
pub mod windows;

pub use effective::{EffectivePolicy, ShownSetting};
pub use model::{Policy, CEILING_KEYS};
pub use sources::{Layer, Level, PolicyDirs, PolicyProblem};
pub use system::{read_any_file, PolicySources};

/// The JSON Schema of a policy file (`docs/policy.schema.json`), keys sorted so the text is
/// the same whichever `serde_json` features the build has (`preserve_order` or not).
pub fn schema_json() -> String {
    let schema = serde_json::to_value(schemars::schema_for!(Policy)).unwrap_or_default();
    serde_json::to_string_pretty(&sorted(schema)).unwrap_or_default()
}

fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// The policy in force from `sources`, read now.
pub fn read_effective(sources: &PolicySources) -> EffectivePolicy {
    let (layers, problems) = sources.read();
    EffectivePolicy::merge(&layers, problems)
}
