//! [`Tokenwise`]: the one object the front ends hold.

use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tokenwise_core::{
    CancellationToken, ChatEngine, ChatMessage, Clock, ConversationSummary, EngineStatus, Error,
};
use tokenwise_store::Store;
use tokio::sync::watch;
use ts_rs::TS;

use crate::budget_file::BudgetState;
use crate::error::AppError;
use crate::paths::AppPaths;
use crate::triage::Triage;
use tokenwise_cloud::Timeouts;
use tokenwise_secrets::KeyStore;

/// What the status line of a front end shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppStatus {
    pub engine: EngineStatus,
    /// Problems the person should know about, one sentence each, saying what happened and what
    /// applies instead: the history database could not be opened (this session's chats are
    /// kept in memory only), the tier catalog file could not be used (the built-in one
    /// applies). Empty when all is well.
    pub warnings: Vec<String>,
    pub database_path: String,
    pub models_dir: String,
}

/// Why the cloud is not used while the person has paused it.
pub const CLOUD_PAUSED: &str =
    "Cloud answers are paused: everything is answered on this laptop until you resume them \
     (tray menu → Resume cloud).";

/// The app: history, the local engine (once loaded), and the answer in progress.
pub struct Tokenwise {
    pub(crate) store: Store,
    warnings: Vec<String>,
    /// Why the tier catalog file could not be used; while set, cloud answers are blocked.
    pub(crate) catalog_problem: Option<String>,
    engine: RwLock<Option<Arc<dyn ChatEngine>>>,
    engine_status: watch::Sender<EngineStatus>,
    pub(crate) running: Mutex<Option<CancellationToken>>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) triage: Triage,
    pub(crate) budgets: BudgetState,
    /// Where provider keys are read from: the OS keyring.
    pub(crate) keys: KeyStore,
    pub(crate) cloud_timeouts: Timeouts,
    /// How long a call to the company quota server may take.
    pub(crate) company_timeout: std::time::Duration,
    /// Where the organization's policy files are read from.
    pub(crate) policy_sources: tokenwise_policy::PolicySources,
    /// "Pause cloud" from the tray: no cloud answer until resumed (this session).
    cloud_paused: std::sync::atomic::AtomicBool,
    /// The local model's last measured prefill and decode speeds (tokens/s), for estimating
    /// how long a long summary takes.
    local_speed: Mutex<Option<(f32, f32)>>,
    /// The person's model catalog (or the built-in one) over the models folder; the policy's
    /// may replace it ([`Tokenwise::models`]).
    pub(crate) models: tokenwise_models::Models,
    /// Why the model catalog file could not be used, when it could not.
    pub(crate) models_warning: Option<String>,
    /// The person named a catalog (a recommended policy's then does not apply).
    pub(crate) models_chosen: bool,
    /// The loaded local model as routing sees it (reach, tier catalog entry).
    pub(crate) local_model: RwLock<crate::local_model::LocalModelState>,
    /// Why the person's chosen local model could not be loaded at start, when it could not.
    pub(crate) local_model_warning: Mutex<Option<String>>,
    pub(crate) downloads: crate::local_model::Downloads,
    /// Measures the machine's speed for the fit verdicts (supplied by the front end).
    pub(crate) speed_probe: Option<crate::local_model::SpeedProbeFn>,
    paths: AppPaths,
}

