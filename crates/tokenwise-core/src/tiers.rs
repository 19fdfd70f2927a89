//! The tier catalog: which model serves each routing [`Difficulty`], where it runs, what it costs.
//!
//! A catalog is a TOML file of `[[tier]]` tables (the default is `crates/tokenwise-core/catalog/tiers.toml`, compiled
//! in as [`TierCatalog::builtin`]); a company's policy or quota server may supply another in
//! the same format. Keys per entry, all required except `typical_output_tokens`:
//!
//! ```toml
//! [[tier]]
//! id = "mid"                       # a-z, 0-9, '-', '_'; 1 to 32 characters
//! tier = "medium"                  # "simple" | "medium" | "complex"
//! kind = "cloud"                   # "local" | "cloud"
//! provider = "openai"              # "local" for the local entry
//! model = "gpt-4o-mini"            # the id the provider expects
//! display_name = "gpt-4o-mini"     # what people see
//! input_per_mtok_micros = 150000   # $0.15 per 1M prompt tokens, in micro-dollars
//! output_per_mtok_micros = 600000  # $0.60 per 1M answer tokens
//! max_output_tokens = 4096         # longest answer requested
//! context_tokens = 128000          # prompt + answer
//! typical_output_tokens = 500      # optional, for cost estimates (see below)
//! ```
//!
//! # Rules
//!
//! Checked when a catalog is built; a breach is an [`Error::InvalidCatalog`] that names the
//! file, the line (of the TOML error, or of the offending entry) and the entry's id:
//!
//! 1. The file is valid TOML of the shape above: unknown keys (typos) and missing keys are
//!    errors, not silently ignored.
//! 2. Ids are 1 to 32 characters of `a-z`, `0-9`, `-`, `_` (policies and command lines name
//!    them), and unique.
//! 3. Exactly one entry has `kind = "local"`. It serves `tier = "simple"`, has
//!    `provider = "local"` and a zero price: the router's last resort is always there, and it
//!    never costs money. Conversely a cloud entry may not claim `provider = "local"`, so a
//!    cloud model can never pass for one that keeps the prompt on the machine.
//! 4. Each tier is served by at most one entry (so cloud entries serve `medium` or
//!    `complex`). A tier with no entry is allowed: the router steps past it.
//! 5. `provider`, `model` and `display_name` are not blank; prices are not negative.
//! 6. `0 < max_output_tokens < context_tokens` (the answer limit leaves room for a prompt),
//!    and `typical_output_tokens`, when given, is between 1 and `max_output_tokens`.
//! 7. Every cloud entry's `provider` is declared in a `[[provider]]` table or is one of the
//!    well-known ids (`openai`, `anthropic`); see [`crate::providers`]. Provider ids are unique
//!    and their `base_url` is http(s).
//!
//! # Cost estimates
//!
//! [`TierEntry::expected_output_tokens`] is the answer length the router prices a request at:
//! `typical_output_tokens` from the file, or by default 200 tokens for `simple`, 500 for
//! `medium` and 1000 for `complex` (a short reply, about a page, a long worked answer), never
//! more than `max_output_tokens`. The most a request can cost uses `max_output_tokens`
//! ([`TierEntry::max_cost`]); that is what a budget reservation holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::config_file::line_of;
use crate::difficulty::Difficulty;
use crate::error::Error;
use crate::money::{Money, Price};
use crate::providers::{Provider, ProviderApi};

/// The default catalog, `crates/tokenwise-core/catalog/tiers.toml`, as compiled in.
pub const BUILTIN_CATALOG_TOML: &str = include_str!("../catalog/tiers.toml");

/// How [`TierCatalog::builtin`] names its source in messages.
pub const BUILTIN_CATALOG_NAME: &str = "the built-in tier catalog";

/// Longest allowed entry id.
pub const MAX_ID_CHARS: usize = 32;

