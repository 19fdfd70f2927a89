//! What the models folder holds for each catalog entry: the file, a download in progress, or
//! nothing.

use std::path::Path;

use crate::catalog::{Catalog, CatalogEntry};
use crate::download::partial_path;

/// One catalog model and its state on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelState<'a> {
    pub entry: &'a CatalogEntry,
    /// Size of the file in the models folder, when it is there.
    pub file_bytes: Option<u64>,
    /// Bytes of an interrupted download waiting to be resumed.
    pub partial_bytes: Option<u64>,
}

impl ModelState<'_> {
    pub fn downloaded(&self) -> bool {
        self.file_bytes.is_some()
    }

    /// The file's size: on disk when present, else as the catalog plans it.
    pub fn size_bytes(&self) -> Option<u64> {
        self.file_bytes.or(self.entry.planned_size_bytes())
    }
}

/// Every catalog model with what the folders hold of it: the file in the first of `dirs` that
/// has it, an interrupted download in `download_dir`.
pub fn inventory<'a>(
    catalog: &'a Catalog,
    dirs: &[&Path],
    download_dir: &Path,
) -> Vec<ModelState<'a>> {
    let size = |path: &Path| {
        std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    };
    catalog
        .models()
        .iter()
        .map(|entry| ModelState {
            entry,
            file_bytes: dirs.iter().find_map(|dir| size(&dir.join(&entry.file))),
            partial_bytes: size(&partial_path(download_dir, &entry.file)),
        })
        .collect()
}