impl Tokenwise {
    /// Opens the history database. A database that cannot be opened (damaged, locked, no
    /// permission) does not stop the app: the session runs on an in-memory history and
    /// [`AppStatus::warnings`] says why.
    pub async fn open(paths: AppPaths, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        if let Err(error) = paths.prepare_private_data_dir() {
            // Store::open below reports a folder it cannot use; this only loses the tightened
            // permissions, so it is said and not fatal.
            eprintln!(
                "tokenwise: could not make {} private: {error}",
                paths.data_dir.display()
            );
        }
        let (store, history_warning) = match Store::open(&paths.database()).await {
            Ok(store) => (store, None),
            Err(error) => {
                let warning = format!("{error} Until then, chats in this session are not saved.");
                (Store::open_in_memory().await?, Some(warning))
            }
        };
        let latest_ledger_ms = store.latest_ledger_ms().await?;
        let (triage, catalog_problem) = Triage::with_catalog_file(
            &paths.tiers_file(),
            paths.tiers_file_required(),
            &paths.data_dir,
        )?;
        let (models_catalog, models_warning, models_chosen) =
            crate::local_model::catalog_from_env();
        let (engine_status, _) = watch::channel(EngineStatus::Unavailable {
            message: "The local model has not been loaded yet.".into(),
        });
        let mut app = Self {
            store,
            warnings: history_warning
                .into_iter()
                .chain(catalog_problem.clone())
                .chain(models_warning.clone())
                .collect(),
            catalog_problem,
            engine: RwLock::new(None),
            engine_status,
            running: Mutex::new(None),
            clock,
            triage,
            budgets: BudgetState::new(
                paths.budgets_file(),
                paths.budgets_file_required(),
                &paths.data_dir,
                latest_ledger_ms,
            ),
            keys: KeyStore::new(),
            cloud_timeouts: Timeouts::default(),
            company_timeout: tokenwise_sync::DEFAULT_TIMEOUT,
            policy_sources: tokenwise_policy::PolicySources::system(),
            cloud_paused: std::sync::atomic::AtomicBool::new(false),
            local_speed: Mutex::new(None),
            models: crate::local_model::models_over(&paths, models_catalog),
            models_warning,
            models_chosen,
            local_model: RwLock::new(Default::default()),
            local_model_warning: Mutex::new(None),
            downloads: crate::local_model::Downloads::new(),
            speed_probe: None,
            paths,
        };
        if let Err(error) = app.reload_routing_choices().await {
            app.warnings.push(format!(
                "Your earlier routing choices could not be read; routing is as shipped: {error}"
            ));
        }
        // Answers a killed process left half-written: saved as stopped, cloud calls charged.
        match app.recover_interrupted_answers().await {
            Ok(recovered) => app.warnings.extend(recovered),
            Err(error) => app.warnings.push(format!(
                "Answers interrupted by an earlier crash could not be recovered yet: {error}"
            )),
        }
        Ok(app)
    }

