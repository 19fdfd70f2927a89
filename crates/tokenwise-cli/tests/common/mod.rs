//! What every test of the `tokenwise` binary needs: the command on a data folder of its own,
//! and "it succeeded" with its stderr when it did not.

use std::path::Path;
use std::process::{Command, Output};

/// The built `tokenwise` on `data_dir`, with the checkout's models unless the environment
/// names others.
pub fn tokenwise(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenwise"));
    command.env("TOKENWISE_DATA_DIR", data_dir);
    if std::env::var_os("TOKENWISE_MODELS_DIR").is_none() {
        command.env(
            "TOKENWISE_MODELS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"),
        );
    }
    command
}

/// Runs the command and returns its output, failing with its stderr unless it succeeded.
pub fn succeeds(command: &mut Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
