//! Which local model answers, and the Models screen: the person's choice among the downloaded
//! catalog models (kept in `desktop-settings.json`), the organization's allow-list over it
//! (`local_models_allowed`), this machine's fit verdicts, and the one download in progress
//! (start, pause, resume, cancel, its progress as a watch channel).
//!
//! Loading the engine itself is the front end's (it links mistral.rs; this crate does not):
//! it asks [`Tokenwise::active_local_model`] or [`Tokenwise::choose_local_model`] what to load
//! and hands the loading future to [`Tokenwise::load_local_model`], which keeps the previous
//! model answering when a switch fails. Once loaded, routing follows the model's reach
//! ([`LocalModelState::reach`]) and the tier catalog's local entry carries its name and context.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokenwise_core::{Difficulty, EngineStatus, TierCatalog};
use tokenwise_models::{
    probe_cache, Catalog, Hardware, InstalledModel, Models, ModelsError, ModelsOverview, Progress,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;

/// Environment variable naming a model catalog file that replaces the built-in one (IT's
/// internal mirror, a shorter list).
pub const CATALOG_ENV: &str = "TOKENWISE_MODEL_CATALOG";

/// Measures how fast this machine streams quantized weights (bytes/s); supplied by the front
/// end, which links the engine (`tokenwise_local::probe`).
pub type SpeedProbeFn = Arc<dyn Fn() -> Result<f64, String> + Send + Sync>;

/// The model catalog: the file [`CATALOG_ENV`] names, else the built-in one. A file that
/// cannot be used gives the built-in catalog and a warning saying why. The second value says
/// whether the person named a catalog (a recommended policy's then does not apply).
pub(crate) fn catalog_from_env() -> (Catalog, Option<String>, bool) {
    let Some(path) = std::env::var_os(CATALOG_ENV).map(std::path::PathBuf::from) else {
        return (Catalog::builtin(), None, false);
    };
    match read_catalog(&path) {
        Ok(catalog) => (catalog, None, true),
        Err(problem) => (
            Catalog::builtin(),
            Some(format!(
                "The model catalog {} {problem} The built-in catalog applies.",
                path.display()
            )),
            true,
        ),
    }
}

/// `catalog` over the app's models folder, downloads into the folder this user can write
/// (tried once, at start: `AppPaths::model_downloads_dir`).
pub(crate) fn models_over(paths: &crate::paths::AppPaths, catalog: Catalog) -> Models {
    Models::new(catalog, paths.models_dir.clone()).with_download_dir(paths.model_downloads_dir())
}

/// Reads and checks a catalog file; the error completes "The model catalog FILE …".
fn read_catalog(path: &std::path::Path) -> Result<Catalog, String> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("could not be read ({error})."))?;
    Catalog::from_toml(&text, &path.display().to_string())
        .map_err(|error| format!("cannot be used: {error}"))
}

/// The loaded local model as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalModelState {
    /// The catalog id, `None` for the embedded default.
    pub id: Option<String>,
    /// The hardest tier it answers acceptably.
    pub reach: Difficulty,
    /// The tier catalog with its local entry describing this model (name, context).
    pub tiers: Option<TierCatalog>,
}

impl Default for LocalModelState {
    fn default() -> Self {
        LocalModelState {
            id: None,
            reach: Difficulty::Simple,
            tiers: None,
        }
    }
}

/// Where the download in progress stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DownloadPhase {
    Running,
    /// Stopped by the person; what arrived is kept and "Resume" continues it.
    Paused,
    /// Stopped by the person; what arrived was deleted.
    Cancelled,
    /// Broken off (network, disk, checksum); `message` says why and what to do.
    Failed,
    /// Downloaded and verified.
    Done,
}

/// The download the Models screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ModelDownload {
    pub id: String,
    pub name: String,
    pub phase: DownloadPhase,
    pub progress: Option<Progress>,
    /// Why it failed, or what a finished download did ("checksum pinned").
    pub message: Option<String>,
}

/// Everything the Models screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ModelsScreen {
    pub overview: ModelsOverview,
    /// The catalog id of the model answering now (or loading); `None`: the embedded default
    /// outside the catalog.
    pub active_id: Option<String>,
    /// Ids the organization does not allow, each with the sentence saying so.
    pub not_allowed: Vec<NotAllowedModel>,
    /// What the screen offers for each model, in the order of `overview.models`.
    pub offers: Vec<ModelOffer>,
    pub download: Option<ModelDownload>,
    /// Problems to show above the list (a catalog file that could not be used).
    pub warnings: Vec<String>,
}

