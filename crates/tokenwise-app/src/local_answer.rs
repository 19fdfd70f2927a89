//! The local model's answer: fit the conversation into its context, stream, save, and write
//! the free ledger row (with what the frontier tier would have charged).

use tokenwise_core::{
    CancellationToken, ChatEngine, ChatEvent, ChatMessage, GenerationRequest, GenerationStats,
    MessageStatus, PromptMessage, Role, RouteBadge, RouteDecision,
};

use crate::ask::AskInput;
use crate::context::{answer_budget, fit};
use crate::draft::DraftText;
use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::route::{Conversation, Routed};

/// What the local model is asked for an answer whose question is saved already.
pub(crate) struct LocalAnswerJob {
    pub conversation_id: String,
    pub decision: RouteDecision,
    pub messages: Vec<PromptMessage>,
    pub max_new_tokens: u32,
    pub greedy: bool,
    /// Figures of earlier generations for the same answer (the part summaries of a long
    /// summary): counted into this answer's figures and its ledger row.
    pub earlier: Option<GenerationStats>,
}

impl Tokenwise {
    /// Answers with the local model. Called by [`Tokenwise::ask`] with the answer slot taken.
    pub(crate) async fn answer_locally(
        &self,
        input: AskInput,
        conversation: Conversation,
        routed: Routed,
        cancel: CancellationToken,
        mut events: impl FnMut(ChatEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        let prompt = input.prompt.trim();
        let Conversation { history, pending } = conversation;
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
            route,
        });
        let job = LocalAnswerJob {
            conversation_id,
            decision,
            messages: fitted.messages,
            max_new_tokens,
            greedy: input.greedy,
            earlier: None,
        };
        self.stream_local_answer(engine.as_ref(), job, cancel, events)
            .await
    }

    /// Streams the local model's answer to a question already saved (and announced with
    /// `Started`): the draft as it streams, then the answer saved, its ledger row written and
    /// `Finished` sent, or what arrived saved as failed and `Failed` sent.
    pub(crate) async fn stream_local_answer(
        &self,
        engine: &dyn ChatEngine,
        job: LocalAnswerJob,
        cancel: CancellationToken,
        mut events: impl FnMut(ChatEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        let LocalAnswerJob {
            conversation_id,
            decision,
            messages,
            max_new_tokens,
            greedy,
            earlier,
        } = job;
        let route = RouteBadge::from(&decision);
        let mut answer =
            self.empty_answer(uuid::Uuid::new_v4().to_string(), conversation_id, route);
        let request = GenerationRequest {
            messages,
            max_new_tokens,
            greedy,
        };
        let (tokens_tx, mut tokens_rx) = tokio::sync::mpsc::unbounded_channel();
        let generation = engine.generate(request, tokens_tx, cancel);
        let model = engine.model_name();
        let pieces = std::sync::atomic::AtomicU32::new(0);
        let mut draft = DraftText::begin(
            self,
            &answer,
            &model,
            None,
            // The local engine sends one piece per token.
            Box::new(|_| pieces.load(std::sync::atomic::Ordering::Relaxed)),
        )
        .await;
        let forward = async {
            while let Some(piece) = draft.next_piece(&mut tokens_rx).await {
                pieces.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                draft.push(&piece).await;
                events(ChatEvent::Token { text: piece });
            }
        };
        let (outcome, ()) = tokio::join!(generation, forward);
        answer.content = draft.into_text();

        match outcome {
            Ok(mut outcome) => {
                self.remember_local_speed(&outcome.stats);
                if let Some(earlier) = earlier {
                    outcome.stats = earlier.followed_by(outcome.stats);
                }
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
                    code: error.code(),
                    offer_local_answer: error.code().is_cloud_failure(),
                    message: error.to_string(),
                    partial,
                });
                Err(error)
            }
        }
    }
}
