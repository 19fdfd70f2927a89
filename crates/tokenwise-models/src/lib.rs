//! Local models that fit the laptop.
//!
//! No engine here (that is `tokenwise-local`): this crate knows which models exist, what this
//! machine can run, and how to fetch a file safely, so it builds and tests in seconds.
//!
//! - [`catalog`]: the models Tokenwise offers, with licence, size, checksum and the routing
//!   tier each can answer locally (`models/catalog.toml`, replaceable by IT).
//! - [`hardware`]: memory, cores, CPU vector level, free disk and battery, read with `sysinfo`.
//! - [`fit`]: memory needed, the context that fits, expected speed from a measured probe, and
//!   a verdict in words (runs well / runs slowly / does not fit).
//! - [`gguf`]: the shape a downloaded file states in its GGUF header (bounded reads).
//! - [`download`]: resumable, checked downloads with progress, cancel and atomic rename.
//! - [`pins`]: checksums pinned on first download where none is published.
//! - [`probe_cache`]: the measured speed probe, kept per machine and build.
//! - [`inventory`]: what is in the models folder now.
//! - [`manager`]: all of the above over one models folder: the overview with verdicts, pull,
//!   remove, and the checked facts to load a downloaded model.

pub mod catalog;
pub mod download;
pub mod error;
pub mod fit;
pub mod gguf;
pub mod hardware;
pub mod inventory;
pub mod manager;
pub mod pins;
pub mod probe_cache;

pub use catalog::{Catalog, CatalogEntry};
pub use download::{download, DownloadRequest, Downloaded, Progress};
pub use error::ModelsError;
pub use fit::{assess, Fit, ModelFacts, SpeedProbe, Verdict};
pub use hardware::Hardware;
pub use inventory::{inventory, ModelState};
pub use manager::{ChecksumState, InstalledModel, ModelRow, Models, ModelsOverview, Pulled};
pub use pins::Pins;
