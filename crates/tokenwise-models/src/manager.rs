//! The model manager: the catalog against the models folder. What each model is, whether it
//! is here and fits ([`Models::overview`]), fetching one with its checksum published or pinned
//! ([`Models::pull`]), removing one ([`Models::remove`]), and the facts the engine needs to load
//! a downloaded one ([`Models::installed`]). The command line and the app both go through it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokenwise_core::Difficulty;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::catalog::{Catalog, CatalogEntry};
use crate::download::{download, partial_path, DownloadRequest, Progress};
use crate::error::ModelsError;
use crate::fit::{assess, Fit, ModelFacts, SpeedProbe};
use crate::gguf::{read_shape, NotGguf};
use crate::hardware::Hardware;
use crate::inventory::inventory;
use crate::pins::Pins;

/// A server silent for this long during a download is a broken connection.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How a model file's integrity is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChecksumState {
    /// The catalog carries the publisher's sha256.
    Published,
    /// None is published; the first download's sha256 is pinned and later files must match.
    Pinned,
    /// None is published and the model was never downloaded: it will be pinned then.
    PinnedOnFirstDownload,
}

impl ChecksumState {
    pub fn label(self) -> &'static str {
        match self {
            ChecksumState::Published => "checksum published",
            ChecksumState::Pinned => "checksum pinned on first download",
            ChecksumState::PinnedOnFirstDownload => "checksum will be pinned on first download",
        }
    }
}

/// One catalog model as the Models screen and `tokenwise models list` show it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ModelRow {
    pub id: String,
    pub name: String,
    pub parameters: String,
    pub quant: String,
    pub licence: String,
    /// The hardest routing tier it answers acceptably on its own.
    pub local_reach: Difficulty,
    /// On disk when downloaded, else as the catalog plans it.
    #[ts(type = "number | null")]
    pub size_bytes: Option<u64>,
    pub downloaded: bool,
    /// Bytes of an interrupted download waiting to be resumed.
    #[ts(type = "number | null")]
    pub partial_bytes: Option<u64>,
    pub checksum: ChecksumState,
    /// Ships with the app (fetched by `scripts/fetch-model.sh`, never by the app).
    pub bundled: bool,
    /// Has a download address.
    pub downloadable: bool,
    pub fit: Fit,
}

/// This machine and every catalog model with its fit verdict.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ModelsOverview {
    pub hardware: Hardware,
    /// The measured speed probe, when there is one.
    pub weight_bytes_per_second: Option<f64>,
    /// Where downloads go (the models folder, or the data folder's when that one is read-only).
    pub models_dir: String,
    pub models: Vec<ModelRow>,
}

/// A downloaded model, checked against its published or pinned checksum before loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledModel {
    /// The folder holding the file.
    pub dir: PathBuf,
    pub id: String,
    pub name: String,
    pub file: String,
    pub sha256: String,
    /// Published size, when there is one (the checksum is checked either way).
    pub size_bytes: Option<u64>,
    pub local_reach: Difficulty,
    pub bundled: bool,
    /// The context window to run it with: what this machine's memory affords (see
    /// [`crate::fit`]), set by whoever checked the fit; `None`: the model's own.
    pub context_tokens: Option<u32>,
}

/// The end of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub path: PathBuf,
    pub sha256: String,
    /// No checksum was published: this download's is now pinned.
    pub pinned: bool,
    /// The file was already there; nothing was downloaded.
    pub already_there: bool,
}

/// The catalog over the models folders: the one the app was installed or pointed at (which
/// holds the bundled model and may be read-only), and the one downloads go to.
#[derive(Debug, Clone)]
pub struct Models {
    catalog: Catalog,
    models_dir: PathBuf,
    download_dir: PathBuf,
}

impl Models {
    /// Models in `models_dir`, downloads into it too.
    pub fn new(catalog: Catalog, models_dir: impl Into<PathBuf>) -> Models {
        let models_dir = models_dir.into();
        Models {
            catalog,
            download_dir: models_dir.clone(),
            models_dir,
        }
    }

