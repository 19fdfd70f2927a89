//! Where Tokenwise keeps its files.

use std::path::{Path, PathBuf};

/// Whether this process can create files in `dir` (made if missing): tried, not guessed from
/// permission bits (ACLs, read-only mounts, and root all defeat the guess).
fn writable(dir: &Path) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let probe = dir.join(format!(".tokenwise-write-test-{}", std::process::id()));
    let created = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    created
}

/// Folders and files the app uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    /// The platform's app-data folder (Linux: `~/.local/share/tokenwise`).
    pub data_dir: PathBuf,
    /// Where GGUF model files are looked for.
    pub models_dir: PathBuf,
}

impl AppPaths {
    /// Resolves the folders from the environment:
    /// `TOKENWISE_DATA_DIR` overrides the app-data folder; `TOKENWISE_MODELS_DIR` overrides the
    /// models folder, which otherwise is `./models` when it holds a model (a source checkout),
    /// else `../share/tokenwise/models` beside the executable when it holds one (the installed
    /// package: `/usr/bin/tokenwise` → `/usr/share/tokenwise/models`), else `<data_dir>/models`.
    pub fn from_env() -> Self {
        let data_dir = std::env::var_os("TOKENWISE_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("com", "Tokenwise", "tokenwise")
                    .map(|dirs| dirs.data_dir().to_path_buf())
            })
            .unwrap_or_else(|| PathBuf::from(".tokenwise"));
        let models_dir = std::env::var_os("TOKENWISE_MODELS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let mut candidates = vec![PathBuf::from("models")];
                candidates.extend(installed_models_dir());
                Self::default_models_dir(&data_dir, &candidates)
            });
        Self {
            data_dir,
            models_dir,
        }
    }

    /// The first candidate folder holding a GGUF file, else `<data_dir>/models`.
    fn default_models_dir(data_dir: &Path, candidates: &[PathBuf]) -> PathBuf {
        let has_gguf = |dir: &Path| {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .any(|e| e.path().extension().is_some_and(|x| x == "gguf"))
                })
                .unwrap_or(false)
        };
        match candidates.iter().find(|dir| has_gguf(dir)) {
            Some(dir) => std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()),
            None => data_dir.join("models"),
        }
    }

    /// The local engine's own cache (mistral.rs's Hugging Face cache), inside the data folder
    /// so the app writes nowhere else.
    pub fn engine_cache_dir(&self) -> PathBuf {
        self.data_dir.join("engine-cache")
    }

    /// Faster copies of local model weights (`tokenwise_local::fast_weights`): in the data
    /// folder because the models folder of an installed package is read-only.
    pub fn fast_weights_dir(&self) -> PathBuf {
        self.data_dir.join("fast-weights")
    }

    /// The desktop app's own settings (the quick summarize shortcut, …), JSON.
    /// Where downloaded models go: the models folder when this user can write there (a source
    /// checkout, `TOKENWISE_MODELS_DIR`), else `<data_dir>/models` (an installed package's
    /// `/usr/share/tokenwise/models` is read-only; its bundled model is still found there).
    pub fn model_downloads_dir(&self) -> PathBuf {
        if writable(&self.models_dir) {
            self.models_dir.clone()
        } else {
            self.data_dir.join("models")
        }
    }

    pub fn desktop_settings_file(&self) -> PathBuf {
        self.data_dir.join("desktop-settings.json")
    }

    /// Held locked by the running desktop app, so other processes (the CLI) can tell it runs.
    pub fn desktop_lock_file(&self) -> PathBuf {
        self.data_dir.join("desktop.lock")
    }

    /// The chat history database.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("tokenwise.sqlite3")
    }

    /// A tier catalog that replaces the built-in one (`tokenwise-core/catalog/tiers.toml`'s
    /// format): `TOKENWISE_TIERS_FILE`, else `tiers.toml` in the data folder, used when it
    /// exists.
    pub fn tiers_file(&self) -> PathBuf {
        std::env::var_os("TOKENWISE_TIERS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data_dir.join("tiers.toml"))
    }

    /// Whether the tier catalog was named explicitly (`TOKENWISE_TIERS_FILE`): then a missing
    /// file is a problem (cloud answers blocked), never a silent fall-back.
    pub fn tiers_file_required(&self) -> bool {
        std::env::var_os("TOKENWISE_TIERS_FILE").is_some()
    }

    /// Whether the budget file was named explicitly (`TOKENWISE_BUDGETS_FILE`): then a missing
    /// file is a problem (cloud answers blocked), not "no budgets".
    pub fn budgets_file_required(&self) -> bool {
        std::env::var_os("TOKENWISE_BUDGETS_FILE").is_some()
    }

    /// Creates the data folder if needed and makes it private (`0700` on Unix: chats, the
    /// ledger and policies are for this user only), and the database file `0600` before SQLite
    /// first opens it (SQLite gives its `-wal` and `-shm` files the database's permissions).
    pub fn prepare_private_data_dir(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.data_dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700))?;
            let database = self.database();
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&database)?;
            std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }

    /// The budget file (`docs/budgets.md`): `TOKENWISE_BUDGETS_FILE`, else `budgets.toml` in
    /// the data folder. Until the company sync lands, this is where budgets come from.
    pub fn budgets_file(&self) -> PathBuf {
        std::env::var_os("TOKENWISE_BUDGETS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.data_dir.join("budgets.toml"))
    }
}

