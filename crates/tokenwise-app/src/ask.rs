//! One question, one answer: validate, fit, save the question, stream the answer, save it.

use serde::{Deserialize, Serialize};
use tokenwise_core::chat::title_from_prompt;
use tokenwise_core::{
    CancellationToken, ChatEvent, ChatMessage, Error, GenerationRequest, MessageStatus,
    PromptMessage, Role, RouteBadge, Placement, UserChoice,
};
use ts_rs::TS;

use crate::cloud::CloudApproval;
use crate::context::{answer_budget, fit};
use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::route::Conversation;

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
    /// The user's confirmation of a cloud pick's cost (from the preview); without it a cloud
    /// pick is refused with `confirmation_required` and nothing is sent.
    #[serde(default)]
    pub approval: Option<CloudApproval>,
}

/// Clears the "answer in progress" slot when the answer ends, however it ends.
struct RunningGuard<'a>(&'a Tokenwise);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        *self.0.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Tokenwise {
    /// Answers `input.prompt` with the local model, sending [`ChatEvent`]s to `events` as it
    /// goes, and returns the saved answer.
    ///
    /// Nothing is saved unless the question can be answered (not empty, fits the context, the
    /// model is ready, no other answer running). Once the question is saved, whatever part of
    /// the answer arrives is saved too, as stopped or failed if it did not complete.
    pub async fn ask(
        &self,
        input: AskInput,
        mut events: impl FnMut(ChatEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        let prompt = input.prompt.trim();
        if prompt.is_empty() {
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
        let cancel = CancellationToken::new();
        let _running = {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            if running.is_some() {
                return Err(Error::EngineBusy.into());
            }
            *running = Some(cancel.clone());
            RunningGuard(self)
        };

        let Conversation { history, pending } = self
            .conversation(input.conversation_id.as_deref(), prompt)
            .await?;
        let routed = self
            .decide_route(&history, prompt, input.choice.clone())
            .await?;
        if routed.decision.kind == Placement::Cloud {
            return self
                .ask_cloud(input, history, pending, routed, cancel, events)
                .await;
        }
        let decision = routed.decision;
        let engine = self.engine()?;
        let route = RouteBadge::from(&decision);
        let question = PromptMessage::new(Role::User, prompt);
        let max_new_tokens = answer_budget(engine.context_tokens());
        let prompt_budget = engine.context_tokens().saturating_sub(max_new_tokens);
        let fitted = fit(engine.as_ref(), history, question, prompt_budget).await?;

        let conversation_id = input
            .conversation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let user_message = match pending {
            Some(question) => question,
            None => self.save_question(&input, &conversation_id, prompt).await?,
        };
        events(ChatEvent::Started {
            conversation_id: conversation_id.clone(),
            user_message,
            dropped_history_messages: fitted.dropped_history_messages,
            route: route.clone(),
        });

        let request = GenerationRequest {
            messages: fitted.messages,
            max_new_tokens,
            greedy: input.greedy,
        };
        let (tokens_tx, mut tokens_rx) = tokio::sync::mpsc::unbounded_channel();
        let generation = engine.generate(request, tokens_tx, cancel);
        let forward = async {
            let mut text = String::new();
            while let Some(piece) = tokens_rx.recv().await {
                text.push_str(&piece);
                events(ChatEvent::Token { text: piece });
            }
            text
        };
        let (outcome, text) = tokio::join!(generation, forward);

        let mut answer = ChatMessage {
            id: uuid::Uuid::new_v4().to_string(),
            conversation_id,
            role: Role::Assistant,
            content: text,
            status: MessageStatus::Complete,
            stats: None,
            route: Some(route),
            created_at_ms: self.clock.now_ms(),
        };
        match outcome {
            Ok(outcome) => {
                answer.status = if outcome.stopped {
                    MessageStatus::Stopped
                } else {
                    MessageStatus::Complete
                };
                answer.stats = Some(outcome.stats);
                self.save_answer(&answer, &mut events).await?;
                if let Some(stats) = &answer.stats {
                    // The answer is saved; a ledger row that cannot be written loses only the
                    // "saved" figure of a free answer, so it is reported, not fatal.
                    if let Err(error) = self
                        .record_local_answer(&answer.id, &answer.conversation_id, &decision, stats)
                        .await
                    {
                        eprintln!("tokenwise: could not record the answer's usage: {error}");
                    }
                }
                events(ChatEvent::Finished {
                    message: answer.clone(),
                });
                Ok(answer)
            }
            Err(error) => {
                let error = AppError::from(error);
                let partial = self.save_partial(answer).await;
                events(ChatEvent::Failed {
                    code: error.code().into(),
                    message: error.to_string(),
                    partial,
                });
                Err(error)
            }
        }
    }

    /// Saves the question (and the conversation, when `input` starts a new one).
    pub(crate) async fn save_question(
        &self,
        input: &AskInput,
        conversation_id: &str,
        prompt: &str,
    ) -> Result<ChatMessage, AppError> {
        if input.conversation_id.is_none() {
            self.store
                .create_conversation(
                    conversation_id,
                    &title_from_prompt(prompt),
                    self.clock.now_ms(),
                )
                .await?;
        }
        let message = ChatMessage {
            id: uuid::Uuid::new_v4().to_string(),
            conversation_id: conversation_id.to_string(),
            role: Role::User,
            content: prompt.to_string(),
            status: MessageStatus::Complete,
            stats: None,
            route: None,
            created_at_ms: self.clock.now_ms(),
        };
        self.store.append_message(&message).await?;
        Ok(message)
    }

    /// Saves a finished (complete or stopped) answer; when it cannot be saved, that is the
    /// answer's failure, reported as a `Failed` event too.
    pub(crate) async fn save_answer(
        &self,
        answer: &ChatMessage,
        events: &mut (impl FnMut(ChatEvent) + Send),
    ) -> Result<(), AppError> {
        if let Err(error) = self.store.append_message(answer).await {
            let error = AppError::from(error);
            events(ChatEvent::Failed {
                code: error.code().into(),
                message: format!("The answer could not be saved. {error}"),
                partial: None,
            });
            return Err(error);
        }
        Ok(())
    }

    /// Saves what arrived of an answer that then failed, marked failed; `None` when nothing
    /// arrived. Best effort: the failure is what the user needs to hear about.
    pub(crate) async fn save_partial(&self, mut answer: ChatMessage) -> Option<ChatMessage> {
        answer.status = MessageStatus::Failed;
        if answer.content.is_empty() {
            return None;
        }
        self.store
            .append_message(&answer)
            .await
            .ok()
            .map(|_| answer)
    }
}
