//! `tokenwise ask`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use serde::Serialize;
use tokenwise_app::{AppPaths, AskInput, CloudApproval, CostPreview, RouteQuery, Tokenwise};
use tokenwise_core::{
    ChatEvent, GenerationStats, MessageStatus, RouteBadge, SystemClock, UserChoice,
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
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
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

pub async fn run(args: AskArgs) -> Result<(), String> {
    let prompt = read_prompt(args.prompt)?;
    let app = Tokenwise::open(AppPaths::from_env(), Arc::new(SystemClock))
        .await
        .map_err(|error| error.to_string())?;
    for warning in app.status().warnings {
        eprintln!("warning: {warning}");
    }
    // Cloud answers do not need the local model; without it routing estimates token counts.
    if let Err(error) = crate::engine::load_default(&app).await {
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
    let (choice, approval) = match &plan.preview {
        None => (requested, None),
        Some(preview) => {
            eprintln!("route: {}", plan.decision.explanation);
            print_preview(preview);
            match confirm(preview, args.yes, args.tier.is_some())? {
                Confirmation::Send => (
                    UserChoice::Entry {
                        id: preview.tier_id.clone(),
                    },
                    Some(CloudApproval::from(preview)),
                ),
                Confirmation::Local => (UserChoice::ForceLocal, None),
                Confirmation::Cancel => {
                    eprintln!("Nothing was sent.");
                    return Ok(());
                }
            }
        }
    };
    let input = AskInput {
        conversation_id: args.conversation,
        prompt,
        greedy: !args.sample,
        choice,
        approval,
    };
    let streaming = !args.json;
    let answer = app
        .ask(input, |event| {
            if let (true, ChatEvent::Token { text }) = (streaming, &event) {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        })
        .await
        .map_err(|error| error.to_string())?;

    if args.json {
        let json = JsonAnswer {
            conversation_id: &answer.conversation_id,
            message_id: &answer.id,
            answer: &answer.content,
            status: answer.status,
            usage: answer.stats.as_ref(),
            route: answer.route.as_ref(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?
        );
    } else {
        println!();
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
    Ok(())
}

/// What the user said to a cloud preview.
enum Confirmation {
    Send,
    Local,
    Cancel,
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

/// Decides whether to send: the budget, the auto-approve rule, `--yes`, or the person at the
/// terminal. Without a terminal (and without `--yes`) an explicit `--tier` is refused; an
/// automatic cloud pick is answered locally, so scripts keep working offline and for free.
fn confirm(preview: &CostPreview, yes: bool, explicit: bool) -> Result<Confirmation, String> {
    if let Some(reason) = &preview.blocked_reason {
        if explicit {
            return Err(reason.clone());
        }
        eprintln!("{reason}\nAnswering locally.");
        return Ok(Confirmation::Local);
    }
    if preview.auto_approved {
        eprintln!("Sending without asking: under the budget file's auto-approve limit.");
        return Ok(Confirmation::Send);
    }
    if yes {
        return Ok(Confirmation::Send);
    }
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
        return Ok(Confirmation::Local);
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
        "y" | "yes" => Confirmation::Send,
        "l" | "local" => Confirmation::Local,
        _ => Confirmation::Cancel,
    })
}