    /// Downloads (and their pins) go to `dir`; files are looked for there first, then in the
    /// models folder. For an installed app whose models folder is read-only.
    pub fn with_download_dir(mut self, dir: impl Into<PathBuf>) -> Models {
        self.download_dir = dir.into();
        self
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Where downloads go.
    pub fn download_dir(&self) -> &Path {
        &self.download_dir
    }

    /// Where `file` is: the download folder first, then the models folder.
    pub fn file_path(&self, file: &str) -> Option<PathBuf> {
        [&self.download_dir, &self.models_dir]
            .into_iter()
            .map(|dir| dir.join(file))
            .find(|path| path.is_file())
    }

    /// Every catalog model with what the folder holds of it and its fit on `hardware`.
    pub fn overview(
        &self,
        hardware: Hardware,
        probe: Option<SpeedProbe>,
    ) -> Result<ModelsOverview, ModelsError> {
        let pins = Pins::load(&self.download_dir)?;
        let models = inventory(
            &self.catalog,
            &[&self.download_dir, &self.models_dir],
            &self.download_dir,
        )
        .into_iter()
        .map(|state| {
            let catalog_entry = state.entry;
            let (entry, unreadable) = match self.as_downloaded(catalog_entry) {
                Ok(entry) => (entry, None),
                Err(problem) => (catalog_entry.clone(), Some(problem)),
            };
            let entry = &entry;
            let fit = match unreadable {
                Some(problem) => Fit {
                    verdict: crate::fit::Verdict::DoesNotFit,
                    reason: format!(
                        "the file in the models folder {}: remove it and download it again",
                        problem.0
                    ),
                    context_tokens: None,
                    memory_needed_bytes: 0,
                    weights_in_memory_bytes: 0,
                    expected_tokens_per_second: None,
                },
                None => assess(
                    ModelFacts {
                        entry,
                        file_bytes: state.size_bytes(),
                        downloaded: state.downloaded(),
                    },
                    &hardware,
                    probe,
                ),
            };
            ModelRow {
                id: entry.id.clone(),
                name: entry.name.clone(),
                parameters: entry.parameters.clone(),
                quant: entry.quant.clone(),
                licence: entry.licence.clone(),
                local_reach: entry.local_reach,
                size_bytes: state.size_bytes(),
                downloaded: state.downloaded(),
                partial_bytes: state.partial_bytes,
                checksum: checksum_state(entry, &pins),
                bundled: entry.bundled,
                downloadable: entry.downloadable(),
                fit,
            }
        })
        .collect();
        Ok(ModelsOverview {
            hardware,
            weight_bytes_per_second: probe.map(|p| p.weight_bytes_per_second),
            models_dir: self.download_dir.display().to_string(),
            models,
        })
    }

    /// Downloads model `id` (resuming an interrupted download), verifies it against its
    /// published or pinned checksum, pins it when none was either, and renames it into place.
    pub async fn pull(
        &self,
        id: &str,
        client: &reqwest::Client,
        on_progress: impl FnMut(Progress),
        cancel: &CancellationToken,
    ) -> Result<Pulled, ModelsError> {
        let entry = self.catalog.get(id)?;
        let Some(url) = &entry.url else {
            return Err(ModelsError::NotDownloadable { id: id.into() });
        };
        let mut pins = Pins::load(&self.download_dir)?;
        let expected_sha256 = entry
            .sha256
            .clone()
            .or_else(|| pins.get(&entry.file).map(str::to_string));
        if let Some(path) = self.file_path(&entry.file) {
            return Ok(Pulled {
                path,
                sha256: expected_sha256.unwrap_or_default(),
                pinned: false,
                already_there: true,
            });
        }
        let request = DownloadRequest {
            url: url.clone(),
            models_dir: self.download_dir.clone(),
            file_name: entry.file.clone(),
            // A checksum pinned by an earlier download of the same file counts as published.
            expected_sha256,
            expected_size: entry.size_bytes,
            stall_timeout: STALL_TIMEOUT,
        };
        let done = download(
            client,
            &request,
            Hardware::free_disk_bytes_of,
            on_progress,
            cancel,
        )
        .await?;
        if done.pinned {
            pins.pin(&entry.file, &done.sha256)?;
        }
        Ok(Pulled {
            path: done.path,
            sha256: done.sha256,
            pinned: done.pinned,
            already_there: false,
        })
    }

    /// Deletes model `id`'s file, any partial download of it and its pin. The bundled model is
    /// never removed (the app falls back on it). Returns whether anything was there.
    pub fn remove(&self, id: &str) -> Result<bool, ModelsError> {
        let entry = self.catalog.get(id)?;
        if entry.bundled {
            return Err(ModelsError::Bundled {
                name: entry.name.clone(),
            });
        }
        let mut removed = false;
        let mut paths = vec![
            self.download_dir.join(&entry.file),
            partial_path(&self.download_dir, &entry.file),
        ];
        if self.models_dir != self.download_dir {
            paths.push(self.models_dir.join(&entry.file));
        }
        for path in paths {
            match std::fs::remove_file(&path) {
                Ok(()) => removed = true,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(ModelsError::io("delete", &path, error)),
            }
        }
        Pins::load(&self.download_dir)?.unpin(&entry.file)?;
        Ok(removed)
    }

    /// Deletes an interrupted download of model `id` (a cancelled download).
    pub fn discard_partial(&self, id: &str) -> Result<(), ModelsError> {
        let entry = self.catalog.get(id)?;
        let path = partial_path(&self.download_dir, &entry.file);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(ModelsError::io("delete", &path, error)),
        }
    }

