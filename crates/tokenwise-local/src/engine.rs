//! [`LocalEngine`]: one loaded GGUF model behind a cloneable handle.
//!
//! mistral.rs already runs its model on an engine thread of its own and takes requests over a
//! channel; this handle adds what the app needs on top: one generation at a time (a second
//! request is refused at once with [`tokenwise_core::Error::EngineBusy`] rather than queued
//! behind an answer the user may be about to stop), cancellation (dropping mistral.rs's
//! response stream makes its engine cancel the sequence), and the figures shown under an answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use either::Either;
use mistralrs::{
    GgufModelBuilder, Model, RequestBuilder, Response, TextMessageRole, TextMessages, TokenSource,
};
use tokenwise_core::{
    CancellationToken, ChatEngine, Error, GenerationOutcome, GenerationRequest, GenerationStats,
    PromptMessage, Role,
};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Semaphore;

use crate::catalog::ModelSpec;
use crate::error::LocalError;
use crate::fast_weights::{self, Weights};
use crate::model_file;

/// 64 MiB: about 1,400 tokens of context on the 135M default model (46 KB per token), enough
/// for the recent turns of a conversation or two; a long summarized text is not kept (it is
/// rarely read twice, and keeping it would add its whole cache to the app's memory).
pub const DEFAULT_PREFIX_CACHE_MAX_BYTES: usize = 64 * 1024 * 1024;

/// Engine settings that trade memory for speed. The defaults suit one person chatting.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Keep the KV cache of recent conversations so a follow-up question does not re-read the
    /// whole history. Costs memory per cached sequence.
    pub prefix_cache_sequences: Option<usize>,
    /// The most memory those kept caches may take together; the oldest go first. Without a
    /// bound a long-running app kept the cache of every prompt it had answered.
    pub prefix_cache_max_bytes: usize,
    /// Where to keep a copy of the weights in a format with SIMD kernels, for model files whose
    /// tensors have none (see [`crate::fast_weights`]). `None` loads the file as it is.
    pub fast_weights_dir: Option<PathBuf>,
    /// The longest context to use, below the model's own: what the machine's memory affords
    /// (a 32k-token model on an 8 GB laptop). `None`: the model's own.
    pub max_context_tokens: Option<u32>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            prefix_cache_sequences: Some(4),
            prefix_cache_max_bytes: DEFAULT_PREFIX_CACHE_MAX_BYTES,
            fast_weights_dir: None,
            max_context_tokens: None,
        }
    }
}

impl EngineSettings {
    /// The defaults, with fast copies of the weights kept in `dir`: what the app uses.
    pub fn with_fast_weights_in(dir: &Path) -> Self {
        Self {
            fast_weights_dir: Some(dir.to_path_buf()),
            ..Self::default()
        }
    }
}

/// A loaded local model. Clones share the model and its one-at-a-time gate.
#[derive(Clone)]
pub struct LocalEngine {
    model: Arc<Model>,
    weights: Weights,
    display_name: String,
    context_tokens: u32,
    system_prompt: Option<String>,
    one_at_a_time: Arc<Semaphore>,
}

/// Context window used when the model file does not state one.
const FALLBACK_CONTEXT_TOKENS: u32 = 2048;

impl LocalEngine {
    /// Verifies the model file against its catalog entry, then loads it on the CPU.
    pub async fn load(
        models_dir: &Path,
        spec: &ModelSpec,
        settings: EngineSettings,
    ) -> Result<Self, LocalError> {
        let dir = models_dir.to_path_buf();
        let spec_copy = spec.clone();
        let fast_dir = settings.fast_weights_dir.clone();
        let weights = tokio::task::spawn_blocking(move || {
            let path = model_file::verify(&dir, &spec_copy)?;
            Ok::<_, LocalError>(match fast_dir {
                Some(fast_dir) => fast_weights::prepare(&path, &spec_copy.sha256, &fast_dir),
                None => Weights::Original(path),
            })
        })
        .await
        .map_err(|join| LocalError::ModelLoad {
            path: models_dir.join(&*spec.file_name),
            detail: join.to_string(),
        })??;
        let mut engine =
            match Self::load_weights(weights.clone(), &spec.display_name, &settings).await {
                Err(error) if matches!(weights, Weights::Repacked { .. }) => {
                    // The copy loads like its original; if it ever does not, answer from the
                    // original (slower) rather than not at all.
                    let Weights::Repacked { original, .. } = weights else {
                        unreachable!()
                    };
                    let fallback = Weights::OriginalBecause {
                        original,
                        reason: error.to_string(),
                    };
                    Self::load_weights(fallback, &spec.display_name, &settings).await?
                }
                loaded => loaded?,
            };
        engine.system_prompt = spec.system_prompt.as_deref().map(str::to_string);
        Ok(engine)
    }

