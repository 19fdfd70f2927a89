//! Reading a configuration file (the budget file, the tier catalog, later IT policy) the one
//! safe way: a regular file only, at most [`MAX_CONFIG_BYTES`], UTF-8 text.
//!
//! A FIFO or device given as a configuration path would otherwise hang the app (a FIFO blocks
//! until someone writes) or fill its memory (`/dev/urandom`); a huge file is surely not a
//! configuration. Each refusal is a sentence the caller puts into its own error ("… cannot be
//! read: it is not a regular file").

use std::io::Read;
use std::path::Path;

/// The largest configuration file read (1 MiB: the built-in tier catalog is 5 KiB, a budget
/// file for a large company a few hundred KiB).
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The text of the regular file at `path`, at most `limit` bytes; else why not, as a phrase
/// ("it is not a regular file", "it is larger than 1048576 bytes", an I/O error).
pub fn read_config_text(path: &Path, limit: u64) -> Result<String, String> {
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    let metadata = std::fs::metadata(path).map_err(|error| error.to_string())?;
    check_regular(&metadata, limit)?;
    let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
    // Checked again on the open file, in case the path was replaced in between.
    check_regular(&file.metadata().map_err(|e| e.to_string())?, limit)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())
}

/// The 1-based line of byte `offset` in `text`, for messages that point at a line (a TOML
/// error's span, a key's position).
pub fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text.as_bytes()[..end]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

fn check_regular(metadata: &std::fs::Metadata, limit: u64) -> Result<(), String> {
    if !metadata.is_file() {
        return Err(
            "it is not a regular file (a folder, pipe or device cannot be a configuration file)"
                .to_string(),
        );
    }
    if metadata.len() > limit {
        return Err(too_large(limit));
    }
    Ok(())
}

fn too_large(limit: u64) -> String {
    format!("it is larger than {limit} bytes, too large for a configuration file")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tokenwise-config-file-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_is_read() {
        let path = scratch().join("budgets.toml");
        std::fs::write(&path, "time_zone = \"UTC\"\n").unwrap();
        assert_eq!(
            read_config_text(&path, MAX_CONFIG_BYTES).unwrap(),
            "time_zone = \"UTC\"\n"
        );
    }

    #[test]
    fn a_device_a_folder_and_a_missing_file_are_refused_at_once() {
        let refused = read_config_text(Path::new("/dev/urandom"), MAX_CONFIG_BYTES).unwrap_err();
        assert!(refused.contains("not a regular file"), "{refused}");
        let folder = read_config_text(&scratch(), MAX_CONFIG_BYTES).unwrap_err();
        assert!(folder.contains("not a regular file"), "{folder}");
        let missing = read_config_text(&scratch().join("nope.toml"), MAX_CONFIG_BYTES);
        assert!(missing.is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let path = scratch().join("budgets.fifo");
        let _ = std::fs::remove_file(&path);
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening it would block this thread forever; the check comes first.
        let refused = read_config_text(&path, MAX_CONFIG_BYTES).unwrap_err();
        assert!(refused.contains("not a regular file"), "{refused}");
    }

    #[test]
    fn a_file_over_the_limit_and_binary_text_are_refused() {
        let big = scratch().join("big.toml");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        let refused = read_config_text(&big, MAX_CONFIG_BYTES).unwrap_err();
        assert!(refused.contains("larger than"), "{refused}");
        let binary = scratch().join("binary.toml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        assert_eq!(
            read_config_text(&binary, MAX_CONFIG_BYTES).unwrap_err(),
            "it is not UTF-8 text"
        );
    }
}
