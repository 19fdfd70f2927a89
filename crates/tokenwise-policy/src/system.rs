//! [`PolicySources`]: where this machine's policy is read (the drop-in folders on Linux,
//! managed preferences on macOS, the registry on Windows), and reading any one policy file
//! an administrator is about to deploy ([`read_any_file`]).

use std::path::Path;

use crate::macos::{self, ManagedPreferences};
use crate::sources::{self, Layer, Level, PolicyDirs, PolicyProblem, MAX_POLICY_BYTES};
use crate::windows;

/// Where policy is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySources {
    /// Drop-in folders of JSON files (Linux; any system with `TOKENWISE_POLICY_DIR`).
    Folders(PolicyDirs),
    /// macOS managed preferences of the bundle id.
    ManagedPreferences(ManagedPreferences),
    /// `HKLM` / `HKCU\SOFTWARE\Policies\Tokenwise` (read on Windows only).
    Registry,
}

impl PolicySources {
    /// This system's place: `TOKENWISE_POLICY_DIR` when set (tests, a portable install),
    /// else the OS's own.
    pub fn system() -> PolicySources {
        if std::env::var_os("TOKENWISE_POLICY_DIR").is_some() {
            return PolicySources::Folders(PolicyDirs::from_env());
        }
        if cfg!(windows) {
            PolicySources::Registry
        } else if cfg!(target_os = "macos") {
            PolicySources::ManagedPreferences(ManagedPreferences::system())
        } else {
            PolicySources::Folders(PolicyDirs::from_env())
        }
    }

    /// Every layer and every problem, in the order [`crate::EffectivePolicy::merge`] expects
    /// (within a level, a later layer wins).
    pub fn read(&self) -> (Vec<Layer>, Vec<PolicyProblem>) {
        match self {
            PolicySources::Folders(dirs) => dirs.read(),
            PolicySources::ManagedPreferences(preferences) => preferences.read(),
            PolicySources::Registry => read_registry(),
        }
    }

    /// Where it reads, in words for Settings and `tokenwise policy show`.
    pub fn describe(&self) -> String {
        match self {
            PolicySources::Folders(dirs) => dirs.root.display().to_string(),
            PolicySources::ManagedPreferences(preferences) => {
                format!("{} ({})", preferences.root.display(), macos::BUNDLE_ID)
            }
            PolicySources::Registry => {
                format!(r"HKLM\{0} and HKCU\{0}", windows::POLICY_KEY)
            }
        }
    }
}

#[cfg(windows)]
fn read_registry() -> (Vec<Layer>, Vec<PolicyProblem>) {
    windows::read_registry()
}

#[cfg(not(windows))]
fn read_registry() -> (Vec<Layer>, Vec<PolicyProblem>) {
    (Vec::new(), Vec::new())
}

/// One file as the app would read it once deployed, by its kind: `.json` (a drop-in file),
/// `.plist` (managed preferences), `.mobileconfig` (a configuration profile), `.reg` (a
/// registry export).
pub fn read_any_file(path: &Path) -> (Vec<Layer>, Vec<PolicyProblem>) {
    let location = path.display().to_string();
    let single = |result: Result<Layer, PolicyProblem>| match result {
        Ok(layer) => (vec![layer], Vec::new()),
        Err(problem) => (Vec::new(), vec![problem]),
    };
    let extension = path
        .extension()
        .and_then(|ext| ext.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if extension == "json" {
        return single(sources::read_file(Level::Managed, path));
    }
    let bytes = match read_limited(path) {
        Ok(bytes) => bytes,
        Err(message) => return single(Err(problem(&location, message))),
    };
    match extension.as_str() {
        "plist" => single(macos::policy_from_plist(Level::Managed, &location, &bytes)),
        "mobileconfig" => macos::layers_from_mobileconfig(&location, &bytes),
        "reg" => windows::layers_from_reg_file(&location, &bytes),
        _ => single(Err(problem(
            &location,
            "not a policy file by its name: use .json, .plist, .mobileconfig or .reg".into(),
        ))),
    }
}

pub(crate) fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|error| format!("it cannot be read ({error})"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_POLICY_BYTES {
        return Err(format!("it is larger than {MAX_POLICY_BYTES} bytes"));
    }
    std::fs::read(path).map_err(|error| format!("it cannot be read ({error})"))
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