/// The actions the Models screen offers for one model (a download in progress adds Pause and
/// Cancel, which the screen knows from the download itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ModelOffer {
    pub id: String,
    /// Download (or resume): not here yet, downloadable, allowed, and it fits (or a partial
    /// download waits).
    pub download: bool,
    /// Switch to it: downloaded, not the one answering, allowed, and it fits.
    pub switch_to: bool,
    /// Delete it: downloaded, not the one answering, not the bundled model.
    pub remove: bool,
}

impl ModelOffer {
    fn for_row(row: &tokenwise_models::ModelRow, active: bool, allowed: bool) -> ModelOffer {
        let fits = row.fit.verdict != tokenwise_models::Verdict::DoesNotFit;
        ModelOffer {
            id: row.id.clone(),
            download: !row.downloaded
                && row.downloadable
                && allowed
                && (fits || row.partial_bytes.is_some()),
            switch_to: row.downloaded && !active && allowed && fits,
            remove: row.downloaded && !active && !row.bundled,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NotAllowedModel {
    pub id: String,
    pub reason: String,
}

/// The download slot: at most one at a time (they share one network link and one disk).
pub(crate) struct Downloads {
    running: Mutex<Option<RunningDownload>>,
    status: watch::Sender<Option<ModelDownload>>,
}

struct RunningDownload {
    id: String,
    cancel: CancellationToken,
    /// Set before cancelling: delete what arrived (cancel) or keep it (pause).
    discard: Arc<std::sync::atomic::AtomicBool>,
}

impl Downloads {
    pub(crate) fn new() -> Downloads {
        Downloads {
            running: Mutex::new(None),
            status: watch::channel(None).0,
        }
    }
}

impl Tokenwise {
    /// Replaces the model catalog (IT's file given on the command line).
    pub fn with_model_catalog(mut self, catalog: Catalog) -> Self {
        self.models = self.over_models_folder(catalog);
        self.models_chosen = true;
        self
    }

    /// The model catalog in force over this app's models folder: the managed policy's
    /// `model_catalog_file`, else the one the person named (`TOKENWISE_MODEL_CATALOG`,
    /// `--catalog`), else a recommended policy's, else the built-in one.
    pub fn models(&self) -> Models {
        self.models_in_force().0
    }

    /// Why the catalog the organization set cannot be used, if it cannot: downloads are
    /// stopped until it is fixed (its list may exist to keep some models out).
    pub fn model_catalog_problem(&self) -> Option<String> {
        self.models_in_force().1
    }

    /// `catalog` over the same folders as the catalog the app opened with (the write test of
    /// the download folder is not repeated).
    fn over_models_folder(&self, catalog: Catalog) -> Models {
        Models::new(catalog, self.paths().models_dir.clone())
            .with_download_dir(self.models.download_dir())
    }

    fn models_in_force(&self) -> (Models, Option<String>) {
        let policy = self.policy();
        let managed = policy
            .setting("model_catalog_file")
            .is_some_and(|setting| setting.locked);
        match policy.policy.model_catalog_file.as_deref() {
            Some(path) if managed || !self.models_chosen => {
                match read_catalog(std::path::Path::new(path)) {
                    Ok(catalog) => (Models::new(catalog, self.paths().models_dir.clone()), None),
                    Err(problem) => (
                        self.models.clone(),
                        Some(format!(
                            "The model catalog your organization set ({path}) {problem} \
                             Downloads are stopped until it is fixed."
                        )),
                    ),
                }
            }
            _ => (self.models.clone(), None),
        }
    }

    /// Download progress and outcomes, for pushing to a user interface.
    pub fn watch_model_download(&self) -> watch::Receiver<Option<ModelDownload>> {
        self.downloads.status.subscribe()
    }

    /// The model to load at start: the person's choice when it is still downloaded, checkable
    /// and allowed; `None` for the embedded default. A choice that no longer holds is said in
    /// the status line's warnings (the default answers instead).
    pub fn active_local_model(&self) -> Option<InstalledModel> {
        let id = self.desktop_settings().local_model?;
        let (model, warning) = match self.switchable(&id) {
            Ok(model) if model.bundled => (None, None),
            Ok(model) => (Some(model), None),
            Err(error) => (
                None,
                Some(format!(
                    "Your local model `{id}` cannot be used: {error} The default model answers."
                )),
            ),
        };
        *self
            .local_model_warning
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = warning;
        model
    }

    /// Checks that model `id` can answer here (in the catalog, downloaded with a checksum,
    /// allowed by the organization, fits this machine's memory) and saves it as the person's
    /// choice. Returns what to load; `None` for the embedded default.
    pub fn choose_local_model(&self, id: &str) -> Result<Option<InstalledModel>, AppError> {
        let model = self.switchable(id)?;
        let mut settings = self.desktop_settings();
        settings.local_model = (!model.bundled).then(|| model.id.clone());
        self.save_desktop_settings(&settings)?;
        Ok((!model.bundled).then_some(model))
    }

    /// Model `id` if it can answer here, with the context this machine's memory affords.
    fn switchable(&self, id: &str) -> Result<InstalledModel, AppError> {
        let models = self.models();
        let mut model = models.installed(id)?;
        self.check_local_model(&model.file)?;
        let hardware = Hardware::read(models.download_dir());
        let file_bytes = std::fs::metadata(model.dir.join(&model.file))
            .map(|m| m.len())
            .ok();
        let entry = models.as_downloaded(models.entry(id)?).map_err(|problem| {
            AppError::InvalidInput(format!(
                "{} cannot be used: the file {}. Remove it and download it again.",
                model.name, problem.0
            ))
        })?;
        let fit = tokenwise_models::assess(
            tokenwise_models::ModelFacts {
                entry: &entry,
                file_bytes,
                downloaded: true,
            },
            &hardware,
            None,
        );
        if fit.verdict == tokenwise_models::Verdict::DoesNotFit {
            return Err(AppError::InvalidInput(format!(
                "{} does not fit this laptop: {}",
                model.name, fit.reason
            )));
        }
        model.context_tokens = fit.context_tokens;
        Ok(model)
    }

    /// Loads a local model with `load` (the front end's engine loader), unless the policy
    /// forbids `file_name`. On success routing follows the model (`reach`, its name and
    /// context in the tier catalog). When a switch fails and a model was answering, that model
    /// goes on answering and the error is returned; at start, the status says why.
    pub async fn load_local_model<E, F, D>(
        &self,
        model: Option<&InstalledModel>,
        file_name: &str,
        load: F,
    ) -> Result<(), String>
    where
        E: tokenwise_core::ChatEngine + 'static,
        F: std::future::Future<Output = Result<E, D>>,
        D: std::fmt::Display,
    {
        if let Err(refused) = self.check_local_model(file_name) {
            return Err(self.switch_failed(refused.to_string()));
        }
        let previous = self.engine_slot();
        let name = model.map_or("the default model", |m| m.name.as_str());
        // During a switch the previous model goes on answering, so the status stays "ready"
        // (the Models screen shows the switch in progress); at start it says "loading".
        if previous.is_none() {
            self.engine_loading(name);
        }
        match load.await {
            Ok(engine) => {
                let engine: Arc<dyn tokenwise_core::ChatEngine> = Arc::new(engine);
                let tiers = self.triage.catalog().with_local_model(
                    file_name,
                    &engine.model_name(),
                    engine.context_tokens(),
                );
                *self.local_model.write().unwrap_or_else(|e| e.into_inner()) = LocalModelState {
                    id: model.map(|m| m.id.clone()),
                    reach: model.map_or(Difficulty::Simple, |m| m.local_reach),
                    tiers: Some(tiers),
                };
                if model.is_some() {
                    *self
                        .local_model_warning
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = None;
                }
                self.engine_ready(engine);
                Ok(())
            }
            Err(error) => {
                // A model that does not load is not kept as the choice: the saved choice goes
                // back to the model that answers (or the default).
                let mut settings = self.desktop_settings();
                settings.local_model = self.local_model_state().id;
                let _ = self.save_desktop_settings(&settings);
                match previous {
                    Some((engine, status)) => {
                        self.restore_engine(engine, status);
                        Err(format!(
                            "Could not switch to {name}: {error} The previous model goes on \
                             answering."
                        ))
                    }
                    None => {
                        if let Some(model) = model {
                            *self
                                .local_model_warning
                                .lock()
                                .unwrap_or_else(|e| e.into_inner()) = Some(format!(
                                "Your local model {} could not be loaded: {error}",
                                model.name
                            ));
                        }
                        Err(self.switch_failed(error.to_string()))
                    }
                }
            }
        }
    }

    fn switch_failed(&self, message: String) -> String {
        if self.engine_slot().is_none() {
            self.engine_failed(message.clone());
        }
        message
    }

    /// Routes as if `model` (`None`: the default) were loaded, without loading it: for audits
    /// of the router's decisions (`tokenwise route`), which need its reach and context, not
    /// its answers. Not for answering: an engine loaded later replaces this.
    pub fn route_as_if_loaded(&self, model: Option<&InstalledModel>) {
        let state = match model {
            None => LocalModelState::default(),
            Some(model) => {
                let context = model.context_tokens.unwrap_or_else(|| {
                    self.models()
                        .entry(&model.id)
                        .map_or(self.triage.catalog().local().context_tokens, |e| {
                            e.context_tokens
                        })
                });
                LocalModelState {
                    id: Some(model.id.clone()),
                    reach: model.local_reach,
                    tiers: Some(self.triage.catalog().with_local_model(
                        &model.file,
                        &model.name,
                        context,
                    )),
                }
            }
        };
        *self.local_model.write().unwrap_or_else(|e| e.into_inner()) = state;
    }

    /// The loaded local model as routing sees it.
    pub fn local_model_state(&self) -> LocalModelState {
        self.local_model
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// This machine, every catalog model with its verdict, the active one, what the
    /// organization allows and the download in progress. Runs the speed probe once per machine
    /// and build (about a second) when it was never measured.
    pub async fn models_screen(&self) -> Result<ModelsScreen, AppError> {
        let (models, catalog_problem) = self.models_in_force();
        let models_dir = models.download_dir().to_path_buf();
        let data_dir = self.paths().data_dir.clone();
        let measure = self.speed_probe.clone();
        let (hardware, probe) = tokio::task::spawn_blocking(move || {
            let hardware = Hardware::read(&models_dir);
            let threads = tokenwise_models::hardware::engine_threads_here();
            let probe = match measure {
                Some(measure) => {
                    probe_cache::load_or_measure(&data_dir, &hardware, threads, || measure()).ok()
                }
                None => probe_cache::load(&data_dir, &hardware, threads),
            };
            (hardware, probe)
        })
        .await
        .map_err(|e| AppError::InvalidInput(e.to_string()))?;
        let overview = models.overview(hardware, probe)?;
        let policy = self.policy();
        let not_allowed: Vec<NotAllowedModel> = overview
            .models
            .iter()
            .filter_map(|row| {
                let entry = models.entry(&row.id).ok()?;
                crate::policy::local_model_refusal(&policy, &entry.file)
                    .err()
                    .map(|error| NotAllowedModel {
                        id: row.id.clone(),
                        reason: error.to_string(),
                    })
            })
            .collect();
        let active_id = self.local_model_state().id.or_else(|| {
            // The embedded default is the catalog's bundled entry, when it lists one.
            overview
                .models
                .iter()
                .find(|row| row.bundled)
                .map(|row| row.id.clone())
        });
        let offers = overview
            .models
            .iter()
            .map(|row| {
                ModelOffer::for_row(
                    row,
                    active_id.as_deref() == Some(row.id.as_str()),
                    !not_allowed.iter().any(|n| n.id == row.id),
                )
            })
            .collect();
        Ok(ModelsScreen {
            overview,
            offers,
            active_id,
            not_allowed,
            download: self.downloads.status.borrow().clone(),
            warnings: self
                .models_warning
                .iter()
                .cloned()
                .chain(catalog_problem)
                .collect(),
        })
    }

    /// Starts (or resumes) downloading model `id` in the background; progress and the outcome
    /// arrive on [`Tokenwise::watch_model_download`]. One download at a time.
    pub fn start_model_download(self: &Arc<Self>, id: &str) -> Result<(), AppError> {
        let (models, catalog_problem) = self.models_in_force();
        if let Some(problem) = catalog_problem {
            return Err(AppError::InvalidInput(problem));
        }
        let entry = models.entry(id)?.clone();
        self.check_local_model(&entry.file)?;
        if !entry.downloadable() {
            return Err(ModelsError::NotDownloadable { id: id.into() }.into());
        }
        let cancel = CancellationToken::new();
        let discard = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let mut running = self
                .downloads
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(other) = running.as_ref() {
                return Err(AppError::InvalidInput(format!(
                    "{} is downloading; pause or cancel it first.",
                    models
                        .entry(&other.id)
                        .map_or(other.id.clone(), |e| e.name.clone())
                )));
            }
            *running = Some(RunningDownload {
                id: entry.id.clone(),
                cancel: cancel.clone(),
                discard: discard.clone(),
            });
        }
        let report = {
            let (id, name) = (entry.id.clone(), entry.name.clone());
            move |phase, progress, message| {
                Some(ModelDownload {
                    id: id.clone(),
                    name: name.clone(),
                    phase,
                    progress,
                    message,
                })
            }
        };
        self.downloads
            .status
            .send_replace(report(DownloadPhase::Running, None, None));
        let app = Arc::clone(self);
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(20))
                .user_agent(concat!("tokenwise/", env!("CARGO_PKG_VERSION")))
                .build();
            let status = app.downloads.status.clone();
            let result = match client {
                Ok(client) => {
                    let mut last = None;
                    let outcome = models
                        .pull(
                            &entry.id,
                            &client,
                            |progress| {
                                last = Some(progress);
                                status.send_replace(report(
                                    DownloadPhase::Running,
                                    Some(progress),
                                    None,
                                ));
                            },
                            &cancel,
                        )
                        .await;
                    outcome.map_err(|error| (error, last))
                }
                Err(error) => Err((
                    ModelsError::Network {
                        url: entry.url.clone().unwrap_or_default(),
                        detail: error.to_string(),
                    },
                    None,
                )),
            };
            let final_report = match result {
                Ok(pulled) => report(
                    DownloadPhase::Done,
                    None,
                    pulled.pinned.then(|| {
                        format!(
                            "No checksum is published for it: sha256 {} is now pinned.",
                            pulled.sha256
                        )
                    }),
                ),
                Err((ModelsError::Cancelled { .. }, last)) => {
                    if discard.load(std::sync::atomic::Ordering::SeqCst) {
                        let _ = models.discard_partial(&entry.id);
                        report(DownloadPhase::Cancelled, None, None)
                    } else {
                        report(DownloadPhase::Paused, last, None)
                    }
                }
                Err((error, last)) => report(DownloadPhase::Failed, last, Some(error.to_string())),
            };
            *app.downloads
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = None;
            status.send_replace(final_report);
        });
        Ok(())
    }

