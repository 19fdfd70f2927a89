//! Where policy comes from, and reading it.
//!
//! Linux, as Chromium does: every `*.json` file in `/etc/tokenwise/policies/managed/`
//! (enforced) and `/etc/tokenwise/policies/recommended/` (suggested), applied in file-name
//! order, a later file's key overriding an earlier one's (name them `10-company.json`,
//! `50-team.json`, …). `TOKENWISE_POLICY_DIR` replaces `/etc/tokenwise/policies` (tests,
//! a portable install). A file that cannot be used is a [`PolicyProblem`] naming the file, the
//! line and the column; the other files still apply.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::Policy;

/// The largest policy file read; a bigger one is a problem, not a read.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// How strongly a source's values apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Enforced: the user cannot change it.
    Managed,
    /// The company's suggestion: used unless the user chose otherwise.
    Recommended,
}

/// One policy file as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub level: Level,
    /// The file (or, on other systems, the registry key or preference domain).
    pub location: String,
    pub policy: Policy,
}

/// A policy file that could not be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyProblem {
    pub level: Level,
    pub location: String,
    /// 1-based; 0 when the problem is not at a place in the text (an unreadable file).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}, line {}, column {}: {}",
                self.location, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

/// The folders read on Linux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDirs {
    pub root: PathBuf,
}

impl PolicyDirs {
    /// `TOKENWISE_POLICY_DIR`, else `/etc/tokenwise/policies`.
    pub fn from_env() -> PolicyDirs {
        PolicyDirs {
            root: std::env::var_os("TOKENWISE_POLICY_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/etc/tokenwise/policies")),
        }
    }

    pub fn dir(&self, level: Level) -> PathBuf {
        self.root.join(match level {
            Level::Managed => "managed",
            Level::Recommended => "recommended",
        })
    }

    /// Every layer, managed files first, each level in file-name order, and the problems.
    pub fn read(&self) -> (Vec<Layer>, Vec<PolicyProblem>) {
        let mut layers = Vec::new();
        let mut problems = Vec::new();
        for level in [Level::Managed, Level::Recommended] {
            let dir = self.dir(level);
            let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                    .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                    .collect(),
                // No folder: nothing set at this level.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => {
                    problems.push(PolicyProblem {
                        level,
                        location: dir.display().to_string(),
                        line: 0,
                        column: 0,
                        message: format!("the folder cannot be read ({error})"),
                    });
                    Vec::new()
                }
            };
            files.sort();
            for file in files {
                match read_file(level, &file) {
                    Ok(layer) => layers.push(layer),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        (layers, problems)
    }
}

/// Reads and checks one policy file.
pub fn read_file(level: Level, path: &Path) -> Result<Layer, PolicyProblem> {
    let location = path.display().to_string();
    let problem = |line, column, message: String| PolicyProblem {
        level,
        location: location.clone(),
        line,
        column,
        message,
    };
    let meta = std::fs::metadata(path)
        .map_err(|error| problem(0, 0, format!("it cannot be read ({error})")))?;
    if !meta.is_file() {
        return Err(problem(0, 0, "it is not a regular file".into()));
    }
    if meta.len() > MAX_POLICY_BYTES {
        return Err(problem(
            0,
            0,
            format!("it is larger than {MAX_POLICY_BYTES} bytes"),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|error| problem(0, 0, format!("it cannot be read ({error})")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| problem(0, 0, "it is not UTF-8 text".into()))?;
    parse(level, &location, &text)
}

/// Parses policy text (JSON) from `location`.
pub fn parse(level: Level, location: &str, text: &str) -> Result<Layer, PolicyProblem> {
    let problem = |line, column, message: String| PolicyProblem {
        level,
        location: location.to_string(),
        line,
        column,
        message,
    };
    let policy: Policy =
        serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|error| {
            problem(
                error.line(),
                error.column().max(1),
                clean(&error.to_string()),
            )
        })?;
    if let Some((key, message)) = policy.value_problems().into_iter().next() {
        let (line, column) = position_of_key(text, &key);
        return Err(problem(line, column, format!("{key}: {message}")));
    }
    Ok(Layer {
        level,
        location: location.to_string(),
        policy,
    })
}

/// A policy from a value tree another format was mapped to (a plist, registry values);
/// problems have no line.
pub(crate) fn from_value(
    level: Level,
    location: &str,
    value: serde_json::Value,
) -> Result<Layer, PolicyProblem> {
    let problem = |message: String| PolicyProblem {
        level,
        location: location.to_string(),
        line: 0,
        column: 0,
        message,
    };
    // A value tree has no lines: name the key instead, by trying each key alone.
    if let serde_json::Value::Object(map) = &value {
        for (key, one) in map {
            let alone =
                serde_json::Value::Object([(key.clone(), one.clone())].into_iter().collect());
            if let Err(error) = serde_json::from_value::<Policy>(alone) {
                return Err(problem(format!("{key}: {}", clean(&error.to_string()))));
            }
        }
    }
    let policy: Policy =
        serde_json::from_value(value).map_err(|error| problem(clean(&error.to_string())))?;
    if let Some((key, message)) = policy.value_problems().into_iter().next() {
        return Err(problem(format!("{key}: {message}")));
    }
    Ok(Layer {
        level,
        location: location.to_string(),
        policy,
    })
}

/// serde_json's message without its own " at line L column C" (the problem says where).
fn clean(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Where `"key"` first appears in the text (1-based line and column), or (1, 1).
fn position_of_key(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    for (index, line) in text.lines().enumerate() {
        if let Some(column) = line.find(&needle) {
            return (index + 1, line[..column].chars().count() + 1);
        }
    }
    (1, 1)
}
