//! The cloud answer: check the user's approval, reserve → stream → settle (or release).
//!
//! Nothing leaves the machine unless the [`AskInput::approval`] covers the request's maximum
//! cost for the same catalog entry (the user saw the preview and confirmed), or the budget
//! file's auto-approve rule covers it (`CostPreview::auto_approved`). A request whose
//! maximum cost does not fit a hard budget is refused before anything is sent, approved or
//! not.
//!
//! On approval: reserve the maximum in every budget window (atomically; a concurrent request
//! can take the last of a budget, and then this one is refused), stream the answer, then
//! settle to the actual cost: the gateway's figure (LiteLLM's cost header or stream
//! `usage.cost`), else the provider's usage priced with the catalog, else (a cancelled stream
//! that never reported usage) the counted prompt and the answer so far, priced the same way.
//! On failure the reservation is released: a failed call costs nothing in the ledger.

use std::time::Instant;

use tokenwise_cloud::{cost_from_usage, count_text_tokens, CloudClient, CloudRequest, Usage};
use tokenwise_core::{
    CancellationToken, ChatEvent, ChatMessage, Error, GenerationStats, MessageStatus, RouteBadge,
};
use tokenwise_sync::SyncError;

use crate::ask::AskInput;
use crate::company::CompanyHold;
use crate::draft::{cloud_charge, DraftText};
use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::plan::with_question;
use crate::route::{Conversation, Routed};

