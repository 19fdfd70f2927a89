//! Quick summarize: the gist of a copied text (or a file), by the local model, free.
//!
//! A text of up to [`PART_MAX_TOKENS`] is summarized in one go. A longer one is split into
//! parts ([`parts`]), each part is summarized, and then the part summaries are
//! (map-reduce), with progress events ("part 3 of 7") so the popup is never a frozen window.
//! A summary expected to take longer than [`ASK_BEFORE_SECONDS`] is only started once the
//! person has said yes ([`SummarizeInput::confirmed_long`]).
//!
//! A summary is a local answer like any other: the question (the whole text) and the summary
//! are saved as a conversation, with the ledger row of a local answer (tokens, and what the
//! frontier tier would have charged), so "Open in chat" only has to open it.

pub mod parts;
pub mod prompts;
pub mod source;

use serde::{Deserialize, Serialize};
use tokenwise_core::chat::title_from_prompt;
use tokenwise_core::{
    CancellationToken, ChatEngine, ChatEvent, ChatMessage, GenerationRequest, GenerationStats,
    MessageStatus, Role, RouteBadge, RouteDecision, UserChoice,
};
use ts_rs::TS;

pub use source::{check_text, clipboard_text, SummaryOrigin, SummaryText};

use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::local_answer::LocalAnswerJob;
use prompts::{PART_SUMMARY_MAX_TOKENS, SUMMARY_MAX_TOKENS};

/// The largest part read at once, in tokens. Smaller than the model's context on purpose:
/// prompt reading slows down as the prompt grows (on a 2-core laptop ~95 tokens/s at 1,000
/// tokens, ~55 at 3,000), so parts of this size finish sooner overall, show the first notes
/// within seconds, and a 135M model summarizes a short text far better than a long one.
pub const PART_MAX_TOKENS: u32 = 1_200;

/// How much of the end of one part the next one repeats, in tokens.
pub const PART_OVERLAP_TOKENS: u32 = 60;

/// A summary expected to take longer than this (seconds) asks before it starts.
pub const ASK_BEFORE_SECONDS: u32 = 120;

/// Speeds assumed until the local model has answered once (tokens/s; a 2-core laptop).
const ASSUMED_PREFILL_TOKENS_PER_SECOND: f32 = 60.0;
const ASSUMED_DECODE_TOKENS_PER_SECOND: f32 = 40.0;

/// Room for the instructions around a part or the notes, in tokens.
const INSTRUCTION_TOKENS: u32 = 80;

/// A request to summarize, from a front end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SummarizeInput {
    pub text: String,
    pub origin: SummaryOrigin,
    /// The person agreed to a summary that takes minutes ([`SummaryPlan::needs_confirmation`]).
    #[serde(default)]
    pub confirmed_long: bool,
    /// Greedy decoding, for reproducible summaries.
    #[serde(default)]
    pub greedy: bool,
}

/// What a summary of a text will involve, before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SummaryPlan {
    /// "1,240 words from the clipboard".
    pub label: String,
    pub words: u32,
    /// The text's tokens for the local model.
    pub tokens: u32,
    /// 1 for a text read in one go.
    pub parts: u32,
    /// A rough estimate from the local model's measured speed.
    pub estimated_seconds: u32,
    /// Longer than [`ASK_BEFORE_SECONDS`]: ask before starting.
    pub needs_confirmation: bool,
    /// A caution that does not stop the summary (the text is not in English).
    pub notice: Option<String>,
}

/// What streams to the popup while a summary is made, in order: `Planned`, then for a long
/// text `PartStarted` and its `PartToken`s per part and `Combining`, then the summary itself
/// as `Answer` events (`Started`, `Token`s, `Finished` or `Failed`; `Started` comes first of all, so the
/// conversation is known from the start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum SummaryEvent {
    Planned {
        plan: SummaryPlan,
    },
    /// Reading part `part` (1-based) of `parts`.
    PartStarted {
        part: u32,
        parts: u32,
    },
    /// A piece of the current part's notes.
    PartToken {
        text: String,
    },
    /// Every part is read; the summary of the notes comes next.
    Combining {
        parts: u32,
    },
    /// The saved conversation and the summary (boxed: a chat event carries whole messages).
    Answer {
        event: Box<ChatEvent>,
    },
}

impl SummaryEvent {
    /// An `Answer` event.
    pub fn answer(event: ChatEvent) -> SummaryEvent {
        SummaryEvent::Answer {
            event: Box::new(event),
        }
    }
}

/// Text taken from the clipboard, ready to plan and summarize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CopiedText {
    pub text: String,
    pub origin: SummaryOrigin,
}

