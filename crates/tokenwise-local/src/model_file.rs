//! Checks that a model file is present and intact before mistral.rs sees it.
//!
//! mistral.rs given a truncated or foreign file fails deep inside with a message that does not
//! name the file (or panics). Checking size and sha256 first (about 0.3 s for the default
//! model) turns that into an instruction a person can follow.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::catalog::ModelSpec;
use crate::error::LocalError;

/// Verifies `dir/spec.file_name` against the catalog entry and returns its path.
pub fn verify(dir: &Path, spec: &ModelSpec) -> Result<PathBuf, LocalError> {
    let path = dir.join(&*spec.file_name);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(LocalError::ModelMissing {
                path,
                refetch: spec.refetch.to_string(),
            })
        }
        Err(cause) => return Err(LocalError::ModelUnreadable { path, cause }),
    };
    if let Some(expected) = spec.size_bytes.filter(|&size| size != metadata.len()) {
        return Err(LocalError::ModelCorrupt {
            detail: format!("it is {} bytes, expected {expected} bytes", metadata.len()),
            path,
            refetch: spec.refetch.to_string(),
        });
    }
    let actual = sha256_hex(&path).map_err(|cause| LocalError::ModelUnreadable {
        path: path.clone(),
        cause,
    })?;
    if actual != spec.sha256 {
        return Err(LocalError::ModelCorrupt {
            detail: format!("sha256 {actual}, expected {}", spec.sha256),
            path,
            refetch: spec.refetch.to_string(),
        });
    }
    Ok(path)
}

pub(crate) fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::borrow::Cow;

    const TINY: ModelSpec = ModelSpec {
        display_name: Cow::Borrowed("tiny"),
        file_name: Cow::Borrowed("tiny.gguf"),
        // Not the checksum of any test file: only `intact_file_passes` needs a real one.
        sha256: Cow::Borrowed("a8b1a4dd4fa2d0d2b2e0e2a6df9c1b8a19c3bd0c51fd6ee8a9a2ac1bd7c6a2a1"),
        size_bytes: Some(9),
        refetch: Cow::Borrowed("run `scripts/fetch-model.sh`"),
        system_prompt: None,
    };

    #[test]
    fn missing_file_names_the_path_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        let error = verify(dir.path(), &TINY).unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, LocalError::ModelMissing { .. }));
        assert!(text.contains("tiny.gguf"), "{text}");
        assert!(text.contains("scripts/fetch-model.sh"), "{text}");
    }

    #[test]
    fn without_a_published_size_the_checksum_still_catches_a_truncated_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny.gguf"), b"GGUF").unwrap();
        let spec = ModelSpec {
            size_bytes: None,
            ..TINY
        };
        let text = verify(dir.path(), &spec).unwrap_err().to_string();
        assert!(text.contains("sha256"), "{text}");
    }

    #[test]
    fn truncated_file_is_reported_as_damaged_with_sizes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny.gguf"), b"GGUF").unwrap();
        let text = verify(dir.path(), &TINY).unwrap_err().to_string();
        assert!(text.contains("damaged"), "{text}");
        assert!(text.contains("4 bytes, expected 9 bytes"), "{text}");
    }

    #[test]
    fn same_size_wrong_content_is_caught_by_the_checksum() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny.gguf"), b"XXXX-test").unwrap();
        let text = verify(dir.path(), &TINY).unwrap_err().to_string();
        assert!(text.contains("sha256"), "{text}");
    }

    #[test]
    fn intact_file_passes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny.gguf"), b"GGUF-test").unwrap();
        let spec = ModelSpec {
            sha256: sha256_hex(&dir.path().join("tiny.gguf")).unwrap().into(),
            ..TINY
        };
        assert_eq!(
            verify(dir.path(), &spec).unwrap(),
            dir.path().join("tiny.gguf")
        );
    }
}
