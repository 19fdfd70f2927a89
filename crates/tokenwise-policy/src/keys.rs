//! The governed keys, their kinds and descriptions, read from the JSON Schema of [`Policy`]
//! so that every OS-specific format (registry values, ADMX templates, plist) follows the one
//! typed model instead of a second hand-kept list.

use serde_json::Value;

use crate::model::Policy;

/// What shape a key's value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Bool,
    /// A whole number, with the schema's bounds.
    Integer {
        min: u32,
        max: u32,
    },
    Text,
    /// A list of strings.
    List,
    /// Names to strings (`provider_base_urls`).
    Map,
}

/// One governed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub name: String,
    pub kind: KeyKind,
    pub description: String,
}

/// Every key of a policy, in name order.
pub fn keys() -> Vec<KeyInfo> {
    let schema = serde_json::to_value(schemars::schema_for!(Policy)).unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut keys: Vec<KeyInfo> = properties
        .iter()
        .filter_map(|(name, property)| {
            Some(KeyInfo {
                name: name.clone(),
                kind: kind_of(property)?,
                description: unwrap_lines(
                    property
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                ),
            })
        })
        .collect();
    keys.sort_by(|a, b| a.name.cmp(&b.name));
    keys
}

/// The key called `name`, if a policy has one.
pub fn key(name: &str) -> Option<KeyInfo> {
    keys().into_iter().find(|key| key.name == name)
}

/// Doc comments wrap at 100 columns; a description is one paragraph per blank line.
fn unwrap_lines(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn kind_of(property: &Value) -> Option<KeyKind> {
    let types: Vec<&str> = match property.get("type")? {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let bound = |name: &str, default: u32| {
        property
            .get(name)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(default)
    };
    types.into_iter().find_map(|kind| match kind {
        "boolean" => Some(KeyKind::Bool),
        "integer" => Some(KeyKind::Integer {
            min: bound("minimum", 0),
            max: bound("maximum", u32::MAX),
        }),
        "string" => Some(KeyKind::Text),
        "array" => Some(KeyKind::List),
        "object" => Some(KeyKind::Map),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_model_has_a_kind() {
        let names: Vec<String> = keys().into_iter().map(|k| k.name).collect();
        assert_eq!(names.len(), 16, "{names:?}");
        assert_eq!(key("learn_from_choices").unwrap().kind, KeyKind::Bool);
        assert_eq!(key("model_catalog_file").unwrap().kind, KeyKind::Text);
        assert_eq!(key("cloud_enabled").unwrap().kind, KeyKind::Bool);
        assert_eq!(
            key("sync_interval_seconds").unwrap().kind,
            KeyKind::Integer { min: 15, max: 3600 }
        );
        assert_eq!(key("allowed_tiers").unwrap().kind, KeyKind::List);
        assert_eq!(key("provider_base_urls").unwrap().kind, KeyKind::Map);
        assert_eq!(key("max_request_usd").unwrap().kind, KeyKind::Text);
        assert!(key("nope").is_none());
    }
}