impl CopiedText {
    /// The text a clipboard read holds, or why there is nothing to summarize.
    pub fn from_clipboard(content: tokenwise_core::ClipboardContent) -> Result<Self, AppError> {
        clipboard_text(content)
            .map(|(text, origin)| CopiedText { text, origin })
            .map_err(AppError::NothingToSummarize)
    }
}

/// The main window is asked to open a summary's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct OpenInChat {
    pub conversation_id: String,
    /// "Ask cloud": the catalog entry to ask for a better summary (the cost dialog comes
    /// first, as for any cloud answer); `None` to only open the conversation.
    pub cloud_tier: Option<String>,
    /// What to ask that entry ([`ASK_CLOUD_PROMPT`]), with `cloud_tier`.
    pub cloud_prompt: Option<String>,
}

/// What the main window asks the cloud tier after "Ask cloud" in the summary popup (the
/// conversation holds the whole text).
pub const ASK_CLOUD_PROMPT: &str =
    "Summarize the text above more thoroughly: the main points, decisions, numbers and any \
     actions asked for.";

/// The plan and the parts of a text.
struct Layout {
    plan: SummaryPlan,
    /// Byte ranges of the text; one range for a text read in one go.
    parts: Vec<std::ops::Range<usize>>,
}

impl Tokenwise {
    /// "Ask cloud" in the summary popup: the middle tier's catalog entry, when it is a cloud
    /// one (the cost dialog still comes before anything is sent).
    pub fn open_in_chat(&self, conversation_id: String, ask_cloud: bool) -> OpenInChat {
        let cloud_tier = ask_cloud
            .then(|| {
                self.triage
                    .catalog()
                    .for_tier(tokenwise_core::Difficulty::Medium)
                    .filter(|entry| entry.kind == tokenwise_core::Placement::Cloud)
                    .map(|entry| entry.id.clone())
            })
            .flatten();
        OpenInChat {
            conversation_id,
            cloud_prompt: cloud_tier.as_ref().map(|_| ASK_CLOUD_PROMPT.to_string()),
            cloud_tier,
        }
    }

    /// What summarizing `text` would involve (parts, time), or why it cannot be summarized.
    pub async fn plan_summary(
        &self,
        text: &str,
        origin: &SummaryOrigin,
    ) -> Result<SummaryPlan, AppError> {
        let checked = check_text(text, origin).map_err(AppError::NothingToSummarize)?;
        let engine = self.engine()?;
        Ok(self.summary_layout(engine.as_ref(), &checked).await?.plan)
    }

