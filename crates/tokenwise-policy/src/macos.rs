//! macOS: managed preferences for the app's bundle id, as an MDM profile installs them:
//! `/Library/Managed Preferences/com.tokenwise.desktop.plist` (the machine) and
//! `/Library/Managed Preferences/<user>/com.tokenwise.desktop.plist` (the user); the machine's
//! value wins. Keys are the policy keys with their plist types (`<true/>`, `<integer>`,
//! `<string>`, `<array>`, `<dict>`). A `.mobileconfig` carries them in a payload whose
//! `PayloadType` is the bundle id (`docs/examples/tokenwise.mobileconfig`).
//!
//! Reading is plain file parsing (XML or binary plists), so it is tested here on fixtures;
//! only the default folder is macOS's.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::sources::{self, Layer, Level, PolicyProblem};

/// The app's bundle id: the preference domain a profile targets.
pub const BUNDLE_ID: &str = "com.tokenwise.desktop";

/// Where managed preferences are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPreferences {
    /// `/Library/Managed Preferences`.
    pub root: PathBuf,
    /// The user whose per-user folder is read too.
    pub user: Option<String>,
}

impl ManagedPreferences {
    /// The system's folder for the user running the app.
    pub fn system() -> ManagedPreferences {
        ManagedPreferences {
            root: PathBuf::from("/Library/Managed Preferences"),
            user: std::env::var("USER").ok().filter(|user| !user.is_empty()),
        }
    }

    /// User managed first, then the machine's (read later, so it wins).
    pub fn read(&self) -> (Vec<Layer>, Vec<PolicyProblem>) {
        let file = format!("{BUNDLE_ID}.plist");
        let mut paths = Vec::new();
        if let Some(user) = &self.user {
            // A user name with a path separator would read another folder.
            if !user.contains(['/', '\0']) && user != ".." {
                paths.push(self.root.join(user).join(&file));
            }
        }
        paths.push(self.root.join(&file));
        let mut layers = Vec::new();
        let mut problems = Vec::new();
        for path in paths {
            match std::fs::metadata(&path) {
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                _ => match read_plist_file(&path) {
                    Ok(layer) => layers.push(layer),
                    Err(problem) => problems.push(problem),
                },
            }
        }
        (layers, problems)
    }
}

/// Reads one managed preferences plist.
pub fn read_plist_file(path: &Path) -> Result<Layer, PolicyProblem> {
    let location = path.display().to_string();
    let bytes = crate::system::read_limited(path).map_err(|message| problem(&location, message))?;
    policy_from_plist(Level::Managed, &location, &bytes)
}

/// A managed preferences plist (XML or binary) as a policy. Keys a profile adds for itself
/// (`Payload…`, `PolicyLastUpdated`) are ignored; any other unknown key is a problem.
pub fn policy_from_plist(
    level: Level,
    location: &str,
    bytes: &[u8],
) -> Result<Layer, PolicyProblem> {
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|error| problem(location, format!("it is not a property list ({error})")))?;
    let Some(dictionary) = value.into_dictionary() else {
        return Err(problem(location, "its top level is not a <dict>".into()));
    };
    policy_from_dictionary(level, location, dictionary)
}

fn policy_from_dictionary(
    level: Level,
    location: &str,
    dictionary: plist::Dictionary,
) -> Result<Layer, PolicyProblem> {
    let mut object = Map::new();
    for (key, value) in dictionary {
        if key.starts_with("Payload") || key == "PolicyLastUpdated" {
            continue;
        }
        let json =
            to_json(&value).map_err(|message| problem(location, format!("{key}: {message}")))?;
        object.insert(key, json);
    }
    sources::from_value(level, location, Value::Object(object)).map_err(|mut problem| {
        problem.level = level;
        problem
    })
}

/// The Tokenwise payloads of a configuration profile (`.mobileconfig`), as the Mac would
/// apply them: what `tokenwise policy validate profile.mobileconfig` checks.
pub fn layers_from_mobileconfig(location: &str, bytes: &[u8]) -> (Vec<Layer>, Vec<PolicyProblem>) {
    let failed = |message: String| (Vec::new(), vec![problem(location, message)]);
    if bytes.first() == Some(&0x30) {
        return failed(
            "it is a signed profile (CMS); validate the unsigned profile before signing".into(),
        );
    }
    let value = match plist::Value::from_reader(std::io::Cursor::new(bytes)) {
        Ok(value) => value,
        Err(error) => return failed(format!("it is not a property list ({error})")),
    };
    let Some(profile) = value.into_dictionary() else {
        return failed("its top level is not a <dict>".into());
    };
    let Some(payloads) = profile
        .get("PayloadContent")
        .and_then(plist::Value::as_array)
    else {
        return failed("it has no PayloadContent array".into());
    };
    let mut layers = Vec::new();
    let mut problems = Vec::new();
    for (index, payload) in payloads.iter().enumerate() {
        let Some(payload) = payload.as_dictionary() else {
            continue;
        };
        if payload.get("PayloadType").and_then(plist::Value::as_string) != Some(BUNDLE_ID) {
            continue;
        }
        let at = format!("{location} (payload {})", index + 1);
        match policy_from_dictionary(Level::Managed, &at, payload.clone()) {
            Ok(layer) => layers.push(layer),
            Err(problem) => problems.push(problem),
        }
    }
    if layers.is_empty() && problems.is_empty() {
        problems.push(problem(
            location,
            format!("it has no payload with PayloadType {BUNDLE_ID}"),
        ));
    }
    (layers, problems)
}

fn to_json(value: &plist::Value) -> Result<Value, String> {
    Ok(match value {
        plist::Value::Boolean(b) => Value::Bool(*b),
        plist::Value::String(text) => Value::String(text.clone()),
        plist::Value::Integer(integer) => match (integer.as_unsigned(), integer.as_signed()) {
            (Some(n), _) => Value::from(n),
            (None, Some(n)) => Value::from(n),
            _ => return Err("an integer out of range".into()),
        },
        plist::Value::Real(real) => serde_json::Number::from_f64(*real)
            .map(Value::Number)
            .ok_or("a number that is not finite")?,
        plist::Value::Array(items) => {
            Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        plist::Value::Dictionary(dictionary) => Value::Object(
            dictionary
                .iter()
                .map(|(key, value)| Ok((key.clone(), to_json(value)?)))
                .collect::<Result<_, String>>()?,
        ),
        plist::Value::Date(_) => return Err("a <date> is not a setting".into()),
        plist::Value::Data(_) => return Err("<data> is not a setting".into()),
        _ => return Err("this plist type is not a setting".into()),
    })
}

fn problem(location: &str, message: String) -> PolicyProblem {
    PolicyProblem {
        level: Level::Managed,
        location: location.to_string(),
        line: 0,
        column: 0,
        message,
    }
}
