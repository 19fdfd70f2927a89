//! `tokenwise policy show | validate | schema`: the organization's policy, for the employee and
//! for IT checking a file before deploying it.

use std::path::PathBuf;

use tokenwise_policy::{admx, read_any_file, read_effective, schema_json, PolicySources};

use crate::output::out;

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// The policy in force on this machine: each governed key, its value and where it comes
    /// from (managed keys are locked); problems with policy files.
    Show {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Checks policy files as the app would read them once deployed (`.json` drop-in files,
    /// `.plist` managed preferences, `.mobileconfig` profiles, `.reg` registry exports); fails
    /// naming file, line and column.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Prints the JSON Schema of a policy file.
    Schema,
    /// Writes the Windows Group Policy templates (tokenwise.admx, en-US/tokenwise.adml) to DIR
    /// (e.g. C:\Windows\PolicyDefinitions or the domain's central store).
    Admx { dir: PathBuf },
}

pub fn run(command: PolicyCommand) -> Result<(), String> {
    match command {
        PolicyCommand::Show { json } => show(json),
        PolicyCommand::Validate { files } => validate(&files),
        PolicyCommand::Schema => {
            out!("{}", schema_json());
            Ok(())
        }
        PolicyCommand::Admx { dir } => write_admx(&dir),
    }
}

fn show(json: bool) -> Result<(), String> {
    let sources = PolicySources::system();
    let effective = read_effective(&sources);
    if json {
        let shown = serde_json::json!({
            "source": sources.describe(),
            "settings": effective.settings,
            "problems": effective.problems,
            "cloud_blocked": effective.cloud_blocked(),
        });
        out!(
            "{}",
            serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?
        );
    } else {
        out!("Policy read from: {}", sources.describe());
        if effective.settings.is_empty() {
            out!("No policy is set.");
        }
        for setting in &effective.settings {
            let how = if setting.locked {
                "managed by your organization"
            } else {
                "recommended"
            };
            out!(
                "{} = {}  ({how}: {})",
                setting.key,
                setting.value,
                setting.location
            );
        }
        for problem in &effective.problems {
            out!("PROBLEM: {problem}");
        }
        if let Some(reason) = effective.cloud_blocked() {
            out!("{reason}");
        }
    }
    Ok(())
}

fn validate(files: &[PathBuf]) -> Result<(), String> {
    let mut failed = 0;
    for file in files {
        let (layers, problems) = read_any_file(file);
        for problem in &problems {
            eprintln!("{problem}");
        }
        if !problems.is_empty() {
            failed += 1;
            continue;
        }
        for layer in layers {
            let keys = serde_json::to_value(&layer.policy)
                .ok()
                .and_then(|value| value.as_object().map(|map| map.len()))
                .unwrap_or(0);
            let level = match layer.level {
                tokenwise_policy::Level::Managed => "managed",
                tokenwise_policy::Level::Recommended => "recommended",
            };
            out!("{}: ok ({keys} {level} settings)", layer.location);
        }
    }
    match failed {
        0 => Ok(()),
        n => Err(format!(
            "{n} of {} policy files cannot be used",
            files.len()
        )),
    }
}

fn write_admx(dir: &std::path::Path) -> Result<(), String> {
    let language = dir.join("en-US");
    std::fs::create_dir_all(&language)
        .map_err(|e| format!("cannot create {}: {e}", language.display()))?;
    for (path, text) in [
        (dir.join("tokenwise.admx"), admx::admx()),
        (language.join("tokenwise.adml"), admx::adml()),
    ] {
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        out!("wrote {}", path.display());
    }
    Ok(())
}