    /// Summarizes `input.text` with the local model, streaming [`SummaryEvent`]s, and returns
    /// the saved summary (its `conversation_id` opens it in the chat).
    pub async fn summarize(
        &self,
        input: SummarizeInput,
        mut events: impl FnMut(SummaryEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        self.check_quick_summarize_allowed()?;
        let checked =
            check_text(&input.text, &input.origin).map_err(AppError::NothingToSummarize)?;
        let engine = self.engine()?;
        let layout = self.summary_layout(engine.as_ref(), &checked).await?;
        if layout.plan.needs_confirmation && !input.confirmed_long {
            return Err(AppError::LongSummary(format!(
                "Summarizing {} takes about {} on this laptop ({} parts). Start it anyway?",
                layout.plan.label,
                duration_words(layout.plan.estimated_seconds),
                layout.plan.parts
            )));
        }
        let (cancel, _running) = self.take_answer_slot()?;
        let mut decision = self
            .decide_route(&[], &checked.text, UserChoice::ForceLocal)
            .await?
            .decision;
        // The classifier's verdict on a pasted text says little here: the badge says what
        // this was.
        decision.explanation = format!(
            "quick summary of {} → local {} (free)",
            checked.label, decision.model_name
        );
        events(SummaryEvent::Planned {
            plan: layout.plan.clone(),
        });
        let (conversation_id, user_message) = self.save_summary_question(&checked).await?;
        events(SummaryEvent::answer(ChatEvent::Started {
            conversation_id: conversation_id.clone(),
            user_message,
            dropped_history_messages: 0,
            route: RouteBadge::from(&decision),
        }));

        let text = checked.text.as_str();
        let (messages, earlier) = if let [whole] = layout.parts.as_slice() {
            (prompts::whole_text(&text[whole.clone()]), None)
        } else {
            let notes = self
                .summarize_parts(
                    engine.as_ref(),
                    text,
                    &layout.parts,
                    &input,
                    &cancel,
                    &mut events,
                )
                .await;
            let (notes, earlier) = match notes {
                PartNotes::Done { notes, stats } => (notes, stats),
                PartNotes::Stopped { notes, stats } => {
                    return self
                        .save_notes_as_stopped(&conversation_id, &decision, notes, stats, events)
                        .await;
                }
                PartNotes::Failed { notes, error } => {
                    let mut answer = self.empty_answer(
                        uuid::Uuid::new_v4().to_string(),
                        conversation_id,
                        RouteBadge::from(&decision),
                    );
                    answer.content = notes_text(&notes);
                    let partial = self.save_partial(answer).await;
                    events(SummaryEvent::answer(ChatEvent::Failed {
                        code: error.code(),
                        message: error.to_string(),
                        partial,
                        offer_local_answer: false,
                    }));
                    return Err(error);
                }
            };
            events(SummaryEvent::Combining {
                parts: layout.plan.parts,
            });
            (prompts::combine(&notes), earlier)
        };
        let job = LocalAnswerJob {
            conversation_id,
            decision,
            messages,
            max_new_tokens: SUMMARY_MAX_TOKENS,
            greedy: input.greedy,
            earlier,
        };
        self.stream_local_answer(engine.as_ref(), job, cancel, |event| {
            events(SummaryEvent::answer(event))
        })
        .await
    }

    /// Counts the text's tokens and splits it when it is longer than one part.
    async fn summary_layout(
        &self,
        engine: &dyn ChatEngine,
        checked: &SummaryText,
    ) -> Result<Layout, AppError> {
        let text = checked.text.as_str();
        let tokens = engine
            .count_prompt_tokens(&[tokenwise_core::PromptMessage::new(Role::User, text)])
            .await?;
        let context = engine.context_tokens();
        let part_max = PART_MAX_TOKENS
            .min(context.saturating_sub(PART_SUMMARY_MAX_TOKENS + INSTRUCTION_TOKENS))
            .max(1);
        let parts = if tokens <= part_max {
            std::iter::once(0..text.len()).collect()
        } else {
            // The tokenizer is exact but whole-text only; parts are cut by this text's own
            // characters per token, with a tenth to spare.
            let chars = text.chars().count().max(1) as f64;
            let chars_per_token = chars / f64::from(tokens.max(1));
            let estimate = |piece: &str| {
                ((piece.chars().count() as f64 / chars_per_token) * 1.1).ceil() as usize
            };
            parts::split_into_parts(
                text,
                part_max as usize,
                PART_OVERLAP_TOKENS as usize,
                estimate,
            )
        };
        let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let notes_budget = context.saturating_sub(SUMMARY_MAX_TOKENS + INSTRUCTION_TOKENS);
        if count > 1 && count.saturating_mul(PART_SUMMARY_MAX_TOKENS) > notes_budget {
            let most_parts = (notes_budget / PART_SUMMARY_MAX_TOKENS).max(1);
            return Err(AppError::SummaryTooLong(format!(
                "{} is too long for the local model to summarize ({count} parts; it can combine \
                 at most {most_parts}). Summarize a part of it, or ask a cloud model.",
                checked.label
            )));
        }
        let (prefill, decode) = self.local_speed().unwrap_or((
            ASSUMED_PREFILL_TOKENS_PER_SECOND,
            ASSUMED_DECODE_TOKENS_PER_SECOND,
        ));
        let (read, written) = if count == 1 {
            (tokens + INSTRUCTION_TOKENS, SUMMARY_MAX_TOKENS)
        } else {
            let notes = count * PART_SUMMARY_MAX_TOKENS;
            (
                tokens + count * (PART_OVERLAP_TOKENS + INSTRUCTION_TOKENS) + notes,
                notes + SUMMARY_MAX_TOKENS,
            )
        };
        let seconds = read as f32 / prefill.max(1.0) + written as f32 / decode.max(1.0);
        let estimated_seconds = seconds.ceil() as u32;
        Ok(Layout {
            plan: SummaryPlan {
                label: checked.label.clone(),
                words: u32::try_from(checked.words).unwrap_or(u32::MAX),
                tokens,
                parts: count,
                estimated_seconds,
                needs_confirmation: estimated_seconds > ASK_BEFORE_SECONDS,
                notice: checked.notice.clone(),
            },
            parts,
        })
    }

    /// Saves the question: the whole text, in a new conversation titled after it.
    async fn save_summary_question(
        &self,
        checked: &SummaryText,
    ) -> Result<(String, ChatMessage), AppError> {
        let conversation_id = uuid::Uuid::new_v4().to_string();
        let title = format!("Summary: {}", title_from_prompt(&checked.text));
        let now = self.clock.now_ms();
        self.store
            .create_conversation(&conversation_id, &title, now)
            .await?;
        let message = ChatMessage {
            id: uuid::Uuid::new_v4().to_string(),
            conversation_id: conversation_id.clone(),
            role: Role::User,
            content: format!(
                "Summarize this text ({}):\n\n{}",
                checked.label, checked.text
            ),
            status: MessageStatus::Complete,
            stats: None,
            route: None,
            created_at_ms: now,
        };
        self.store.append_message(&message).await?;
        Ok((conversation_id, message))
    }

    /// The map step: each part's notes, streamed as `PartToken`s.
    async fn summarize_parts(
        &self,
        engine: &dyn ChatEngine,
        text: &str,
        parts: &[std::ops::Range<usize>],
        input: &SummarizeInput,
        cancel: &CancellationToken,
        events: &mut (impl FnMut(SummaryEvent) + Send),
    ) -> PartNotes {
        let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let mut notes = Vec::with_capacity(parts.len());
        let mut stats: Option<GenerationStats> = None;
        for (index, range) in parts.iter().enumerate() {
            if cancel.is_cancelled() {
                return PartNotes::Stopped { notes, stats };
            }
            let part = u32::try_from(index + 1).unwrap_or(u32::MAX);
            events(SummaryEvent::PartStarted { part, parts: count });
            let request = GenerationRequest {
                messages: prompts::one_part(&text[range.clone()], index + 1, parts.len()),
                max_new_tokens: PART_SUMMARY_MAX_TOKENS,
                greedy: input.greedy,
            };
            let (tokens_tx, mut tokens_rx) = tokio::sync::mpsc::unbounded_channel();
            let generation = engine.generate(request, tokens_tx, cancel.clone());
            let mut note = String::new();
            let forward = async {
                while let Some(piece) = tokens_rx.recv().await {
                    note.push_str(&piece);
                    events(SummaryEvent::PartToken { text: piece });
                }
            };
            let (outcome, ()) = tokio::join!(generation, forward);
            match outcome {
                Ok(outcome) => {
                    self.remember_local_speed(&outcome.stats);
                    stats = Some(match stats {
                        Some(before) => before.followed_by(outcome.stats),
                        None => outcome.stats,
                    });
                    notes.push(note);
                    if outcome.stopped {
                        return PartNotes::Stopped { notes, stats };
                    }
                }
                Err(error) => {
                    notes.push(note);
                    return PartNotes::Failed {
                        notes,
                        error: error.into(),
                    };
                }
            }
        }
        PartNotes::Done { notes, stats }
    }

    /// Stop pressed while the parts were read: the notes so far are the answer, stopped.
    async fn save_notes_as_stopped(
        &self,
        conversation_id: &str,
        decision: &RouteDecision,
        notes: Vec<String>,
        stats: Option<GenerationStats>,
        mut events: impl FnMut(SummaryEvent) + Send,
    ) -> Result<ChatMessage, AppError> {
        let mut answer = self.empty_answer(
            uuid::Uuid::new_v4().to_string(),
            conversation_id.to_string(),
            RouteBadge::from(decision),
        );
        answer.content = notes_text(&notes);
        answer.status = MessageStatus::Stopped;
        answer.stats = stats;
        let mut chat_events = |event| events(SummaryEvent::answer(event));
        self.save_answer(&answer, &mut chat_events).await?;
        if let Some(stats) = &answer.stats {
            if let Err(error) = self
                .record_local_answer(&answer.id, conversation_id, decision, stats)
                .await
            {
                eprintln!("tokenwise: could not record the summary's usage: {error}");
            }
        }
        chat_events(ChatEvent::Finished {
            message: answer.clone(),
        });
        Ok(answer)
    }
}

/// How the map step ended.
enum PartNotes {
    Done {
        notes: Vec<String>,
        stats: Option<GenerationStats>,
    },
    Stopped {
        notes: Vec<String>,
        stats: Option<GenerationStats>,
    },
    Failed {
        notes: Vec<String>,
        error: AppError,
    },
}

/// The notes of the parts read so far, as the text of a stopped or failed answer.
fn notes_text(notes: &[String]) -> String {
    notes
        .iter()
        .enumerate()
        .filter(|(_, note)| !note.trim().is_empty())
        .map(|(i, note)| format!("Part {}: {}", i + 1, note.trim()))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// 45 → "45 seconds", 200 → "3 minutes", 4000 → "67 minutes".
fn duration_words(seconds: u32) -> String {
    if seconds < 90 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", seconds.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_words(45), "45 seconds");
        assert_eq!(duration_words(200), "4 minutes");
    }

    #[test]
    fn notes_of_stopped_parts_skip_empty_ones() {
        let notes = vec![" First. ".to_string(), String::new(), "Third.".to_string()];
        assert_eq!(notes_text(&notes), "Part 1: First.\n\nPart 3: Third.");
    }
}
