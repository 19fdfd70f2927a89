//! `tokenwise ask`.

use std::io::Write;
use std::sync::Arc;

use serde::Serialize;
use tokenwise_app::{AppPaths, AskInput, RouteQuery, Tokenwise};
use tokenwise_core::{
    ChatEvent, GenerationStats, MessageStatus, RouteBadge, SystemClock, TierKind, UserChoice,
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
    #[arg(long)]
    local: bool,
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
    if let Some(warning) = app.status().history_warning {
        eprintln!("warning: {warning}");
    }
    crate::engine::load_default(&app).await?;

    let choice = if args.local {
        UserChoice::ForceLocal
    } else {
        let decision = app
            .route(RouteQuery {
                conversation_id: args.conversation.clone(),
                prompt: prompt.clone(),
                choice: UserChoice::Auto,
            })
            .await
            .map_err(|error| error.to_string())?;
        if decision.kind == TierKind::Cloud {
            // Cloud answers need a cost preview and confirmation, not built yet.
            eprintln!(
                "route: {}\nCloud answers are not available yet; answering locally (--local skips this note).",
                decision.explanation
            );
            UserChoice::ForceLocal
        } else {
            UserChoice::Auto
        }
    };
    let input = AskInput {
        conversation_id: args.conversation,
        prompt,
        greedy: !args.sample,
        choice,
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
