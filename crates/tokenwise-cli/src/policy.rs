//! `tokenwise policy show | validate | schema`: the organization's policy, for the employee and
//! for IT checking a file before deploying it.

use std::path::PathBuf;

use tokenwise_policy::{read_effective, schema_json, sources, Level, PolicyDirs};

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
    /// Checks policy files as the app would read them; fails naming file, line and column.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Prints the JSON Schema of a policy file.
    Schema,
}

pub fn run(command: PolicyCommand) -> Result<(), String> {
    match command {
        PolicyCommand::Show { json } => show(json),
        PolicyCommand::Validate { files } => validate(&files),
        PolicyCommand::Schema => {
            out!("{}", schema_json());
            Ok(())
        }
    }
}

fn show(json: bool) -> Result<(), String> {
    let dirs = PolicyDirs::from_env();
    let effective = read_effective(&dirs);
    if json {
        let shown = serde_json::json!({
            "folder": dirs.root,
            "settings": effective.settings,
            "problems": effective.problems,
            "cloud_blocked": effective.cloud_blocked(),
        });
        out!(
            "{}",
            serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?
        );
    } else {
        out!("Policy folder: {}", dirs.root.display());
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
        match sources::read_file(Level::Managed, file) {
            Ok(layer) => {
                let keys = serde_json::to_value(&layer.policy)
                    .ok()
                    .and_then(|value| value.as_object().map(|map| map.len()))
                    .unwrap_or(0);
                out!("{}: ok ({keys} settings)", file.display());
            }
            Err(problem) => {
                eprintln!("{problem}");
                failed += 1;
            }
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