    /// Loads what the app runs: `model`, a catalog model the person downloaded (from the
    /// folder holding it, with the context the machine affords), or with `None` the embedded
    /// default from `models_dir`; fast copies of weights are kept in `fast_weights_dir`.
    pub async fn load_model(
        model: Option<&tokenwise_models::InstalledModel>,
        models_dir: &Path,
        fast_weights_dir: &Path,
    ) -> Result<Self, LocalError> {
        let spec = ModelSpec::for_model(model);
        let settings = EngineSettings {
            max_context_tokens: model.and_then(|m| m.context_tokens),
            ..EngineSettings::with_fast_weights_in(fast_weights_dir)
        };
        let dir = model.map_or_else(|| models_dir.to_path_buf(), |m| m.dir.clone());
        Self::load(&dir, &spec, settings).await
    }

    /// Loads the embedded default model ([`crate::DEFAULT_MODEL`]) from `models_dir`, keeping
    /// its fast copy in `fast_weights_dir`.
    pub async fn load_default(
        models_dir: &Path,
        fast_weights_dir: &Path,
    ) -> Result<Self, LocalError> {
        Self::load(
            models_dir,
            &crate::DEFAULT_MODEL,
            EngineSettings::with_fast_weights_in(fast_weights_dir),
        )
        .await
    }

    /// The weights this engine runs on: the file as downloaded or its fast copy.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Loads a GGUF file that is not in the catalog (no checksum to verify against).
    pub async fn load_unverified(
        path: PathBuf,
        display_name: &str,
        settings: EngineSettings,
    ) -> Result<Self, LocalError> {
        if !path.is_file() {
            return Err(LocalError::ModelMissing {
                path,
                refetch: "choose a file that exists".into(),
            });
        }
        Self::load_weights(Weights::Original(path), display_name, &settings).await
    }

    async fn load_weights(
        weights: Weights,
        display_name: &str,
        settings: &EngineSettings,
    ) -> Result<Self, LocalError> {
        let path = weights.path().to_path_buf();
        let load_error = |detail: String| LocalError::ModelLoad {
            path: path.clone(),
            detail,
        };
        let dir = path
            .parent()
            .ok_or_else(|| load_error("the path has no folder".into()))?;
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| load_error("the file name is not valid UTF-8".into()))?;
        // An absolute folder that exists: mistral.rs treats anything else as a Hugging Face
        // model id and would try the network.
        let dir = std::fs::canonicalize(dir).map_err(|e| load_error(e.to_string()))?;
        mistralrs_core::set_prefix_cache_max_bytes(settings.prefix_cache_max_bytes);
        let builder = GgufModelBuilder::new(dir.to_string_lossy(), vec![file_name.to_string()])
            .with_token_source(TokenSource::None)
            .with_force_cpu()
            .with_max_num_seqs(1)
            .with_prefix_cache_n(settings.prefix_cache_sequences);
        // A damaged file can panic inside the loader: run it as a task so a panic becomes an
        // error message instead of taking the app down.
        let model = tokio::spawn(builder.build())
            .await
            .map_err(|join| load_error(format!("the loader crashed ({join})")))?
            .map_err(|error| load_error(format!("{error:#}")))?;
        let context_tokens = model
            .max_sequence_length()
            .ok()
            .flatten()
            .and_then(|tokens| u32::try_from(tokens).ok())
            .unwrap_or(FALLBACK_CONTEXT_TOKENS)
            .min(settings.max_context_tokens.unwrap_or(u32::MAX))
            .max(1);
        Ok(Self {
            model: Arc::new(model),
            weights,
            display_name: display_name.to_string(),
            context_tokens,
            system_prompt: None,
            one_at_a_time: Arc::new(Semaphore::new(1)),
        })
    }
}