/// `<exe>/../share/tokenwise/models`, where the package installs the default model.
fn installed_models_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("share/tokenwise/models"))
}

/// Writes `text` to `path` readable by this user only (`0600` on Unix), replacing it.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_go_to_the_data_folder_when_the_models_folder_is_not_writable() {
        let data = tempfile::tempdir().unwrap();
        // A "folder" under a regular file can never be created: not writable, even for root.
        let blocker = data.path().join("a-file");
        std::fs::write(&blocker, b"x").unwrap();
        let read_only = AppPaths {
            data_dir: data.path().to_path_buf(),
            models_dir: blocker.join("models"),
        };
        assert_eq!(read_only.model_downloads_dir(), data.path().join("models"));
        let writable = AppPaths {
            data_dir: data.path().to_path_buf(),
            models_dir: data.path().join("checkout-models"),
        };
        assert_eq!(
            writable.model_downloads_dir(),
            data.path().join("checkout-models")
        );
        assert_eq!(
            std::fs::read_dir(data.path().join("checkout-models"))
                .unwrap()
                .count(),
            0,
            "the write test leaves nothing behind"
        );
    }

    #[test]
    fn models_default_to_the_data_folder_without_a_checkout() {
        let data = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            AppPaths::default_models_dir(data.path(), &[empty.path().to_path_buf()]),
            data.path().join("models")
        );
    }

    #[test]
    fn the_first_models_folder_with_a_gguf_wins() {
        let data = tempfile::tempdir().unwrap();
        let checkout = tempfile::tempdir().unwrap();
        let installed = tempfile::tempdir().unwrap();
        std::fs::write(installed.path().join("m.gguf"), b"x").unwrap();
        let candidates = [
            checkout.path().to_path_buf(),
            installed.path().to_path_buf(),
        ];
        assert_eq!(
            AppPaths::default_models_dir(data.path(), &candidates),
            std::fs::canonicalize(installed.path()).unwrap(),
            "an empty checkout folder is skipped"
        );
        std::fs::write(checkout.path().join("m.gguf"), b"x").unwrap();
        assert_eq!(
            AppPaths::default_models_dir(data.path(), &candidates),
            std::fs::canonicalize(checkout.path()).unwrap()
        );
    }

    #[test]
    fn database_lives_in_the_data_folder() {
        let paths = AppPaths {
            data_dir: PathBuf::from("/d"),
            models_dir: PathBuf::from("/m"),
        };
        assert_eq!(paths.database(), PathBuf::from("/d/tokenwise.sqlite3"));
    }
}