/// Where a tier's model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Placement {
    /// On this machine: free, and the prompt never leaves it.
    Local,
    /// At a provider: costs money and needs the user's confirmation.
    Cloud,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Local => "local",
            Placement::Cloud => "cloud",
        }
    }

    /// The placement named by [`Placement::as_str`], if any.
    pub fn parse(name: &str) -> Option<Placement> {
        [Placement::Local, Placement::Cloud]
            .into_iter()
            .find(|placement| placement.as_str() == name)
    }
}

/// One entry of the catalog: the model that serves a tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TierEntry {
    /// Short name used by policies, the UI and the CLI, e.g. "local", "mid", "frontier".
    pub id: String,
    /// The classifier tier this entry serves.
    pub difficulty: Difficulty,
    pub kind: Placement,
    /// "local", or the cloud provider, e.g. "openai", "anthropic".
    pub provider: String,
    /// The model id the provider (or the local engine) expects.
    pub model: String,
    /// The name shown to people.
    pub display_name: String,
    pub price: Price,
    /// Longest answer requested from the model, in tokens.
    pub max_output_tokens: u32,
    /// The model's context window (prompt plus answer), in tokens.
    pub context_tokens: u32,
    /// Answer length cost estimates assume, in tokens (already capped by
    /// `max_output_tokens`); see [`TierEntry::expected_output_tokens`].
    pub typical_output_tokens: u32,
}

impl TierEntry {
    /// The answer length a request to this entry is priced at: `typical_output_tokens`,
    /// never more than `max_output_tokens`.
    pub fn expected_output_tokens(&self) -> u32 {
        self.typical_output_tokens.min(self.max_output_tokens)
    }

    /// Estimated cost of a prompt of `prompt_tokens` with an answer of the expected length.
    pub fn estimated_cost(&self, prompt_tokens: u32) -> Money {
        self.price
            .cost(prompt_tokens, self.expected_output_tokens())
    }

    /// The most a prompt of `prompt_tokens` can cost (an answer of `max_output_tokens`).
    pub fn max_cost(&self, prompt_tokens: u32) -> Money {
        self.price.cost(prompt_tokens, self.max_output_tokens)
    }

    /// Whether the prompt and an answer of the expected length fit in the context window.
    pub fn fits(&self, prompt_tokens: u32) -> bool {
        u64::from(prompt_tokens) + u64::from(self.expected_output_tokens())
            <= u64::from(self.context_tokens)
    }

    pub fn is_local(&self) -> bool {
        self.kind == Placement::Local
    }
}

/// Default `typical_output_tokens` of an entry serving `tier` (see the module docs).
pub const fn default_typical_output_tokens(tier: Difficulty) -> u32 {
    match tier {
        Difficulty::Simple => 200,
        Difficulty::Medium => 500,
        Difficulty::Complex => 1000,
    }
}

/// A validated tier catalog: exactly one local entry, at most one entry per tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierCatalog {
    entries: Vec<TierEntry>,
    local: usize,
    /// The cloud providers the entries use (declared or well-known), in first-use order.
    providers: Vec<Provider>,
}