impl LocalEngine {
    /// The messages as the model sees them: the engine's system prompt first, unless the
    /// conversation brings its own.
    fn with_system_prompt<'a>(&'a self, messages: &'a [PromptMessage]) -> Vec<(Role, &'a str)> {
        let brings_own = messages.first().is_some_and(|m| m.role == Role::System);
        let system = self
            .system_prompt
            .as_deref()
            .filter(|_| !brings_own)
            .map(|prompt| (Role::System, prompt));
        system
            .into_iter()
            .chain(messages.iter().map(|m| (m.role, m.content.as_str())))
            .collect()
    }
}

impl LocalEngine {
    /// The `top_n` most likely first tokens of the answer to `messages`, with their natural-log
    /// probabilities, most likely first. For quality checks: two weight formats of one model
    /// should agree on these within a small tolerance.
    pub async fn first_token_candidates(
        &self,
        messages: &[PromptMessage],
        top_n: usize,
    ) -> Result<Vec<TokenCandidate>, Error> {
        let _permit = self
            .one_at_a_time
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::EngineBusy)?;
        let request = self
            .with_system_prompt(messages)
            .into_iter()
            .fold(RequestBuilder::new(), |b, (role, content)| {
                b.add_message(role_of(role), content)
            })
            // Greedy sampling in mistral.rs 0.8.1 reports log10 of raw logits, not of
            // probabilities; plain sampling at temperature 1 reports the softmax over the whole
            // vocabulary once the builder's default top-k of 1 is lifted. The sampled token
            // itself is not used.
            .set_sampler_temperature(1.0)
            .set_sampler_topk(top_n.max(1))
            .set_sampler_max_len(1)
            .return_logprobs(true)
            .set_sampler_topn_logprobs(top_n);
        let response = self
            .model
            .send_chat_request(request)
            .await
            .map_err(|error| Error::Generation(error.to_string()))?;
        let first = response
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.logprobs)
            .and_then(|logprobs| logprobs.content)
            .and_then(|content| content.into_iter().next())
            .ok_or_else(|| Error::Generation("the engine returned no log-probabilities".into()))?;
        Ok(first
            .top_logprobs
            .into_iter()
            .map(|top| TokenCandidate {
                token_id: top.token,
                text: top.bytes.unwrap_or_default(),
                // mistral.rs reports log10; natural logs are the usual unit.
                logprob: top.logprob * std::f32::consts::LN_10,
            })
            .collect())
    }
}

/// One possible next token and its log-probability.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenCandidate {
    pub token_id: u32,
    pub text: String,
    pub logprob: f32,
}

fn to_text_messages(messages: &[(Role, &str)]) -> TextMessages {
    messages
        .iter()
        .fold(TextMessages::new(), |all, (role, content)| {
            all.add_message(role_of(*role), *content)
        })
}

fn role_of(role: Role) -> TextMessageRole {
    match role {
        Role::System => TextMessageRole::System,
        Role::User => TextMessageRole::User,
        Role::Assistant => TextMessageRole::Assistant,
    }
}

fn millis_since(start: Instant) -> u32 {
    u32::try_from(start.elapsed().as_millis()).unwrap_or(u32::MAX)
}

#[async_trait]
impl ChatEngine for LocalEngine {
    fn model_name(&self) -> String {
        self.display_name.clone()
    }

    fn context_tokens(&self) -> u32 {
        self.context_tokens
    }

