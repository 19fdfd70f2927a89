//! Checksums pinned on first download, for catalog models whose publisher states none. Kept in
//! `<models folder>/.pins.json`; a later file with another checksum is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ModelsError;

/// File name of the pin store inside the models folder.
pub const PINS_FILE: &str = ".pins.json";

/// File name → lowercase hex sha256.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    path: PathBuf,
    pins: BTreeMap<String, String>,
}

impl Pins {
    /// Reads the store; a missing file is an empty store. A damaged one is an error: silently
    /// forgetting pins would accept any file.
    pub fn load(models_dir: &Path) -> Result<Pins, ModelsError> {
        let path = models_dir.join(PINS_FILE);
        let pins = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|error| ModelsError::Catalog {
                origin: path.display().to_string(),
                detail: format!(
                    "the pinned checksums cannot be read ({error}); delete the file to pin again"
                ),
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(error) => return Err(ModelsError::io("read", &path, error)),
        };
        Ok(Pins { path, pins })
    }

    pub fn get(&self, file_name: &str) -> Option<&str> {
        self.pins.get(file_name).map(String::as_str)
    }

    /// Records `sha256` for `file_name` and writes the store (atomically: a temporary file,
    /// then a rename).
    pub fn pin(&mut self, file_name: &str, sha256: &str) -> Result<(), ModelsError> {
        self.pins
            .insert(file_name.to_string(), sha256.to_ascii_lowercase());
        self.save()
    }

    /// Forgets the pin of a removed file.
    pub fn unpin(&mut self, file_name: &str) -> Result<(), ModelsError> {
        if self.pins.remove(file_name).is_some() {
            self.save()?;
        }
        Ok(())
    }

    fn save(&self) -> Result<(), ModelsError> {
        let text = serde_json::to_string_pretty(&self.pins).expect("a map of strings serializes");
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(|e| ModelsError::io("write", &temporary, e))?;
        std::fs::rename(&temporary, &self.path).map_err(|e| ModelsError::io("write", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_survive_a_reload_and_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut pins = Pins::load(dir.path()).unwrap();
        assert_eq!(pins.get("a.gguf"), None);
        pins.pin("a.gguf", "ABCDEF").unwrap();
        let reloaded = Pins::load(dir.path()).unwrap();
        assert_eq!(reloaded.get("a.gguf"), Some("abcdef"));
        let mut reloaded = reloaded;
        reloaded.unpin("a.gguf").unwrap();
        assert_eq!(Pins::load(dir.path()).unwrap().get("a.gguf"), None);
    }

    #[test]
    fn a_damaged_store_is_an_error_not_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PINS_FILE), "{not json").unwrap();
        let error = Pins::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("pinned checksums"), "{error}");
    }
}