    /// The facts needed to load model `id`: it must be downloaded and have a checksum
    /// (published, or pinned when it was downloaded).
    pub fn installed(&self, id: &str) -> Result<InstalledModel, ModelsError> {
        let entry = self.catalog.get(id)?;
        let Some(path) = self.file_path(&entry.file) else {
            return Err(ModelsError::NotDownloaded {
                name: entry.name.clone(),
                id: entry.id.clone(),
            });
        };
        let pins = Pins::load(&self.download_dir)?;
        let sha256 = entry
            .sha256
            .clone()
            .or_else(|| pins.get(&entry.file).map(str::to_string))
            .ok_or_else(|| ModelsError::Unverifiable {
                file: entry.file.clone(),
            })?;
        Ok(InstalledModel {
            dir: path
                .parent()
                .map_or_else(|| self.models_dir.clone(), Path::to_path_buf),
            id: entry.id.clone(),
            name: entry.name.clone(),
            file: entry.file.clone(),
            sha256,
            size_bytes: entry.size_bytes,
            local_reach: entry.local_reach,
            bundled: entry.bundled,
            context_tokens: None,
        })
    }

    /// The catalog entry with this id.
    pub fn entry(&self, id: &str) -> Result<&CatalogEntry, ModelsError> {
        self.catalog.get(id)
    }

    /// `entry` with the shape its downloaded file states (layers, KV heads, head size, trained
    /// context), which the fit rules trust over the catalog's; the entry as it is when the file
    /// is not here. A file whose GGUF header cannot be read is an error, in words.
    pub fn as_downloaded(&self, entry: &CatalogEntry) -> Result<CatalogEntry, NotGguf> {
        let Some(path) = self.file_path(&entry.file) else {
            return Ok(entry.clone());
        };
        let shape = read_shape(&path)?;
        Ok(CatalogEntry {
            layers: shape.layers,
            kv_heads: shape.kv_heads,
            head_dim: shape.head_dim,
            context_tokens: shape.context_tokens.unwrap_or(entry.context_tokens),
            ..entry.clone()
        })
    }
}