    /// Replaces the cloud clients' connect and idle time limits (a slow company gateway may
    /// need longer ones; tests use short ones).
    pub fn with_cloud_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.cloud_timeouts = timeouts;
        self
    }

    /// Supplies the speed probe behind the Models screen's expected speeds (the front end's,
    /// which links the engine). Without one, speeds are left out.
    pub fn with_speed_probe(mut self, probe: crate::local_model::SpeedProbeFn) -> Self {
        self.speed_probe = Some(probe);
        self
    }

    /// Replaces the time limit of calls to the company quota server (default 10 s).
    pub fn with_company_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.company_timeout = timeout;
        self
    }

    /// Closes the history database (its write-ahead log is checkpointed into the database
    /// file). Call once when the process is about to exit; the app is unusable afterwards.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Whether chats are saved to the history database: false when it could not be opened and
    /// the session runs on an in-memory one ([`AppStatus::warnings`] says why). A command-line
    /// `ask` then refuses rather than print IDs that will not exist.
    pub fn history_is_kept(&self) -> bool {
        self.store.path() != std::path::Path::new(":memory:")
    }

    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    /// Current status for a status line.
    pub fn status(&self) -> AppStatus {
        AppStatus {
            engine: self.engine_status.borrow().clone(),
            // Policy problems are read now: a fixed file stops warning without a restart.
            warnings: self
                .warnings
                .iter()
                .cloned()
                .chain(
                    self.policy()
                        .problems
                        .iter()
                        .map(|problem| format!("The organization's policy: {problem}")),
                )
                .chain(self.cloud_paused().then(|| CLOUD_PAUSED.to_string()))
                .chain(
                    self.local_model_warning
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone(),
                )
                .collect(),
            database_path: self.store.path().display().to_string(),
            models_dir: self.paths.models_dir.display().to_string(),
        }
    }

    /// Pauses (or resumes) cloud answers: while paused, every prompt is answered locally, as
    /// when the organization turns the cloud off, and the reason says so.
    pub fn set_cloud_paused(&self, paused: bool) {
        self.cloud_paused
            .store(paused, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn cloud_paused(&self) -> bool {
        self.cloud_paused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records the speeds of a local generation that read a real prompt.
    pub(crate) fn remember_local_speed(&self, stats: &tokenwise_core::GenerationStats) {
        if stats.prefill_tokens_per_second > 0.0 && stats.decode_tokens_per_second > 0.0 {
            *self.local_speed.lock().unwrap_or_else(|e| e.into_inner()) = Some((
                stats.prefill_tokens_per_second,
                stats.decode_tokens_per_second,
            ));
        }
    }

    /// The local model's last measured (prefill, decode) speeds in tokens/s, if any.
    pub(crate) fn local_speed(&self) -> Option<(f32, f32)> {
        *self.local_speed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Engine status changes, for pushing to a user interface.
    pub fn watch_engine_status(&self) -> watch::Receiver<EngineStatus> {
        self.engine_status.subscribe()
    }

    /// Marks the model as loading.
    pub fn engine_loading(&self, model: &str) {
        self.engine_status.send_replace(EngineStatus::Loading {
            model: model.to_string(),
        });
    }

    /// Installs a loaded engine; questions are answered from now on.
    pub fn engine_ready(&self, engine: Arc<dyn ChatEngine>) {
        let status = EngineStatus::Ready {
            model: engine.model_name(),
            context_tokens: engine.context_tokens(),
        };
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine);
        self.engine_status.send_replace(status);
    }

    /// Runs `load` with the status showing "loading `model`", then installs its engine or
    /// records its error. Returns the error message on failure.
    pub async fn load_engine<E, F, D>(&self, model: &str, load: F) -> Result<(), String>
    where
        E: ChatEngine + 'static,
        F: std::future::Future<Output = Result<E, D>>,
        D: std::fmt::Display,
    {
        self.engine_loading(model);
        match load.await {
            Ok(engine) => {
                self.engine_ready(Arc::new(engine));
                Ok(())
            }
            Err(error) => {
                let message = error.to_string();
                self.engine_failed(message.clone());
                Err(message)
            }
        }
    }

    /// The engine answering now and its status, if one is loaded.
    pub(crate) fn engine_slot(&self) -> Option<crate::local_model::EngineSlot> {
        let engine = self
            .engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some((engine, self.engine_status.borrow().clone()))
    }

    /// Puts back an engine (and its status) after a failed switch.
    pub(crate) fn restore_engine(&self, engine: Arc<dyn ChatEngine>, status: EngineStatus) {
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Some(engine);
        self.engine_status.send_replace(status);
    }

    /// Records why the engine cannot be used (missing or damaged model file, …).
    pub fn engine_failed(&self, message: String) {
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = None;
        self.engine_status
            .send_replace(EngineStatus::Unavailable { message });
    }

    pub(crate) fn engine(&self) -> Result<Arc<dyn ChatEngine>, Error> {
        if let Some(engine) = self
            .engine
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(engine);
        }
        Err(match &*self.engine_status.borrow() {
            EngineStatus::Loading { model } => Error::EngineUnavailable(format!(
                "The local model {model} is still loading; ask again in a moment."
            )),
            EngineStatus::Unavailable { message } => Error::EngineUnavailable(message.clone()),
            EngineStatus::Ready { .. } => {
                Error::EngineUnavailable("The local model is not available.".into())
            }
        })
    }

    /// All conversations, most recent first.
    pub async fn conversations(&self) -> Result<Vec<ConversationSummary>, AppError> {
        Ok(self.store.list_conversations().await?)
    }

    /// The messages of one conversation.
    pub async fn messages(&self, conversation_id: &str) -> Result<Vec<ChatMessage>, AppError> {
        Ok(self.store.messages(conversation_id).await?)
    }

    /// Renames a conversation; the title is trimmed and must not be blank.
    pub async fn rename_conversation(
        &self,
        conversation_id: &str,
        title: &str,
    ) -> Result<(), AppError> {
        const MAX_TITLE_CHARS: usize = 200;
        let title = title.trim();
        if title.is_empty() {
            return Err(AppError::InvalidInput(
                "A conversation needs a name.".into(),
            ));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(AppError::InvalidInput(format!(
                "A conversation name can be at most {MAX_TITLE_CHARS} characters."
            )));
        }
        let now = self.clock.now_ms();
        Ok(self
            .store
            .rename_conversation(conversation_id, title, now)
            .await?)
    }

    /// Deletes a conversation and its messages.
    pub async fn delete_conversation(&self, conversation_id: &str) -> Result<(), AppError> {
        Ok(self.store.delete_conversation(conversation_id).await?)
    }

    /// Stops the answer in progress. Returns false when nothing was running.
    pub fn stop(&self) -> bool {
        match &*self.running.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}
