//! Saving a question and its answer: the question before anything is generated, the answer
//! once it ends (complete or stopped; its draft while it streams is `crate::draft`), and
//! whatever arrived of an answer that failed. Used by
//! both the local and the cloud answer.

use tokenwise_core::chat::title_from_prompt;
use tokenwise_core::{ChatEvent, ChatMessage, MessageStatus, Role, RouteBadge};

use crate::ask::AskInput;
use crate::error::AppError;
use crate::facade::Tokenwise;

impl Tokenwise {
    /// The answer about to stream: an empty assistant message with its route, stamped now.
    pub(crate) fn empty_answer(
        &self,
        id: String,
        conversation_id: String,
        route: RouteBadge,
    ) -> ChatMessage {
        ChatMessage {
            id,
            conversation_id,
            role: Role::Assistant,
            content: String::new(),
            status: MessageStatus::Complete,
            stats: None,
            route: Some(route),
            created_at_ms: self.clock.now_ms(),
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

    /// Saves a finished (complete or stopped) answer (deleting its draft). When it cannot be
    /// saved (a full disk), the answer is still the user's: the error carries it, and the
    /// `Failed` event shows it as the partial text, so nothing they saw disappears.
    pub(crate) async fn save_answer(
        &self,
        answer: &ChatMessage,
        events: &mut (impl FnMut(ChatEvent) + Send),
    ) -> Result<(), AppError> {
        if let Err(cause) = self.store.append_message(answer).await {
            let error = AppError::NotSaved {
                answer: Box::new(answer.clone()),
                cause,
            };
            events(ChatEvent::Failed {
                code: error.code(),
                offer_local_answer: false,
                message: error.to_string(),
                partial: Some(answer.clone()),
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
            // Its draft would otherwise come back as an empty answer on the next start.
            let _ = self.store.discard_draft(&answer.id).await;
            return None;
        }
        self.store
            .append_message(&answer)
            .await
            .ok()
            .map(|_| answer)
    }
}