impl TierCatalog {
    /// The catalog compiled into the app (`crates/tokenwise-core/catalog/tiers.toml`).
    pub fn builtin() -> TierCatalog {
        static BUILTIN: OnceLock<TierCatalog> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                TierCatalog::from_toml_str(BUILTIN_CATALOG_TOML, BUILTIN_CATALOG_NAME)
                    .expect("the built-in tier catalog is valid (tested)")
            })
            .clone()
    }

    /// Reads and validates a catalog file. The path names the file in errors.
    pub fn load(path: &Path) -> Result<TierCatalog, Error> {
        let file = path.display().to_string();
        let text = crate::config_file::read_config_text(path, crate::config_file::MAX_CONFIG_BYTES)
            .map_err(|reason| Error::InvalidCatalog {
                file: file.clone(),
                line: None,
                entry: None,
                problem: format!("it cannot be read: {reason}."),
            })?;
        TierCatalog::from_toml_str(&text, &file)
    }

    /// Parses and validates a catalog in TOML; `file` names its source in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<TierCatalog, Error> {
        let raw: RawCatalog = toml::from_str(text).map_err(|error| Error::InvalidCatalog {
            file: file.to_string(),
            line: error.span().map(|span| line_of(text, span.start)),
            entry: None,
            problem: error.message().trim().to_string(),
        })?;
        let mut declared = Vec::with_capacity(raw.provider.len());
        for spanned in raw.provider {
            let line = line_of(text, spanned.span().start);
            let provider = spanned.into_inner().into_provider();
            let problem = if declared.iter().any(|p: &Provider| p.id == provider.id) {
                Some("another [[provider]] table already has this id.".to_string())
            } else {
                provider.problem()
            };
            if let Some(problem) = problem {
                return Err(Error::InvalidCatalog {
                    file: file.to_string(),
                    line: Some(line),
                    entry: Some(provider.id),
                    problem,
                });
            }
            declared.push(provider);
        }
        let mut entries = Vec::with_capacity(raw.tier.len());
        let mut lines = Vec::with_capacity(raw.tier.len());
        for spanned in raw.tier {
            lines.push(Some(line_of(text, spanned.span().start)));
            entries.push(spanned.into_inner().into_entry());
        }
        TierCatalog::validate(entries, declared, &lines, file)
    }

    /// Validates entries built in code or received from elsewhere; `file` names their source.
    /// Cloud entries may use the well-known providers and those in `providers`.
    pub fn from_entries(
        entries: Vec<TierEntry>,
        providers: Vec<Provider>,
        file: &str,
    ) -> Result<TierCatalog, Error> {
        let lines = vec![None; entries.len()];
        TierCatalog::validate(entries, providers, &lines, file)
    }

    /// The provider a cloud entry's requests go to (`None` for the local entry).
    pub fn provider_of(&self, entry: &TierEntry) -> Option<&Provider> {
        self.provider(&entry.provider)
    }

    /// The provider with this id.
    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|provider| provider.id == id)
    }

    /// The providers the cloud entries use, in the order first used.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// All entries, in the order given.
    pub fn entries(&self) -> &[TierEntry] {
        &self.entries
    }

    /// The entry with this id.
    pub fn get(&self, id: &str) -> Option<&TierEntry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    /// The entry serving `tier`, if any.
    pub fn for_tier(&self, tier: Difficulty) -> Option<&TierEntry> {
        self.entries.iter().find(|entry| entry.difficulty == tier)
    }

    /// The local entry (there is always exactly one; it serves [`Difficulty::Simple`]).
    pub fn local(&self) -> &TierEntry {
        &self.entries[self.local]
    }

    /// The same catalog with the local entry describing the model actually loaded: its file,
    /// its name and its context window. Ids, prices and cloud entries are unchanged; the
    /// longest local answer stays within the new window.
    pub fn with_local_model(
        &self,
        model: &str,
        display_name: &str,
        context_tokens: u32,
    ) -> TierCatalog {
        let mut catalog = self.clone();
        let local = &mut catalog.entries[self.local];
        local.model = model.to_string();
        local.display_name = display_name.to_string();
        local.context_tokens = context_tokens.max(1);
        local.max_output_tokens = local.max_output_tokens.min(local.context_tokens);
        local.typical_output_tokens = local.typical_output_tokens.min(local.max_output_tokens);
        catalog
    }

    fn validate(
        entries: Vec<TierEntry>,
        declared: Vec<Provider>,
        lines: &[Option<u32>],
        file: &str,
    ) -> Result<TierCatalog, Error> {
        let fail = |index: Option<usize>, problem: String| Error::InvalidCatalog {
            file: file.to_string(),
            line: index.and_then(|i| lines.get(i).copied().flatten()),
            entry: index.map(|i| entries[i].id.clone()),
            problem,
        };
        let mut ids = BTreeSet::new();
        let mut tiers: BTreeMap<Difficulty, &str> = BTreeMap::new();
        let mut local: Option<usize> = None;
        let mut providers: Vec<Provider> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let at = Some(index);
            if let Some(problem) = entry_problem(entry) {
                return Err(fail(at, problem));
            }
            if entry.kind == Placement::Cloud && !providers.iter().any(|p| p.id == entry.provider) {
                let provider = declared
                    .iter()
                    .find(|p| p.id == entry.provider)
                    .cloned()
                    .or_else(|| Provider::well_known(&entry.provider));
                match provider {
                    Some(provider) => providers.push(provider),
                    None => {
                        return Err(fail(
                            at,
                            format!(
                                "provider \"{}\" is not declared; add a [[provider]] table with \
                                 id, api and base_url (or use \"openai\" or \"anthropic\").",
                                entry.provider
                            ),
                        ))
                    }
                }
            }
            if !ids.insert(entry.id.as_str()) {
                return Err(fail(at, "another entry already has this id.".into()));
            }
            if entry.is_local() {
                if let Some(first) = local {
                    return Err(fail(
                        at,
                        format!(
                            "entry \"{}\" is already the local one; a catalog has exactly \
                             one entry with kind = \"local\".",
                            entries[first].id
                        ),
                    ));
                }
                local = Some(index);
            }
            if let Some(other) = tiers.insert(entry.difficulty, &entry.id) {
                return Err(fail(
                    at,
                    format!(
                        "entry \"{other}\" already serves tier \"{}\"; each tier is served by \
                         at most one entry.",
                        entry.difficulty
                    ),
                ));
            }
        }
        let Some(local) = local else {
            return Err(fail(
                None,
                "no entry has kind = \"local\"; exactly one must (the free model on this \
                 machine, serving tier \"simple\")."
                    .into(),
            ));
        };
        Ok(TierCatalog {
            entries,
            local,
            providers,
        })
    }
}

