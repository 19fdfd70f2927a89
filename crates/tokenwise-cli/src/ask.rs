//! `tokenwise ask`.

use crate::output::out;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokenwise_app::StoreError;
use tokenwise_app::{
    AppError, AppPaths, AskInput, AskPlan, CloudApproval, CostPreview, NextStep, RouteQuery,
    Tokenwise,
};
use tokenwise_core::{
    ChatEvent, ChatMessage, GenerationStats, MessageStatus, RouteBadge, SystemClock, UserChoice,
};

#[derive(clap::Args)]
pub struct AskArgs {
    /// The question. Several words are joined with spaces; `-` reads it from stdin.
    #[arg(required = true)]
    prompt: Vec<String>,
    /// Print one JSON object with the answer and its usage figures instead of streaming text.
    #[arg(long)]
    json: bool,
    /// Continue this conversation (its id) instead of starting a new one.
    #[arg(long)]
    conversation: Option<String>,
    /// Sample instead of always taking the most likely token.
    #[arg(long)]
    sample: bool,
    /// Answer with the local model whatever the router says (no routing note).
    #[arg(long, conflicts_with = "tier")]
    local: bool,
    /// Answer with this catalog entry (e.g. `mid`, `frontier`, `local`) instead of the
    /// router's pick. A cloud entry shows its cost and asks before sending.
    #[arg(long, value_name = "ID")]
    tier: Option<String>,
    /// Accept the cloud cost shown without asking (needed without a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Charge a cloud call to this company project (see `tokenwise sync` for yours).
    #[arg(long, value_name = "ID")]
    project: Option<String>,
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    /// False when the answer could not be written to the history (its ids then name nothing).
    saved: bool,
    conversation_id: &'a str,
    message_id: &'a str,
    answer: &'a str,
    status: MessageStatus,
    usage: Option<&'a GenerationStats>,
    route: Option<&'a RouteBadge>,
}

fn read_prompt(words: Vec<String>) -> Result<String, String> {
    if words.len() == 1 && words[0] == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|error| format!("could not read the prompt from stdin: {error}"))?;
        return Ok(text);
    }
    Ok(words.join(" "))
}