    async fn count_prompt_tokens(&self, messages: &[PromptMessage]) -> Result<u32, Error> {
        let tokens = self
            .model
            .tokenize(
                Either::Left(to_text_messages(&self.with_system_prompt(messages))),
                None,
                true,
                true,
                None,
            )
            .await
            .map_err(|error| {
                Error::Generation(format!("could not tokenize the prompt: {error}"))
            })?;
        Ok(u32::try_from(tokens.len()).unwrap_or(u32::MAX))
    }

    async fn generate(
        &self,
        request: GenerationRequest,
        tokens: UnboundedSender<String>,
        cancel: CancellationToken,
    ) -> Result<GenerationOutcome, Error> {
        let _permit = self
            .one_at_a_time
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::EngineBusy)?;

        let mut builder = self
            .with_system_prompt(&request.messages)
            .into_iter()
            .fold(RequestBuilder::new(), |b, (role, content)| {
                b.add_message(role_of(role), content)
            });
        // `set_deterministic_sampler` replaces all sampling parameters (the length limit
        // included), so it must come first.
        if request.greedy {
            builder = builder.set_deterministic_sampler();
        }
        builder = builder.set_sampler_max_len(request.max_new_tokens as usize);

        let started = Instant::now();
        let mut first_token_ms: Option<u32> = None;
        let mut chunks_out: u32 = 0;
        let mut usage = None;
        let mut stopped = false;
        {
            let mut stream = self
                .model
                .stream_chat_request(builder)
                .await
                .map_err(|error| Error::Generation(error.to_string()))?;
            loop {
                let next = tokio::select! {
                    biased;
                    _ = cancel.cancelled() => { stopped = true; break; }
                    next = stream.next() => next,
                };
                let Some(response) = next else { break };
                match response {
                    Response::Chunk(chunk) => {
                        for choice in &chunk.choices {
                            if let Some(text) = choice.delta.content.as_deref() {
                                if !text.is_empty() {
                                    first_token_ms.get_or_insert_with(|| millis_since(started));
                                    chunks_out += 1;
                                    // A closed receiver means nobody listens any more: stop.
                                    if tokens.send(text.to_string()).is_err() {
                                        stopped = true;
                                    }
                                }
                            }
                        }
                        if let Some(final_usage) = chunk.usage {
                            usage = Some(final_usage);
                        }
                        let finished = chunk.choices.iter().any(|c| c.finish_reason.is_some());
                        if stopped || (finished && usage.is_some()) {
                            break;
                        }
                    }
                    Response::Done(done) => {
                        usage = Some(done.usage);
                        break;
                    }
                    Response::ModelError(message, _) => return Err(Error::Generation(message)),
                    Response::InternalError(error) | Response::ValidationError(error) => {
                        return Err(Error::Generation(error.to_string()))
                    }
                    _ => {}
                }
            }
            // Dropping the stream here tells mistral.rs to cancel the sequence if it still runs.
        }

        let total_ms = millis_since(started);
        let time_to_first_token_ms = first_token_ms.unwrap_or(total_ms);
        let stats = match usage {
            Some(usage) => GenerationStats {
                model: self.display_name.clone(),
                tokens_in: usage.prompt_tokens as u32,
                tokens_out: usage.completion_tokens as u32,
                time_to_first_token_ms,
                prefill_tokens_per_second: usage.avg_prompt_tok_per_sec,
                decode_tokens_per_second: usage.avg_compl_tok_per_sec,
                total_ms,
            },
            None => {
                // Stopped before mistral.rs reported usage: count what we saw.
                let tokens_in = self
                    .count_prompt_tokens(&request.messages)
                    .await
                    .unwrap_or(0);
                let decode_ms = total_ms.saturating_sub(time_to_first_token_ms).max(1);
                GenerationStats {
                    model: self.display_name.clone(),
                    tokens_in,
                    tokens_out: chunks_out,
                    time_to_first_token_ms,
                    prefill_tokens_per_second: tokens_in as f32 * 1000.0
                        / time_to_first_token_ms.max(1) as f32,
                    decode_tokens_per_second: chunks_out.saturating_sub(1) as f32 * 1000.0
                        / decode_ms as f32,
                    total_ms,
                }
            }
        };
        Ok(GenerationOutcome { stats, stopped })
    }
}
