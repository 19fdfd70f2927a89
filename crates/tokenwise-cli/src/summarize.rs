//! `tokenwise summarize [FILE | - | --clipboard]`: the gist of a text by the local model,
//! streamed to stdout (the window's quick summarize, from a terminal or a desktop shortcut).
//!
//! With `--clipboard` while the desktop app runs (and a display is there), the running app
//! shows its summary popup instead, so a desktop shortcut bound to this command (on Wayland,
//! where global shortcuts do not reach apps) behaves like the app's own shortcut.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokenwise_app::summarize::clipboard_text;
use tokenwise_app::{
    AppPaths, SummarizeInput, SummaryEvent, SummaryOrigin, SummaryPlan, Tokenwise,
    ASK_MAX_PROMPT_CHARS,
};
use tokenwise_core::{ChatEvent, GenerationStats, MessageStatus, SystemClock};

use crate::output::out;

/// The largest file or standard input read: four bytes for each character a summary reads.
const MAX_INPUT_BYTES: u64 = 4 * ASK_MAX_PROMPT_CHARS as u64;

#[derive(clap::Args)]
pub struct SummarizeArgs {
    /// A text file to summarize; `-` reads standard input.
    #[arg(required_unless_present = "clipboard", conflicts_with = "clipboard")]
    file: Option<PathBuf>,
    /// Summarize what is copied (or, on Linux, the highlighted text when nothing is copied).
    /// While the desktop app runs, its summary popup opens instead.
    #[arg(long)]
    clipboard: bool,
    /// Print here even when the desktop app runs.
    #[arg(long, requires = "clipboard")]
    no_popup: bool,
    /// Print one JSON object with the summary and its figures instead of streaming text.
    #[arg(long)]
    json: bool,
    /// Start a summary that takes minutes without asking.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Sample instead of always taking the most likely token.
    #[arg(long)]
    sample: bool,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    saved: bool,
    conversation_id: &'a str,
    message_id: &'a str,
    summary: &'a str,
    status: MessageStatus,
    plan: Option<&'a SummaryPlan>,
    usage: Option<&'a GenerationStats>,
}

pub async fn run(args: SummarizeArgs) -> Result<(), String> {
    if args.clipboard && !args.no_popup && crate::desktop::show_summary_popup() {
        eprintln!("The running Tokenwise app is summarizing the clipboard.");
        return Ok(());
    }
    let (text, origin) = read_input(&args)?;
    let app = Tokenwise::open(AppPaths::from_env(), Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    if let Err(error) = app.enforce_history_policy(false).await {
        eprintln!("tokenwise: chat history policy: {error}");
    }
    let result = summarize(&app, text, origin, &args).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), app.push_outbox()).await;
    app.close().await;
    result
}

/// The text and where it came from.
fn read_input(args: &SummarizeArgs) -> Result<(String, SummaryOrigin), String> {
    if args.clipboard {
        return clipboard_text(tokenwise_clipboard::read_clipboard(true));
    }
    match args.file.as_deref() {
        Some(path) if path == Path::new("-") => Ok((read_stdin()?, SummaryOrigin::Stdin)),
        Some(path) => Ok((
            read_file(path)?,
            SummaryOrigin::File {
                name: path.display().to_string(),
            },
        )),
        None => Err("say what to summarize: a FILE, `-` for standard input, or --clipboard".into()),
    }
}

fn read_stdin() -> Result<String, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("could not read standard input: {error}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large("standard input"));
    }
    String::from_utf8(bytes).map_err(|_| {
        "standard input is not UTF-8 text (a binary file?); nothing was summarized.".into()
    })
}

fn read_file(path: &Path) -> Result<String, String> {
    let name = path.display();
    let metadata =
        std::fs::metadata(path).map_err(|error| format!("cannot read {name}: {error}"))?;
    // Checked before opening: opening a FIFO blocks until someone writes to it.
    if !metadata.is_file() {
        return Err(format!(
            "{name} is not a regular file (a folder, pipe or device). Give a text file, or pipe \
             the text to `tokenwise summarize -`."
        ));
    }
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(too_large(&name.to_string()));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|error| format!("cannot read {name}: {error}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(&name.to_string()));
    }
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "{name} is not UTF-8 text (a PDF, an office document, an image?). Save or export \
             it as plain text and summarize that."
        )
    })
}