impl Tokenwise {
    /// Answers with the cloud entry the route picked, if the user approved its cost. Called
    /// by [`Tokenwise::ask`] with the answer slot already taken.
    pub(crate) async fn answer_in_cloud(
        &self,
        input: AskInput,
        conversation: Conversation,
        routed: Routed,
        cancel: CancellationToken,
        mut events: impl FnMut(ChatEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        let prompt = input.prompt.trim();
        if let Some(reason) = routed.cloud_blocked {
            // The router never picks a cloud tier while blocked; this is the second lock.
            return Err(AppError::CloudBlocked(reason));
        }
        let Conversation { history, pending } = conversation;
        let messages = with_question(&history, prompt);
        let (preview, entry, provider) = self.cloud_preview(&routed, &messages)?;
        if let Some(reason) = &preview.blocked_reason {
            return Err(AppError::CloudNotAffordable(reason.clone()));
        }
        let approved = preview.auto_approved
            || input.approval.as_ref().is_some_and(|approval| {
                approval.tier_id == preview.tier_id && approval.max_cost >= preview.max_cost
            });
        if !approved {
            return Err(AppError::ConfirmationRequired {
                model: preview.model_name.clone(),
                summary: preview.summary.clone(),
            });
        }
        let needed = u64::from(preview.tokens_in.tokens) + u64::from(entry.max_output_tokens);
        if needed > u64::from(entry.context_tokens) {
            return Err(Error::PromptTooLong {
                model: entry.display_name.clone(),
                prompt_tokens: preview.tokens_in.tokens,
                limit_tokens: entry.context_tokens.saturating_sub(entry.max_output_tokens),
            }
            .into());
        }
        let key = self.load_key(&provider.id).await?;
        let client = CloudClient::for_provider(&provider, key, self.cloud_timeouts)?;

        // Reserve before anything is saved or sent: a refusal leaves no trace.
        let conversation_id = input
            .conversation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let answer_id = uuid::Uuid::new_v4().to_string();
        let mut reserved = routed.decision;
        reserved.estimated_cost = preview.estimated_cost;
        reserved.max_cost = preview.max_cost;
        // The company's server holds it first (a shared hard limit across every laptop), then
        // the local ledger; either refusal sends nothing.
        let hold = self
            .hold_on_company(
                &answer_id,
                &reserved.tier_id,
                preview.max_cost.micros(),
                input.project_id.as_deref(),
            )
            .await
            .map_err(company_refusal)?;
        if let Err(error) = self
            .reserve_cloud(&answer_id, Some(&conversation_id), &reserved)
            .await
        {
            if let Some(hold) = &hold {
                let _ = self.release_on_company(hold).await;
            }
            return Err(error);
        }

        let route = RouteBadge::from(&reserved);
        let saved = match pending {
            Some(question) => Ok(question),
            None => self.save_question(&input, &conversation_id, prompt).await,
        };
        let user_message = match saved {
            Ok(message) => message,
            Err(error) => {
                self.release_quietly(&answer_id, hold.as_ref()).await;
                return Err(error);
            }
        };
        events(ChatEvent::Started {
            conversation_id: conversation_id.clone(),
            user_message,
            dropped_history_messages: 0,
            route: route.clone(),
        });

        let mut answer = self.empty_answer(answer_id.clone(), conversation_id, route);
        // Written as it streams: a process killed mid-answer is charged for this on the next
        // start (see `crate::draft`), so the company is never under-charged.
        let mut draft = DraftText::begin(
            self,
            &answer,
            &entry.model,
            Some(cloud_charge(preview.tokens_in.tokens, entry.price)),
            Box::new(|text| count_text_tokens(provider.api, &entry.model, text)),
        )
        .await;
        let request = CloudRequest {
            model: entry.model.clone(),
            messages,
            max_tokens: entry.max_output_tokens,
        };
        let started = Instant::now();
        let mut first_token_ms: Option<u32> = None;
        let (pieces_tx, mut pieces_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let call = async {
            let result = client
                .stream_chat(
                    &request,
                    |piece| {
                        first_token_ms.get_or_insert_with(|| elapsed_ms(started));
                        let _ = pieces_tx.send(piece.to_string());
                    },
                    cancel,
                )
                .await;
            drop(pieces_tx);
            result
        };
        let forward = async {
            while let Some(piece) = draft.next_piece(&mut pieces_rx).await {
                draft.push(&piece).await;
                events(ChatEvent::Token { text: piece });
            }
        };
        let (result, ()) = tokio::join!(call, forward);
        let streamed = draft.into_text();

        match result {
            Ok(outcome) => {
                // No usage back (a stream stopped early): the prompt was sent, so its counted
                // tokens and whatever part of the answer arrived are charged at list price.
                let usage = outcome.usage.unwrap_or_else(|| Usage {
                    prompt_tokens: preview.tokens_in.tokens,
                    completion_tokens: count_text_tokens(provider.api, &entry.model, &outcome.text),
                });
                let cost = outcome
                    .actual_cost
                    .unwrap_or_else(|| cost_from_usage(entry.price, usage));
                let total_ms = elapsed_ms(started);
                answer.content = outcome.text;
                answer.status = if outcome.stopped {
                    MessageStatus::Stopped
                } else {
                    MessageStatus::Complete
                };
                answer.stats = Some(GenerationStats {
                    model: outcome.model.unwrap_or_else(|| entry.model.clone()),
                    tokens_in: usage.prompt_tokens,
                    tokens_out: usage.completion_tokens,
                    time_to_first_token_ms: first_token_ms.unwrap_or(total_ms),
                    prefill_tokens_per_second: 0.0,
                    decode_tokens_per_second: per_second(usage.completion_tokens, total_ms),
                    total_ms,
                });
                if let Some(route) = answer.route.as_mut() {
                    route.actual_cost = Some(cost);
                }
                // The money is spent whether or not the answer can be saved: settle first.
                let settled = self
                    .settle_cloud(
                        &answer_id,
                        usage.prompt_tokens,
                        usage.completion_tokens,
                        cost,
                    )
                    .await;
                if let Some(hold) = &hold {
                    // Through the outbox: a server that cannot be reached now hears it later.
                    if let Err(error) = self
                        .settle_on_company(
                            hold,
                            &entry.model,
                            usage.prompt_tokens,
                            usage.completion_tokens,
                            cost.micros(),
                        )
                        .await
                    {
                        eprintln!("tokenwise: could not queue the cost for the company: {error}");
                    }
                }
                self.save_answer(&answer, &mut events).await?;
                if let Err(error) = settled {
                    eprintln!("tokenwise: could not record the answer's cost: {error}");
                }
                events(ChatEvent::Finished {
                    message: answer.clone(),
                });
                if hold.is_some() {
                    // After the answer is shown: tell the server and pull its figures, so the
                    // meter includes this call (a slow server never delays the answer).
                    if let Err(error) = self.sync_company().await {
                        eprintln!("tokenwise: company sync after a cloud call: {error}");
                    }
                }
                Ok(answer)
            }
            Err(cloud_error) => {
                self.release_quietly(&answer_id, hold.as_ref()).await;
                let error = AppError::from(cloud_error);
                answer.content = streamed;
                let partial = self.save_partial(answer).await;
                events(ChatEvent::Failed {
                    code: error.code(),
                    offer_local_answer: error.code().is_cloud_failure(),
                    message: format!(
                        "{error} Nothing was charged; you can answer locally instead."
                    ),
                    partial,
                });
                Err(error)
            }
        }
    }

    async fn release_quietly(&self, request_id: &str, hold: Option<&CompanyHold>) {
        if let Err(error) = self.release_cloud(request_id).await {
            // It expires on its own after RESERVATION_TTL_MS.
            eprintln!("tokenwise: could not release a budget reservation: {error}");
        }
        if let Some(hold) = hold {
            if let Err(error) = self.release_on_company(hold).await {
                eprintln!("tokenwise: could not queue the company hold's release: {error}");
            }
        }
    }
}

/// The server's answer to a hold, for the person: an outage blocks the cloud (nothing was
/// sent; local answers go on), a full window is "over budget".
fn company_refusal(error: AppError) -> AppError {
    match error {
        AppError::Company(SyncError::OverBudget { message }) => AppError::OverBudget(message),
        AppError::Company(error) if error.is_transient() => AppError::CloudBlocked(format!(
            "{error} Nothing was sent: cloud answers wait for the company quota server, and \
             local answers work as usual."
        )),
        other => other,
    }
}

fn elapsed_ms(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_millis()).unwrap_or(u32::MAX)
}

fn per_second(tokens: u32, ms: u32) -> f32 {
    if ms == 0 {
        0.0
    } else {
        tokens as f32 * 1000.0 / ms as f32
    }
}
