//! The catalog of local models: what each one is, where it comes from, how to check it, and
//! what it can take off the cloud.
//!
//! The catalog ships inside the app ([`Catalog::builtin`], from `models/catalog.toml`); IT can
//! replace it with its own file (an internal mirror, a shorter list) through
//! [`Catalog::from_toml`]. Every fact in the shipped file cites its source; a checksum nobody
//! published is left out and pinned on the first download instead (see [`crate::pins`]).

use serde::Deserialize;
use tokenwise_core::Difficulty;

use crate::error::ModelsError;

/// The catalog shipped with the app.
pub const BUILTIN_CATALOG: &str = include_str!("../../../models/catalog.toml");

/// One local model file the app can run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// Stable identifier used on the command line and in settings, e.g. `qwen2.5-1.5b-q4_k_m`.
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// Parameter count as published, e.g. "1.5B".
    pub parameters: String,
    /// Quantization type of the file (GGUF type name), e.g. "Q4_K_M".
    pub quant: String,
    /// File name inside the models folder.
    pub file: String,
    /// Where to download the file. Absent for a model that ships with the app.
    #[serde(default)]
    pub url: Option<String>,
    /// Lowercase hex sha256 of the file, when its publisher states it. Absent: pinned on the
    /// first download and shown as such.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Size of the file in bytes as its publisher states it: enforced on download.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// Size from secondary sources: used to judge fit and disk space before a download, not
    /// enforced (the server's announced length is checked instead).
    #[serde(default)]
    pub approx_size_bytes: Option<u64>,
    /// Licence name, e.g. "Apache-2.0".
    pub licence: String,
    /// Where each fact above was read (the publisher's model page or repository).
    pub source: String,
    /// Context length the model was trained for, in tokens.
    pub context_tokens: u32,
    /// Transformer layers (for the KV cache size).
    pub layers: u32,
    /// Key/value heads per layer (grouped-query attention).
    pub kv_heads: u32,
    /// Size of one attention head.
    pub head_dim: u32,
    /// The hardest routing tier this model answers acceptably on its own. The default 135M
    /// model serves `simple`; a 1.5B+ model takes some `medium` work off the cloud.
    pub local_reach: Difficulty,
    /// True for the model that ships with the app (fetched by `scripts/fetch-model.sh`).
    #[serde(default)]
    pub bundled: bool,
}

impl CatalogEntry {
    /// Whether this file can be downloaded by the app.
    pub fn downloadable(&self) -> bool {
        self.url.is_some()
    }

    /// The size to plan with before the file is here: published, else approximate.
    pub fn planned_size_bytes(&self) -> Option<u64> {
        self.size_bytes.or(self.approx_size_bytes)
    }

    /// Bytes of KV cache one token of context costs in the engine (f32 keys and values, as
    /// mistral.rs keeps them on the CPU).
    pub fn kv_bytes_per_token(&self) -> u64 {
        u64::from(self.layers) * 2 * u64::from(self.kv_heads) * u64::from(self.head_dim) * 4
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(rename = "model", default)]
    models: Vec<CatalogEntry>,
}

/// The list of models, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    models: Vec<CatalogEntry>,
}

impl Catalog {
    /// The catalog shipped with the app.
    pub fn builtin() -> Catalog {
        Catalog::from_toml(BUILTIN_CATALOG, "built-in catalog")
            .expect("the built-in catalog is checked by the tests")
    }