fn checksum_state(entry: &CatalogEntry, pins: &Pins) -> ChecksumState {
    match (&entry.sha256, pins.get(&entry.file)) {
        (Some(_), _) => ChecksumState::Published,
        (None, Some(_)) => ChecksumState::Pinned,
        (None, None) => ChecksumState::PinnedOnFirstDownload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"
[[model]]
id = "bundled"
name = "Bundled"
parameters = "135M"
quant = "Q4_1"
file = "bundled.gguf"
sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
size_bytes = 9
licence = "Apache-2.0"
source = "test"
context_tokens = 2048
layers = 30
kv_heads = 3
head_dim = 64
local_reach = "simple"
bundled = true

[[model]]
id = "bigger"
name = "Bigger"
parameters = "1.5B"
quant = "Q4_K_M"
file = "bigger.gguf"
url = "http://127.0.0.1:9/bigger.gguf"
approx_size_bytes = 1000
licence = "Apache-2.0"
source = "test"
context_tokens = 32768
layers = 28
kv_heads = 2
head_dim = 128
local_reach = "medium"
"#;

    fn models(dir: &Path) -> Models {
        Models::new(Catalog::from_toml(CATALOG, "test").unwrap(), dir)
    }

    #[test]
    fn a_model_not_downloaded_cannot_be_installed() {
        let dir = tempfile::tempdir().unwrap();
        let error = models(dir.path()).installed("bigger").unwrap_err();
        assert!(
            matches!(error, ModelsError::NotDownloaded { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("tokenwise models pull bigger"));
    }

    #[test]
    fn a_file_without_a_published_or_pinned_checksum_is_not_loaded() {
        // Put there by hand: nothing says what it should be.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bigger.gguf"), b"weights").unwrap();
        let error = models(dir.path()).installed("bigger").unwrap_err();
        assert!(matches!(error, ModelsError::Unverifiable { .. }), "{error}");
    }

    #[test]
    fn a_pinned_download_is_installed_with_its_pin_and_reach() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bigger.gguf"), b"weights").unwrap();
        Pins::load(dir.path())
            .unwrap()
            .pin("bigger.gguf", &"ab".repeat(32))
            .unwrap();
        let installed = models(dir.path()).installed("bigger").unwrap();
        assert_eq!(installed.sha256, "ab".repeat(32));
        assert_eq!(installed.local_reach, Difficulty::Medium);
        assert_eq!(installed.size_bytes, None);
        assert!(!installed.bundled);
    }

    #[test]
    fn remove_deletes_file_partial_and_pin_but_never_the_bundled_model() {
        let dir = tempfile::tempdir().unwrap();
        let models = models(dir.path());
        std::fs::write(dir.path().join("bigger.gguf"), b"weights").unwrap();
        let partial = partial_path(dir.path(), "bigger.gguf");
        std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
        std::fs::write(&partial, b"wei").unwrap();
        Pins::load(dir.path())
            .unwrap()
            .pin("bigger.gguf", &"ab".repeat(32))
            .unwrap();
        assert!(models.remove("bigger").unwrap());
        assert!(!dir.path().join("bigger.gguf").exists());
        assert!(!partial.exists());
        assert_eq!(Pins::load(dir.path()).unwrap().get("bigger.gguf"), None);
        assert!(!models.remove("bigger").unwrap(), "nothing left to remove");
        let error = models.remove("bundled").unwrap_err();
        assert!(error.to_string().contains("not removed"), "{error}");
    }

    #[test]
    fn overview_rows_say_what_is_here_and_how_it_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bundled.gguf"), b"123456789").unwrap();
        let hardware = Hardware {
            total_memory_bytes: 16 << 30,
            available_memory_bytes: 8 << 30,
            physical_cores: 4,
            logical_cores: 8,
            cpu_brand: "test".into(),
            cpu_simd: vec!["avx2"],
            build_simd: "avx2",
            free_disk_bytes: Some(100 << 30),
            on_battery: None,
        };
        let overview = models(dir.path()).overview(hardware, None).unwrap();
        let [bundled, bigger] = &overview.models[..] else {
            panic!("two rows expected")
        };
        assert!(bundled.downloaded && bundled.bundled && !bundled.downloadable);
        assert_eq!(bundled.checksum, ChecksumState::Published);
        assert_eq!(bundled.size_bytes, Some(9));
        // Nine bytes are no model: the verdict says so instead of guessing.
        assert_eq!(bundled.fit.verdict, crate::Verdict::DoesNotFit);
        assert!(
            bundled.fit.reason.contains("not a GGUF"),
            "{}",
            bundled.fit.reason
        );
        assert!(!bigger.downloaded && bigger.downloadable);
        assert_eq!(bigger.checksum, ChecksumState::PinnedOnFirstDownload);
        assert_eq!(bigger.size_bytes, Some(1000));
        assert_eq!(bigger.local_reach, Difficulty::Medium);
    }
}

#[cfg(test)]
mod two_folders {
    use super::*;

    #[test]
    fn downloads_go_to_the_writable_folder_and_the_bundled_model_is_found_in_the_other() {
        let installed = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let catalog = Catalog::builtin();
        let bundled = catalog.models().iter().find(|e| e.bundled).unwrap().clone();
        std::fs::write(installed.path().join(&bundled.file), b"x").unwrap();
        let models = Models::new(catalog, installed.path()).with_download_dir(downloads.path());
        assert_eq!(models.download_dir(), downloads.path());
        assert_eq!(
            models.file_path(&bundled.file),
            Some(installed.path().join(&bundled.file))
        );
        let installed_model = models.installed(&bundled.id).unwrap();
        assert_eq!(installed_model.dir, installed.path());
        let other = models
            .catalog()
            .models()
            .iter()
            .find(|e| !e.bundled)
            .unwrap()
            .clone();
        std::fs::write(downloads.path().join(&other.file), b"y").unwrap();
        Pins::load(downloads.path())
            .unwrap()
            .pin(&other.file, &"cd".repeat(32))
            .unwrap();
        assert_eq!(models.installed(&other.id).unwrap().dir, downloads.path());
        assert!(models.remove(&other.id).unwrap());
        assert!(!downloads.path().join(&other.file).exists());
    }
}