pub async fn run(mut args: AskArgs) -> Result<(), String> {
    let prompt = read_prompt(std::mem::take(&mut args.prompt))?;
    let app = Tokenwise::open(AppPaths::from_env(), Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    // Chats the organization's policy says not to keep go before anything else is read.
    if let Err(error) = app.enforce_history_policy(false).await {
        eprintln!("tokenwise: chat history policy: {error}");
    }
    let result = ask(&app, prompt, args).await;
    // What the company's quota server has not heard yet (this answer's usage) goes now if it
    // can: a slow server delays the exit by at most this much, and what is left waits in the
    // outbox for the next command.
    let _ = tokio::time::timeout(Duration::from_secs(2), app.push_outbox()).await;
    // A clean close checkpoints the database's write-ahead log into the database file.
    app.close().await;
    result
}

async fn ask(app: &Tokenwise, prompt: String, args: AskArgs) -> Result<(), String> {
    for warning in app.status().warnings {
        eprintln!("warning: {warning}");
    }
    if !app.history_is_kept() {
        return Err(format!(
            "nothing was asked: the chat history database {} cannot be used (see above), so \
             the answer could not be saved.",
            app.paths().database().display()
        ));
    }
    // Cloud answers do not need the local model; without it routing estimates token counts.
    if let Err(error) = crate::engine::load_active(app).await {
        if args.tier.as_deref().is_none_or(|tier| tier == "local") {
            return Err(error);
        }
        eprintln!("note: the local model is not available ({error})");
    }

    let requested = if args.local {
        UserChoice::ForceLocal
    } else if let Some(id) = &args.tier {
        UserChoice::Entry { id: id.clone() }
    } else {
        UserChoice::Auto
    };
    let plan = app
        .plan(RouteQuery {
            conversation_id: args.conversation.clone(),
            prompt: prompt.clone(),
            choice: requested.clone(),
        })
        .await
        .map_err(|error| error.to_string())?;
    if let Some(reason) = &plan.cloud_blocked {
        eprintln!("warning: {reason}");
    }
    if let Some(asked) = &args.tier {
        // An explicit entry is sent as asked or not at all: never silently another one.
        if plan.decision.tier_id != *asked {
            return Err(format!(
                "not sent: you asked for \"{asked}\", but {}. Nothing was sent; ask again \
                 without --tier, or with --tier {}.",
                plan.decision.explanation, plan.decision.tier_id
            ));
        }
    }
    let (choice, approval) = match decide(&plan, args.yes, args.tier.is_some())? {
        Decision::AsPlanned => (requested, None),
        Decision::Send(approval) => (UserChoice::Auto, Some(approval)),
        Decision::Local => (UserChoice::ForceLocal, None),
        Decision::Cancel => {
            eprintln!("Nothing was sent.");
            return Ok(());
        }
    };
    let input = AskInput {
        conversation_id: args.conversation,
        prompt,
        greedy: !args.sample,
        choice,
        approval,
        project_id: args.project.clone(),
    };
    let streaming = !args.json;
    let asking = app.ask(input, |event| {
        if let (true, ChatEvent::Token { text }) = (streaming, &event) {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    });
    let (answer, interrupted) = stop_on_signal(app, asking).await;
    // An answer that could not be saved (a full disk) is still printed: the person paid for it
    // in time or money. The command then fails, saying so.
    let (answer, not_saved) = shown_answer(answer)?;

    if args.json {
        let json = JsonAnswer {
            saved: not_saved.is_none(),
            conversation_id: &answer.conversation_id,
            message_id: &answer.id,
            answer: &answer.content,
            status: answer.status,
            usage: answer.stats.as_ref(),
            route: answer.route.as_ref(),
        };
        out!(
            "{}",
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
        );
    } else {
        out!();
        if let Some(route) = &answer.route {
            eprintln!("[route: {}]", route.explanation);
            if let (Some(estimated), Some(actual)) = (route.estimated_cost, route.actual_cost) {
                eprintln!("[cost: {actual} (estimated ≈ {estimated})]");
            }
        }
        if let Some(stats) = &answer.stats {
            eprintln!(
                "[{} · {} tokens in, {} out · {:.1} tok/s · first token {} ms · conversation {}]",
                stats.model,
                stats.tokens_in,
                stats.tokens_out,
                stats.decode_tokens_per_second,
                stats.time_to_first_token_ms,
                answer.conversation_id
            );
        }
    }
    ending("answer", not_saved, interrupted)
}

/// The answer to print, and why it was not saved if it was not: an answer that could not be
/// saved (a full disk) is still printed, since the person paid for it in time or money.
pub(crate) fn shown_answer(
    answer: Result<ChatMessage, AppError>,
) -> Result<(ChatMessage, Option<StoreError>), String> {
    match answer {
        Ok(answer) => Ok((answer, None)),
        Err(AppError::NotSaved { answer, cause }) => Ok((*answer, Some(cause))),
        Err(error) => Err(error.to_string()),
    }
}

/// How a command that printed an answer (or a summary: `what`) ends: failing when it was not
/// saved or a signal stopped it, saying so.
pub(crate) fn ending(
    what: &str,
    not_saved: Option<StoreError>,
    interrupted: Option<&str>,
) -> Result<(), String> {
    if let Some(cause) = not_saved {
        return Err(format!(
            "the {what} above was not saved to the chat history: {cause}"
        ));
    }
    match interrupted {
        Some(signal) => Err(format!(
            "interrupted by {signal}: the {what} so far is saved as stopped."
        )),
        None => Ok(()),
    }
}

/// Runs the answer; Ctrl-C (SIGINT), SIGTERM or SIGHUP stops it the way the window's Stop
/// button does, so the text that arrived is saved as a stopped answer (and a cloud call is
/// settled for what it used) before the command exits. Returns the answer and the signal, if
/// one came.
pub(crate) async fn stop_on_signal<F, T>(app: &Tokenwise, asking: F) -> (T, Option<&'static str>)
where
    F: std::future::Future<Output = T>,
{
    tokio::pin!(asking);
    let signal = tokio::select! {
        answer = &mut asking => return (answer, None),
        signal = crate::signals::termination() => signal,
    };
    app.stop();
    (asking.await, Some(signal))
}

/// What to ask for after the plan.
enum Decision {
    /// A local answer, as routed.
    AsPlanned,
    /// The cloud entry, with this approval.
    Send(CloudApproval),
    /// The local model instead of the cloud pick.
    Local,
    /// Nothing at all.
    Cancel,
}

/// Renders the facade's [`NextStep`] on a terminal: prints the preview, and asks where the
/// plan wants a yes. Only the terminal rules live here: without a terminal (and without
/// `--yes`) an explicit `--tier` is refused and an automatic cloud pick is answered locally,
/// so scripts keep working offline and for free.
fn decide(plan: &AskPlan, yes: bool, explicit: bool) -> Result<Decision, String> {
    let Some(preview) = &plan.preview else {
        return Ok(Decision::AsPlanned);
    };
    eprintln!("route: {}", plan.decision.explanation);
    print_preview(preview);
    match &plan.next {
        NextStep::AnswerLocally => Ok(Decision::AsPlanned),
        NextStep::Refused { reason } if explicit => Err(reason.clone()),
        NextStep::Refused { reason } => {
            eprintln!("{reason}\nAnswering locally.");
            Ok(Decision::Local)
        }
        NextStep::SendApproved { approval, notice } => {
            eprintln!("{notice}");
            Ok(Decision::Send(approval.clone()))
        }
        NextStep::Confirm { approval } if yes => Ok(Decision::Send(approval.clone())),
        NextStep::Confirm { approval } => ask_on_terminal(preview, approval, explicit),
    }
}

fn print_preview(preview: &CostPreview) {
    let tokens_in = if preview.tokens_in.exact {
        format!("{} tokens in", preview.tokens_in.tokens)
    } else {
        format!("≈{} tokens in", preview.tokens_in.tokens)
    };
    eprintln!(
        "cloud: {} ({}, {}) · {} [{}] · ≈{} out, at most {}",
        preview.model_name,
        preview.tier_id,
        preview.provider,
        tokens_in,
        preview.tokens_in.method,
        preview.expected_tokens_out,
        preview.max_tokens_out,
    );
    eprintln!("cost:  {}", preview.summary);
    for warning in &preview.warnings {
        eprintln!("warning: {warning}");
    }
}

/// Asks the person at the terminal whether to send.
fn ask_on_terminal(
    preview: &CostPreview,
    approval: &CloudApproval,
    explicit: bool,
) -> Result<Decision, String> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        if explicit {
            return Err(format!(
                "not sent: sending to {} costs up to {} and needs confirmation, but there is no \
                 terminal to ask on. Run it in a terminal, or add --yes to accept the cost shown \
                 above.",
                preview.model_name, preview.max_cost
            ));
        }
        eprintln!(
            "Answering locally instead (no terminal to confirm on; --tier {} --yes sends it).",
            preview.tier_id
        );
        return Ok(Decision::Local);
    }
    eprint!(
        "Send to {}? [y]es / [l]ocal model instead / [N]o: ",
        preview.model_name
    );
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| format!("could not read the answer: {error}"))?;
    Ok(match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Decision::Send(approval.clone()),
        "l" | "local" => Decision::Local,
        _ => Decision::Cancel,
    })
}