/// What is wrong with one entry on its own, if anything.
fn entry_problem(entry: &TierEntry) -> Option<String> {
    let id_ok = !entry.id.is_empty()
        && entry.id.chars().count() <= MAX_ID_CHARS
        && entry
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !id_ok {
        return Some(format!(
            "id \"{}\" must be 1 to {MAX_ID_CHARS} characters of a-z, 0-9, '-' or '_'.",
            entry.id
        ));
    }
    for (key, value) in [
        ("provider", &entry.provider),
        ("model", &entry.model),
        ("display_name", &entry.display_name),
    ] {
        if value.trim().is_empty() {
            return Some(format!("{key} is blank."));
        }
    }
    for (key, price) in [
        ("input_per_mtok_micros", entry.price.input_per_mtok),
        ("output_per_mtok_micros", entry.price.output_per_mtok),
    ] {
        if price.is_negative() {
            return Some(format!(
                "{key} is {}; a price cannot be negative.",
                price.micros()
            ));
        }
    }
    match entry.kind {
        Placement::Local => {
            if entry.difficulty != Difficulty::Simple {
                return Some(format!(
                    "the local entry serves tier \"{}\"; it must serve \"simple\".",
                    entry.difficulty
                ));
            }
            if entry.provider != "local" {
                return Some(format!(
                    "the local entry has provider \"{}\"; it must be \"local\".",
                    entry.provider
                ));
            }
            if !entry.price.is_free() {
                return Some(
                    "the local entry has a price; it must be 0 (it runs on this machine).".into(),
                );
            }
        }
        Placement::Cloud => {
            if entry.provider == "local" {
                return Some(
                    "a cloud entry cannot have provider \"local\"; name the cloud provider.".into(),
                );
            }
        }
    }
    if entry.context_tokens == 0 {
        return Some("context_tokens is 0.".into());
    }
    if entry.max_output_tokens == 0 || entry.max_output_tokens >= entry.context_tokens {
        return Some(format!(
            "max_output_tokens is {}; it must be above 0 and below context_tokens ({}).",
            entry.max_output_tokens, entry.context_tokens
        ));
    }
    if entry.typical_output_tokens == 0 || entry.typical_output_tokens > entry.max_output_tokens {
        return Some(format!(
            "typical_output_tokens is {}; it must be between 1 and max_output_tokens ({}).",
            entry.typical_output_tokens, entry.max_output_tokens
        ));
    }
    None
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    tier: Vec<toml::Spanned<RawEntry>>,
    #[serde(default)]
    provider: Vec<toml::Spanned<RawProvider>>,
}