    /// Stops the download of `id`: `keep` pauses it (what arrived stays for a resume), else
    /// cancels it (what arrived is deleted). A download that is not running is left as is.
    pub fn stop_model_download(&self, id: &str, keep: bool) -> Result<(), AppError> {
        let running = self
            .downloads
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match running.as_ref() {
            Some(download) if download.id == id => {
                download
                    .discard
                    .store(!keep, std::sync::atomic::Ordering::SeqCst);
                download.cancel.cancel();
                Ok(())
            }
            _ if keep => Ok(()),
            _ => {
                // Cancelling a paused download: delete what arrived.
                drop(running);
                self.models().discard_partial(id)?;
                let mut status = self.downloads.status.borrow().clone();
                if let Some(download) = status.as_mut().filter(|d| d.id == id) {
                    download.phase = DownloadPhase::Cancelled;
                    download.progress = None;
                }
                self.downloads.status.send_replace(status);
                Ok(())
            }
        }
    }

    /// Deletes a downloaded model. The one answering now cannot be removed (switch first).
    pub fn remove_model(&self, id: &str) -> Result<bool, AppError> {
        if self.local_model_state().id.as_deref() == Some(id) {
            return Err(AppError::InvalidInput(
                "This model is answering now; switch to another one before removing it.".into(),
            ));
        }
        Ok(self.models().remove(id)?)
    }
}

/// What [`Tokenwise::engine_slot`] returns: the engine and its status, to put back.
pub(crate) type EngineSlot = (Arc<dyn tokenwise_core::ChatEngine>, EngineStatus);