    /// Parses and checks a catalog file. `origin` names it in error messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Catalog, ModelsError> {
        let file: CatalogFile = toml::from_str(text).map_err(|error| ModelsError::Catalog {
            origin: origin.to_string(),
            detail: error.to_string(),
        })?;
        let invalid = |detail: String| ModelsError::Catalog {
            origin: origin.to_string(),
            detail,
        };
        if file.models.is_empty() {
            return Err(invalid("it lists no models".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for entry in &file.models {
            check_entry(entry)
                .map_err(|detail| invalid(format!("model `{}`: {detail}", entry.id)))?;
            if !seen.insert(entry.id.as_str()) {
                return Err(invalid(format!("model `{}` is listed twice", entry.id)));
            }
        }
        Ok(Catalog {
            models: file.models,
        })
    }

    /// Every model, in catalog order.
    pub fn models(&self) -> &[CatalogEntry] {
        &self.models
    }

    /// The model with this id.
    pub fn get(&self, id: &str) -> Result<&CatalogEntry, ModelsError> {
        self.models
            .iter()
            .find(|entry| entry.id == id)
            .ok_or_else(|| ModelsError::UnknownModel {
                id: id.to_string(),
                known: self.models.iter().map(|e| e.id.clone()).collect(),
            })
    }
}

fn check_entry(entry: &CatalogEntry) -> Result<(), String> {
    let id_ok = !entry.id.is_empty()
        && entry
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !id_ok {
        return Err("the id may hold only lowercase letters, digits, '.', '_' and '-'".into());
    }
    // The file name becomes a path inside the models folder: no separators, no way out.
    let file_ok = entry.file.ends_with(".gguf")
        && !entry.file.starts_with('.')
        && !entry.file.contains(['/', '\\', '\0'])
        && entry.file.len() <= 200;
    if !file_ok {
        return Err(format!(
            "file `{}` must be a plain file name ending in .gguf",
            entry.file
        ));
    }
    if let Some(url) = &entry.url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("url `{url}` must start with https:// or http://"));
        }
    }
    if entry.url.is_none() && !entry.bundled {
        return Err("a model that does not ship with the app needs a url".into());
    }
    if let Some(sha256) = &entry.sha256 {
        if sha256.len() != 64
            || !sha256
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        {
            return Err("sha256 must be 64 lowercase hex digits".into());
        }
    }
    if entry.size_bytes == Some(0) || entry.approx_size_bytes == Some(0) {
        return Err("sizes must be more than 0".into());
    }
    if entry.layers == 0 || entry.kv_heads == 0 || entry.head_dim == 0 || entry.context_tokens == 0
    {
        return Err("layers, kv_heads, head_dim and context_tokens must be more than 0".into());
    }
    if entry.source.trim().is_empty() || entry.licence.trim().is_empty() {
        return Err("every model needs its licence and the source of its facts".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
[[model]]
id = "tiny"
name = "Tiny"
parameters = "1M"
quant = "Q8_0"
file = "tiny.gguf"
url = "http://127.0.0.1/tiny.gguf"
licence = "MIT"
source = "test"
context_tokens = 2048
layers = 2
kv_heads = 1
head_dim = 8
local_reach = "simple"
"#;

    #[test]
    fn the_builtin_catalog_is_valid_and_holds_the_bundled_default() {
        let catalog = Catalog::builtin();
        let bundled: Vec<_> = catalog.models().iter().filter(|m| m.bundled).collect();
        assert_eq!(bundled.len(), 1);
        assert_eq!(bundled[0].file, "SmolLM2-135M-Instruct.Q4_1.gguf");
        assert!(
            catalog.models().len() >= 4,
            "a handful of models to choose from"
        );
        assert!(catalog
            .models()
            .iter()
            .any(|m| m.local_reach == Difficulty::Medium));
    }

    #[test]
    fn kv_cache_cost_per_token_of_the_default_model() {
        let catalog = Catalog::builtin();
        let default = catalog.models().iter().find(|m| m.bundled).unwrap();
        // 30 layers × 2 (keys, values) × 3 heads × 64 × 4 bytes: the 46 KB measured.
        assert_eq!(default.kv_bytes_per_token(), 46_080);
    }

    #[test]
    fn a_valid_entry_parses() {
        let catalog = Catalog::from_toml(ONE, "test").unwrap();
        assert_eq!(catalog.get("tiny").unwrap().layers, 2);
        assert!(catalog.get("nope").is_err());
    }

    #[test]
    fn bad_catalogs_say_what_is_wrong() {
        let cases = [
            ("", "no models"),
            ("[[model]]\nid = 'x'", "missing field"),
            (
                &ONE.replace("tiny.gguf\"", "../evil.gguf\""),
                "plain file name",
            ),
            (
                &ONE.replace("http://127.0.0.1/tiny.gguf", "file:///etc/passwd"),
                "https://",
            ),
            (
                &ONE.replace("id = \"tiny\"", "id = \"Tiny Model\""),
                "lowercase",
            ),
            (&format!("{ONE}\nsha256 = \"abc\""), "64 lowercase hex"),
            (&format!("{ONE}{ONE}"), "listed twice"),
            (&ONE.replace("layers = 2", "layers = 0"), "more than 0"),
            (&format!("{ONE}\nsurprise = 1"), "unknown field"),
            ("\u{0}\u{1}garbage", "catalog"),
        ];
        for (text, expected) in cases {
            let error = Catalog::from_toml(text, "test catalog")
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(expected) && error.contains("test catalog"),
                "{expected:?} not in {error:?}"
            );
        }
    }
}