/// One `[[provider]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    id: String,
    api: ProviderApi,
    base_url: String,
    display_name: Option<String>,
}

impl RawProvider {
    fn into_provider(self) -> Provider {
        Provider {
            display_name: self.display_name.unwrap_or_else(|| self.id.clone()),
            id: self.id,
            api: self.api,
            base_url: self.base_url.trim().trim_end_matches('/').to_string(),
        }
    }
}

/// One `[[tier]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    /// Written `difficulty`; `tier` is the name catalogs used before 0.2 and still reads.
    #[serde(alias = "tier")]
    difficulty: Difficulty,
    kind: Placement,
    provider: String,
    model: String,
    display_name: String,
    input_per_mtok_micros: i64,
    output_per_mtok_micros: i64,
    max_output_tokens: u32,
    context_tokens: u32,
    typical_output_tokens: Option<u32>,
}

impl RawEntry {
    fn into_entry(self) -> TierEntry {
        // The default is capped here; an explicit value above the maximum is an error.
        let typical_output_tokens = self.typical_output_tokens.unwrap_or_else(|| {
            default_typical_output_tokens(self.difficulty).min(self.max_output_tokens.max(1))
        });
        TierEntry {
            id: self.id,
            difficulty: self.difficulty,
            kind: self.kind,
            provider: self.provider,
            model: self.model,
            display_name: self.display_name,
            price: Price::per_mtok(
                Money::from_micros(self.input_per_mtok_micros),
                Money::from_micros(self.output_per_mtok_micros),
            ),
            max_output_tokens: self.max_output_tokens,
            context_tokens: self.context_tokens,
            typical_output_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = r#"
[[tier]]
id = "local"
tier = "simple"
kind = "local"
provider = "local"
model = "m"
display_name = "Local"
input_per_mtok_micros = 0
output_per_mtok_micros = 0
max_output_tokens = 1024
context_tokens = 8192
"#;

    fn cloud(id: &str, tier: &str) -> String {
        format!(
            r#"
[[tier]]
id = "{id}"
tier = "{tier}"
kind = "cloud"
provider = "openai"
model = "m-{id}"
display_name = "Model {id}"
input_per_mtok_micros = 150000
output_per_mtok_micros = 600000
max_output_tokens = 16384
context_tokens = 128000
"#
        )
    }

    fn parse(text: &str) -> Result<TierCatalog, Error> {
        TierCatalog::from_toml_str(text, "test.toml")
    }

    /// The error's (line, entry, problem), for compact assertions.
    fn failure(text: &str) -> (Option<u32>, Option<String>, String) {
        match parse(text) {
            Err(Error::InvalidCatalog {
                file,
                line,
                entry,
                problem,
            }) => {
                assert_eq!(file, "test.toml");
                (line, entry, problem)
            }
            other => panic!("expected InvalidCatalog, got {other:?}"),
        }
    }

    #[test]
    fn the_local_entry_follows_the_loaded_model() {
        let builtin = TierCatalog::builtin();
        let switched = builtin.with_local_model("qwen.gguf", "Qwen2.5 1.5B", 8192);
        assert_eq!(switched.local().display_name, "Qwen2.5 1.5B");
        assert_eq!(switched.local().model, "qwen.gguf");
        assert_eq!(switched.local().context_tokens, 8192);
        assert_eq!(switched.local().id, builtin.local().id);
        assert_eq!(switched.entries().len(), builtin.entries().len());
        // A tiny window caps the answer lengths with it.
        let tiny = builtin.with_local_model("x", "x", 100);
        assert!(tiny.local().max_output_tokens <= 100);
        assert!(tiny.local().typical_output_tokens <= tiny.local().max_output_tokens);
    }

    #[test]
    fn builtin_catalog_parses_with_the_documented_prices() {
        let catalog = TierCatalog::from_toml_str(BUILTIN_CATALOG_TOML, BUILTIN_CATALOG_NAME)
            .expect("built-in catalog is valid");
        assert_eq!(catalog, TierCatalog::builtin());
        let ids: Vec<&str> = catalog.entries().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["local", "mid", "frontier"]);

        let local = catalog.local();
        assert_eq!(local.id, "local");
        assert_eq!(local.display_name, "SmolLM2-135M-Instruct");
        assert!(local.price.is_free());
        assert_eq!(catalog.for_tier(Difficulty::Simple), Some(local));

        let mid = catalog.for_tier(Difficulty::Medium).unwrap();
        assert_eq!(
            (mid.id.as_str(), mid.model.as_str()),
            ("mid", "gpt-4o-mini")
        );
        assert_eq!(mid.price.input_per_mtok, Money::from_cents(15));
        assert_eq!(mid.price.output_per_mtok, Money::from_cents(60));
        assert_eq!(mid.kind, Placement::Cloud);

        let frontier = catalog.get("frontier").unwrap();
        assert_eq!(frontier.difficulty, Difficulty::Complex);
        assert_eq!(frontier.price.input_per_mtok, Money::from_cents(250));
        assert_eq!(frontier.price.output_per_mtok, Money::from_dollars(10));
        assert!(catalog.get("nope").is_none());
    }

    #[test]
    fn builtin_catalog_states_its_price_source_and_date() {
        assert!(BUILTIN_CATALOG_TOML.contains("https://openai.com/api/pricing/"));
        assert!(BUILTIN_CATALOG_TOML.contains("2026-11-30"));
    }

    #[test]
    fn typical_output_defaults_per_tier_and_is_capped() {
        let catalog = TierCatalog::builtin();
        assert_eq!(catalog.local().expected_output_tokens(), 200);
        assert_eq!(catalog.get("mid").unwrap().expected_output_tokens(), 500);
        assert_eq!(
            catalog.get("frontier").unwrap().expected_output_tokens(),
            1000
        );

        let small = LOCAL.replace("max_output_tokens = 1024", "max_output_tokens = 64");
        let catalog = parse(&small).unwrap();
        assert_eq!(catalog.local().typical_output_tokens, 64);

        let explicit = format!("{LOCAL}typical_output_tokens = 300\n");
        assert_eq!(
            parse(&explicit).unwrap().local().expected_output_tokens(),
            300
        );
    }

    #[test]
    fn costs_and_fit_follow_the_entry() {
        let catalog = TierCatalog::builtin();
        let mid = catalog.get("mid").unwrap();
        // 1000 × $0.15/M + 500 × $0.60/M = 150 + 300 µ$.
        assert_eq!(mid.estimated_cost(1000), Money::from_micros(450));
        // 1000 × $0.15/M + 4096 × $0.60/M = 150 + 2457.6 µ$ → 2608 µ$ (rounded up).
        assert_eq!(mid.max_cost(1000), Money::from_micros(2608));
        assert_eq!(catalog.local().estimated_cost(5000), Money::ZERO);
        assert!(catalog.local().fits(8192 - 200));
        assert!(!catalog.local().fits(8192 - 199));
        assert!(!catalog.local().fits(u32::MAX));
    }

    #[test]
    fn a_minimal_catalog_is_just_the_local_entry() {
        let catalog = parse(LOCAL).unwrap();
        assert_eq!(catalog.entries().len(), 1);
        assert!(catalog.for_tier(Difficulty::Medium).is_none());
        assert!(catalog.local().is_local());
    }

    #[test]
    fn catalog_errors_name_line_entry_and_problem() {
        let two_locals = format!(
            "{LOCAL}{}",
            LOCAL.replace("\"local\"\ntier", "\"local2\"\ntier")
        );
        let duplicate_id = format!(
            "{LOCAL}{}{}",
            cloud("mid", "medium"),
            cloud("mid", "complex")
        );
        let duplicate_tier = format!(
            "{LOCAL}{}{}",
            cloud("mid", "medium"),
            cloud("mid2", "medium")
        );
        // (text, expected line, expected entry, words the problem must contain)
        let cases: Vec<(String, Option<u32>, Option<&str>, &str)> = vec![
            ("".into(), None, None, "no entry has kind = \"local\""),
            (
                cloud("mid", "medium"),
                None,
                None,
                "no entry has kind = \"local\"",
            ),
            (
                two_locals,
                Some(14),
                Some("local2"),
                "already the local one",
            ),
            (duplicate_id, Some(26), Some("mid"), "already has this id"),
            (
                duplicate_tier,
                Some(26),
                Some("mid2"),
                "\"mid\" already serves tier \"medium\"",
            ),
            (
                LOCAL.replace("tier = \"simple\"", "tier = \"medium\""),
                Some(2),
                Some("local"),
                "must serve \"simple\"",
            ),
            (
                LOCAL.replace("provider = \"local\"", "provider = \"openai\""),
                Some(2),
                Some("local"),
                "must be \"local\"",
            ),
            (
                LOCAL.replace("output_per_mtok_micros = 0", "output_per_mtok_micros = 1"),
                Some(2),
                Some("local"),
                "must be 0",
            ),
            (
                format!(
                    "{LOCAL}{}",
                    cloud("mid", "medium").replace("\"openai\"", "\"local\"")
                ),
                Some(14),
                Some("mid"),
                "cannot have provider \"local\"",
            ),
            (
                format!("{LOCAL}{}", cloud("Mid", "medium")),
                Some(14),
                Some("Mid"),
                "a-z, 0-9",
            ),
            (
                format!("{LOCAL}{}", cloud(&"x".repeat(33), "medium")),
                Some(14),
                None,
                "1 to 32 characters",
            ),
            (
                format!(
                    "{LOCAL}{}",
                    cloud("mid", "medium").replace("\"Model mid\"", "\"  \"")
                ),
                Some(14),
                Some("mid"),
                "display_name is blank",
            ),
            (
                format!(
                    "{LOCAL}{}",
                    cloud("mid", "medium").replace("= 150000", "= -1")
                ),
                Some(14),
                Some("mid"),
                "input_per_mtok_micros is -1; a price cannot be negative",
            ),
            (
                LOCAL.replace("context_tokens = 8192", "context_tokens = 0"),
                Some(2),
                Some("local"),
                "context_tokens is 0",
            ),
            (
                LOCAL.replace("max_output_tokens = 1024", "max_output_tokens = 8192"),
                Some(2),
                Some("local"),
                "below context_tokens (8192)",
            ),
            (
                LOCAL.replace("max_output_tokens = 1024", "max_output_tokens = 0"),
                Some(2),
                Some("local"),
                "max_output_tokens is 0",
            ),
            (
                format!("{LOCAL}typical_output_tokens = 2000\n"),
                Some(2),
                Some("local"),
                "between 1 and max_output_tokens (1024)",
            ),
            (
                format!("{LOCAL}typical_output_tokens = 0\n"),
                Some(2),
                Some("local"),
                "typical_output_tokens is 0",
            ),
        ];
        for (text, line, entry, words) in cases {
            let (got_line, got_entry, problem) = failure(&text);
            assert!(
                problem.contains(words),
                "{problem:?} lacks {words:?}\n{text}"
            );
            assert_eq!(got_line, line, "{problem}");
            if entry.is_some() {
                assert_eq!(got_entry.as_deref(), entry, "{problem}");
            }
        }
    }

    #[test]
    fn toml_errors_carry_the_line_toml_reports() {
        let cases = [
            // Syntax error on line 3.
            ("[[tier]]\nid = \"local\"\ntier = \n", 3, ""),
            // Typo in a key on line 13.
            (
                &*format!("{LOCAL}input_per_mtok_micro = 5\n"),
                13,
                "unknown field `input_per_mtok_micro`",
            ),
            // Unknown tier name on line 4.
            (
                &*LOCAL.replace("tier = \"simple\"", "tier = \"huge\""),
                4,
                "unknown variant `huge`",
            ),
            // A key missing from the entry starting on line 2.
            (
                &*LOCAL.replace("model = \"m\"\n", ""),
                2,
                "missing field `model`",
            ),
            // Negative token count on line 11.
            (
                &*LOCAL.replace("max_output_tokens = 1024", "max_output_tokens = -1"),
                11,
                "",
            ),
            // Unknown top-level key on line 1.
            (
                &*format!("version = 1\n{LOCAL}"),
                1,
                "unknown field `version`",
            ),
        ];
        for (text, line, words) in cases {
            let (got_line, entry, problem) = failure(text);
            assert_eq!(got_line, Some(line), "{problem}\n{text}");
            assert!(problem.contains(words), "{problem:?} lacks {words:?}");
            assert_eq!(entry, None);
        }
    }

    #[test]
    fn entries_built_in_code_are_validated_too() {
        let mut entries = TierCatalog::builtin().entries().to_vec();
        assert!(TierCatalog::from_entries(entries.clone(), Vec::new(), "pushed").is_ok());
        entries[1].price.output_per_mtok = Money::from_micros(-5);
        let error = TierCatalog::from_entries(entries, Vec::new(), "pushed").unwrap_err();
        assert!(matches!(
            &error,
            Error::InvalidCatalog { file, line: None, entry: Some(entry), .. }
                if file == "pushed" && entry == "mid"
        ));
        assert!(error
            .to_string()
            .starts_with("The tier catalog pushed, entry \"mid\""));
    }

    #[test]
    fn load_names_a_missing_file() {
        let error = TierCatalog::load(Path::new("/nonexistent/tiers.toml")).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("/nonexistent/tiers.toml") && text.contains("cannot be read"));
    }

