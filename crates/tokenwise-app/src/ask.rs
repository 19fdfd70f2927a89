//! One question, one answer: validate the prompt, take the answer slot, route, and hand over
//! to the local ([`crate::local_answer`]) or the cloud ([`crate::cloud_answer`]) answer.

use serde::{Deserialize, Serialize};
use tokenwise_core::{CancellationToken, ChatEvent, ChatMessage, Error, Placement, UserChoice};
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::plan::CloudApproval;

/// The largest prompt accepted at all, before tokenizing (about 50,000 tokens of English).
/// Anything bigger is surely a paste gone wrong; it is refused without being tokenized.
pub const ASK_MAX_PROMPT_CHARS: usize = 200_000;

/// A question from a front end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AskInput {
    /// The conversation to continue; `None` starts a new one.
    pub conversation_id: Option<String>,
    pub prompt: String,
    /// Greedy decoding, for reproducible answers.
    #[serde(default)]
    pub greedy: bool,
    /// Which tier should answer: the router's pick by default.
    #[serde(default)]
    pub choice: UserChoice,
    /// The user's confirmation of a cloud pick's cost (from the plan's [`NextStep`]); it also
    /// picks that entry. Without it a cloud pick is refused with `confirmation_required` and
    /// nothing is sent.
    ///
    /// [`NextStep`]: crate::plan::NextStep
    #[serde(default)]
    pub approval: Option<CloudApproval>,
    /// The company project a cloud call is charged to (one the quota server allows the user).
    #[serde(default)]
    pub project_id: Option<String>,
}

impl AskInput {
    /// The entry to ask: the approved one, else `choice`.
    pub(crate) fn effective_choice(&self) -> UserChoice {
        match &self.approval {
            Some(approval) => UserChoice::Entry {
                id: approval.tier_id.clone(),
            },
            None => self.choice.clone(),
        }
    }
}

/// Clears the "answer in progress" slot when the answer ends, however it ends.
pub(crate) struct RunningGuard<'a>(&'a Tokenwise);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        *self.0.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Tokenwise {
    /// Takes the one "answer in progress" slot (Stop cancels its token), or refuses with
    /// `EngineBusy` while another answer runs.
    pub(crate) fn take_answer_slot(
        &self,
    ) -> Result<(CancellationToken, RunningGuard<'_>), AppError> {
        let cancel = CancellationToken::new();
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.is_some() {
            return Err(Error::EngineBusy.into());
        }
        *running = Some(cancel.clone());
        Ok((cancel, RunningGuard(self)))
    }

    /// Answers `input.prompt` (with the local model, or an approved cloud entry), sending
    /// [`ChatEvent`]s to `events` as it goes, and returns the saved answer.
    ///
    /// Nothing is saved unless the question can be answered (not empty, fits the context, the
    /// model is ready, no other answer running). Once the question is saved, whatever part of
    /// the answer arrives is saved too, as stopped or failed if it did not complete.
    pub async fn ask(
        &self,
        input: AskInput,
        events: impl FnMut(ChatEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        let prompt = input.prompt.trim();
        // Nothing but control characters (NUL bytes from a binary paste, escape codes) is no
        // question: the model would answer it with a page of junk.
        if prompt.chars().all(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::EmptyPrompt.into());
        }
        let chars = prompt.chars().count();
        if chars > ASK_MAX_PROMPT_CHARS {
            return Err(Error::PromptTooLarge {
                chars,
                limit: ASK_MAX_PROMPT_CHARS,
            }
            .into());
        }
        let (cancel, _running) = self.take_answer_slot()?;

        let conversation = self
            .conversation(input.conversation_id.as_deref(), prompt)
            .await?;
        let routed = self
            .decide_route(&conversation.history, prompt, input.effective_choice())
            .await?;
        match routed.decision.kind {
            Placement::Cloud => {
                self.answer_in_cloud(input, conversation, routed, cancel, events)
                    .await
            }
            Placement::Local => {
                self.answer_locally(input, conversation, routed, cancel, events)
                    .await
            }
        }
    }
}