fn too_large(what: &str) -> String {
    format!(
        "{what} is larger than {} KB; a quick summary reads at most {} characters. Summarize a \
         part of it.",
        MAX_INPUT_BYTES / 1_000,
        ASK_MAX_PROMPT_CHARS
    )
}

async fn summarize(
    app: &Tokenwise,
    text: String,
    origin: SummaryOrigin,
    args: &SummarizeArgs,
) -> Result<(), String> {
    for warning in app.status().warnings {
        eprintln!("warning: {warning}");
    }
    if !app.history_is_kept() {
        return Err(format!(
            "nothing was summarized: the chat history database {} cannot be used (see above).",
            app.paths().database().display()
        ));
    }
    crate::engine::load_active(app).await?;
    let plan = app
        .plan_summary(&text, &origin)
        .await
        .map_err(|error| error.to_string())?;
    let confirmed = plan.needs_confirmation && (args.yes || confirm_on_terminal(&plan)?);
    if plan.needs_confirmation && !confirmed {
        eprintln!("Nothing was summarized.");
        return Ok(());
    }
    let input = SummarizeInput {
        text,
        origin,
        confirmed_long: confirmed,
        greedy: !args.sample,
    };
    let streaming = !args.json;
    let mut planned = None;
    let summarizing = app.summarize(input, |event| {
        if !streaming {
            if let SummaryEvent::Planned { plan } = event {
                planned = Some(plan);
            }
            return;
        }
        match event {
            SummaryEvent::Planned { plan } => {
                let parts = if plan.parts > 1 {
                    format!(", {} parts", plan.parts)
                } else {
                    String::new()
                };
                eprintln!(
                    "[summarizing {}{parts}, about {} s]",
                    plan.label, plan.estimated_seconds
                );
                if let Some(notice) = &plan.notice {
                    eprintln!("note: {notice}");
                }
                planned = Some(plan);
            }
            SummaryEvent::PartStarted { part, parts } => eprint!("\n[part {part} of {parts}] "),
            SummaryEvent::PartToken { text } => eprint!("{text}"),
            SummaryEvent::Combining { .. } => eprintln!("\n[summary of the parts]"),
            SummaryEvent::Answer { event } => {
                if let ChatEvent::Token { text } = *event {
                    let mut out = std::io::stdout().lock();
                    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
                    if let Err(error) = written {
                        crate::output::exit_on_write_error(&error);
                    }
                }
            }
        }
    });
    let (answer, interrupted) = crate::ask::stop_on_signal(app, summarizing).await;
    let (answer, not_saved) = crate::ask::shown_answer(answer)?;
    if args.json {
        let json = JsonSummary {
            saved: not_saved.is_none(),
            conversation_id: &answer.conversation_id,
            message_id: &answer.id,
            summary: &answer.content,
            status: answer.status,
            plan: planned.as_ref(),
            usage: answer.stats.as_ref(),
        };
        out!(
            "{}",
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
        );
    } else {
        out!();
        if let Some(stats) = &answer.stats {
            eprintln!(
                "[{} · {} tokens in, {} out · first words after {:.1} s · {:.1} s in all · \
                 conversation {}]",
                stats.model,
                stats.tokens_in,
                stats.tokens_out,
                f64::from(stats.time_to_first_token_ms) / 1000.0,
                f64::from(stats.total_ms) / 1000.0,
                answer.conversation_id
            );
        }
    }
    crate::ask::ending("summary", not_saved, interrupted)
}

/// Asks at the terminal before a summary that takes minutes; without a terminal, says how to
/// start it anyway.
fn confirm_on_terminal(plan: &SummaryPlan) -> Result<bool, String> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(format!(
            "not started: summarizing {} takes about {} s on this laptop ({} parts). Add --yes \
             to start it anyway.",
            plan.label, plan.estimated_seconds, plan.parts
        ));
    }
    eprint!(
        "Summarizing {} takes about {} s ({} parts). Start? [y/N]: ",
        plan.label, plan.estimated_seconds, plan.parts
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|error| format!("could not read the answer: {error}"))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