    #[test]
    fn entries_serialise_in_camel_case() {
        let json = serde_json::to_value(TierCatalog::builtin().get("mid").unwrap()).unwrap();
        assert_eq!(json["displayName"], "gpt-4o-mini");
        assert_eq!(json["difficulty"], "medium");
        assert_eq!(json["kind"], "cloud");
        assert_eq!(json["price"]["inputPerMtok"], 150_000);
        assert_eq!(json["maxOutputTokens"], 4096);
    }

    #[test]
    fn cloud_entries_use_declared_or_well_known_providers() {
        let text = format!(
            "{LOCAL}{}{}\n[[provider]]\nid = \"gateway\"\napi = \"anthropic\"\nbase_url = \"http://127.0.0.1:4000/v1/\"\n",
            cloud("mid", "medium"),
            cloud("frontier", "complex").replace("provider = \"openai\"", "provider = \"gateway\""),
        );
        let catalog = parse(&text).unwrap();
        let gateway = catalog
            .provider_of(catalog.get("frontier").unwrap())
            .unwrap();
        assert_eq!(gateway.api, ProviderApi::Anthropic);
        assert_eq!(
            gateway.base_url, "http://127.0.0.1:4000/v1",
            "trailing slash trimmed"
        );
        assert_eq!(gateway.display_name, "gateway");
        let openai = catalog.provider_of(catalog.get("mid").unwrap()).unwrap();
        assert_eq!(openai.base_url, "https://api.openai.com/v1");
        assert!(catalog.provider_of(catalog.local()).is_none());
        let ids: Vec<&str> = catalog.providers().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["openai", "gateway"]);
    }

    #[test]
    fn an_undeclared_or_broken_provider_is_named() {
        let text = format!(
            "{LOCAL}{}",
            cloud("mid", "medium").replace("provider = \"openai\"", "provider = \"acme\"")
        );
        let (_, entry, problem) = failure(&text);
        assert_eq!(entry.as_deref(), Some("mid"));
        assert!(problem.contains("\"acme\" is not declared"), "{problem}");

        let text = format!(
            "{LOCAL}\n[[provider]]\nid = \"acme\"\napi = \"openai\"\nbase_url = \"ftp://x\"\n"
        );
        let (line, entry, problem) = failure(&text);
        assert_eq!(entry.as_deref(), Some("acme"));
        assert!(line.is_some());
        assert!(problem.contains("http://"), "{problem}");

        let text = format!(
            "{LOCAL}\n[[provider]]\nid = \"acme\"\napi = \"grpc\"\nbase_url = \"http://x\"\n"
        );
        let (_, _, problem) = failure(&text);
        assert!(problem.contains("grpc"), "{problem}");
    }
}
