//! The draft of an answer while it streams (the data-loss rule): the text so far is written
//! to the database every [`DRAFT_FLUSH_INTERVAL`], so a process that is killed loses at most
//! that much of what the user saw; and on the next start, drafts left by a process that is
//! gone become stopped answers ([`Tokenwise::recover_interrupted_answers`]), a killed cloud
//! call being charged for the prompt and what had streamed.
//!
//! A draft that cannot be written (a full disk) does not stop the answer: the text keeps
//! streaming to the user, and the final save reports the failure.

use std::time::{Duration, Instant};

use tokenwise_core::ChatMessage;
use tokenwise_store::{AnswerDraft, DraftCharge, StoreError};

use crate::error::AppError;
use crate::facade::Tokenwise;

/// How often a streaming answer's text is rewritten to its draft.
pub const DRAFT_FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// Counts the tokens of the answer so far (for a cloud draft's charge).
pub(crate) type TokenCounter<'a> = Box<dyn Fn(&str) -> u32 + Send + Sync + 'a>;

/// The streaming answer's text and its draft row.
pub(crate) struct DraftText<'a> {
    app: &'a Tokenwise,
    message_id: String,
    text: String,
    count_tokens: TokenCounter<'a>,
    /// `None` until the first piece, which is written at once.
    last_flush: Option<Instant>,
    /// Text arrived since the last flush.
    dirty: bool,
    /// The draft could not be written; no further writes are tried.
    failed: Option<StoreError>,
}

impl<'a> DraftText<'a> {
    /// Starts the draft of `answer` (whose content is empty).
    pub(crate) async fn begin(
        app: &'a Tokenwise,
        answer: &ChatMessage,
        model: &str,
        charge: Option<DraftCharge>,
        count_tokens: TokenCounter<'a>,
    ) -> Self {
        let draft = AnswerDraft {
            message: answer.clone(),
            model: model.to_string(),
            owner_pid: std::process::id(),
            charge,
        };
        let failed = app
            .store
            .begin_draft(&draft, app.clock.now_ms())
            .await
            .err();
        Self {
            app,
            message_id: answer.id.clone(),
            text: String::new(),
            count_tokens,
            last_flush: None,
            dirty: false,
            failed,
        }
    }

    /// The next piece from `pieces` (`None` when the stream ends). While waiting, text that
    /// arrived since the last write is written once [`DRAFT_FLUSH_INTERVAL`] has passed, so a
    /// stream that stalls (a slow provider, a stuck engine) does not leave the last pieces
    /// unwritten for as long as it stalls.
    pub(crate) async fn next_piece(
        &mut self,
        pieces: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    ) -> Option<String> {
        loop {
            let due = match self.last_flush {
                Some(last) if self.dirty && self.failed.is_none() => last + DRAFT_FLUSH_INTERVAL,
                _ => return pieces.recv().await,
            };
            match tokio::time::timeout_at(due.into(), pieces.recv()).await {
                Ok(piece) => return piece,
                Err(_elapsed) => self.flush().await,
            }
        }
    }

    /// Adds a piece of the answer; writes the draft if the last write is old enough.
    pub(crate) async fn push(&mut self, piece: &str) {
        self.text.push_str(piece);
        self.dirty = true;
        if self
            .last_flush
            .is_none_or(|last| last.elapsed() >= DRAFT_FLUSH_INTERVAL)
        {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if self.failed.is_some() || !self.dirty {
            return;
        }
        let tokens_out = (self.count_tokens)(&self.text);
        if let Err(error) = self
            .app
            .store
            .update_draft(
                &self.message_id,
                &self.text,
                tokens_out,
                self.app.clock.now_ms(),
            )
            .await
        {
            self.failed = Some(error);
        }
        self.dirty = false;
        self.last_flush = Some(Instant::now());
    }

    /// The whole text; the draft row stays until the answer is saved (which deletes it).
    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

impl Tokenwise {
    /// Turns the drafts of answers whose process is gone (killed mid-answer, a crash, a power
    /// cut) into stopped answers, and charges each killed cloud call for its prompt and what
    /// had streamed. Returns one sentence per recovered answer, for the status warnings.
    pub(crate) async fn recover_interrupted_answers(&self) -> Result<Vec<String>, AppError> {
        let recovered = self
            .store
            .recover_drafts(process_is_running, self.clock.now_ms())
            .await?;
        for answer in &recovered {
            if let Some(cost) = answer.charged {
                // The company's server hears the same charge (its hold would otherwise
                // expire and count nothing).
                self.settle_recovered_on_company(&answer.message.id, cost.micros())
                    .await?;
            }
        }
        Ok(recovered
            .iter()
            .map(|answer| {
                let charged = match answer.charged {
                    Some(cost) => format!(
                        " The cloud call was charged {} for the prompt and what had arrived.",
                        cost
                    ),
                    None => String::new(),
                };
                format!(
                    "An answer was interrupted when Tokenwise stopped unexpectedly; the {} \
                     characters that had arrived are saved as a stopped answer.{charged}",
                    answer.message.content.chars().count()
                )
            })
            .collect())
    }
}

/// What a cloud draft is charged from, should its process be killed.
pub(crate) fn cloud_charge(prompt_tokens: u32, price: tokenwise_core::Price) -> DraftCharge {
    DraftCharge {
        model_tokens_in: prompt_tokens,
        price,
    }
}

/// Whether a process with this id runs (on Unix: signal 0 reaches it, or it exists under
/// another user). Elsewhere every other process's draft counts as left behind after
/// [`tokenwise_store::STALE_DRAFT_MS`] only.
#[cfg(unix)]
fn process_is_running(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(error) => error == rustix::io::Errno::PERM,
    }
}

#[cfg(not(unix))]
fn process_is_running(_pid: u32) -> bool {
    true
}
