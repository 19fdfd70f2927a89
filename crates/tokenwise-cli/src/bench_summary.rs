//! `tokenwise bench summarize`: quick summarize as a person gets it — the facade's parts and
//! combining on the real default model, in a scratch data folder — for a ~1,000- and a
//! ~4,000-token text: when the first words appear (a part's notes or the summary), when the
//! summary itself starts, and the total. Prints numbers; asserts nothing.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokenwise_app::{AppPaths, SummarizeInput, SummaryEvent, SummaryOrigin, Tokenwise};
use tokenwise_core::{ChatEvent, SystemClock};
use tokenwise_local::{LocalEngine, DEFAULT_MODEL};

use crate::bench::{MEETING, PARAGRAPH};
use crate::output::out;

#[derive(Serialize)]
struct SummaryRun {
    case: &'static str,
    words: u32,
    tokens_in: u32,
    parts: u32,
    /// The first words on screen: the first part's notes, or the summary of a short text.
    first_words_ms: u128,
    /// The summary itself starts (after the parts, for a long text).
    summary_first_token_ms: Option<u128>,
    total_ms: u128,
    summary_tokens: u32,
}

pub async fn run(json: bool) -> Result<(), String> {
    let paths = AppPaths::from_env();
    let scratch =
        std::env::temp_dir().join(format!("tokenwise-bench-summary-{}", std::process::id()));
    let result = bench(&paths, &scratch, json).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn bench(paths: &AppPaths, scratch: &std::path::Path, json: bool) -> Result<(), String> {
    // The history goes to a scratch folder; the model and its fast copy are the real ones.
    let app = Tokenwise::open(
        AppPaths {
            data_dir: scratch.to_path_buf(),
            models_dir: paths.models_dir.clone(),
        },
        Arc::new(SystemClock),
    )
    .await
    .map_err(|error| error.to_string())?;
    app.load_allowed_engine(
        &DEFAULT_MODEL.file_name,
        &DEFAULT_MODEL.display_name,
        LocalEngine::load_default(&paths.models_dir, &paths.fast_weights_dir()),
    )
    .await?;
    let cases = [
        ("summarize-1k", PARAGRAPH.repeat(20)),
        ("summarize-4k", MEETING.repeat(47)),
    ];
    let mut runs = Vec::new();
    for (case, text) in cases {
        let started = Instant::now();
        let mut first_words = None;
        let mut summary_first = None;
        let mut parts = 1;
        let input = SummarizeInput {
            text,
            origin: SummaryOrigin::Stdin,
            confirmed_long: true,
            greedy: true,
        };
        let summary = app
            .summarize(input, |event| match event {
                SummaryEvent::Planned { plan } => parts = plan.parts,
                SummaryEvent::PartToken { .. } => {
                    first_words.get_or_insert(started.elapsed().as_millis());
                }
                SummaryEvent::Answer { event } if matches!(*event, ChatEvent::Token { .. }) => {
                    let now = started.elapsed().as_millis();
                    first_words.get_or_insert(now);
                    summary_first.get_or_insert(now);
                }
                _ => {}
            })
            .await
            .map_err(|error| error.to_string())?;
        let (tokens_in, tokens_out) = summary
            .stats
            .as_ref()
            .map_or((0, 0), |stats| (stats.tokens_in, stats.tokens_out));
        let run = SummaryRun {
            case,
            words: u32::try_from(summary_words(&app, &summary.conversation_id).await).unwrap_or(0),
            tokens_in,
            parts,
            first_words_ms: first_words.unwrap_or_default(),
            summary_first_token_ms: summary_first,
            total_ms: started.elapsed().as_millis(),
            summary_tokens: tokens_out,
        };
        if !json {
            out!(
                "{:<13} {:>5} words {:>2} part(s) · first words {:>6.1} s · summary starts \
                 {:>6.1} s · total {:>6.1} s",
                run.case,
                run.words,
                run.parts,
                run.first_words_ms as f64 / 1000.0,
                run.summary_first_token_ms.unwrap_or_default() as f64 / 1000.0,
                run.total_ms as f64 / 1000.0,
            );
        }
        runs.push(run);
    }
    if json {
        let text = serde_json::to_string_pretty(&runs).map_err(|e| e.to_string())?;
        out!("{text}");
    }
    app.close().await;
    Ok(())
}

/// The words of the text summarized (the saved question, without its first line).
async fn summary_words(app: &Tokenwise, conversation_id: &str) -> usize {
    app.messages(conversation_id)
        .await
        .ok()
        .and_then(|messages| messages.into_iter().next())
        .map_or(0, |question| {
            question
                .content
                .split_once("\n\n")
                .map_or(0, |(_, text)| text.split_whitespace().count())
        })
}
