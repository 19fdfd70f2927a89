//! `tokenwise route`: where the app would send a prompt, after every rule (the classifier's
//! confidence, the local model's reach, prompt length, the budget's headroom, the
//! organization's policy), not only the classifier's tier. Nothing is sent and nothing is
//! saved: an audit of the router over one prompt or a JSON-lines file.

use std::io::{BufRead, BufWriter, Write};

use serde::Serialize;
use tokenwise_app::{AppPaths, RouteQuery, Tokenwise};
use tokenwise_core::{Difficulty, SystemClock, UserChoice};

use crate::classify::{prompt_of, quiet_if_closed, JsonLines, LinesSummary};
use crate::output::out;

#[derive(clap::Args)]
pub struct RouteArgs {
    /// The prompt. Several words are joined with spaces.
    #[arg(required_unless_present = "jsonl", conflicts_with = "jsonl")]
    prompt: Vec<String>,
    /// Route every line of FILE (`-` for stdin): each line a JSON object with a "prompt"
    /// string (an "id" is echoed). Writes one JSON line per input line, in order.
    #[arg(long, value_name = "FILE")]
    jsonl: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// With --jsonl whose lines carry a "tier" label: print, after the lines, how the
    /// classifier and the final route compare with the labels (confusion matrices, macro-F1,
    /// complex prompts routed below complex, simple prompts sent to a paid tier).
    #[arg(long, requires = "jsonl")]
    score: bool,
}

/// One routed prompt.
#[derive(Serialize)]
struct Routed {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<serde_json::Value>,
    /// The catalog entry that would answer, e.g. "local", "mid", "frontier".
    tier: String,
    /// The tier that entry serves.
    difficulty: Difficulty,
    kind: tokenwise_core::Placement,
    model: String,
    /// Why, machine-readable (`within_local_reach`, `unsure_short_prompt`, `stepped_down`…).
    reason: &'static str,
    needs_confirmation: bool,
    estimated_cost_micros: i64,
    /// The classifier's own verdict, before the rules.
    classifier: Classifier,
    explanation: String,
}

#[derive(Serialize)]
struct Classifier {
    difficulty: Difficulty,
    confidence: f32,
}

pub async fn run(args: RouteArgs) -> Result<(), String> {
    let app = Tokenwise::open(AppPaths::from_env(), std::sync::Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    // The model the app would load: its reach and context are part of the decision.
    let model = app.active_local_model();
    app.route_as_if_loaded(model.as_ref());
    let result = match &args.jsonl {
        Some(path) => route_file(&app, path, args.score).await,
        None => {
            let routed = route_one(&app, &args.prompt.join(" "), None).await?;
            if args.json {
                out!("{}", to_json(&routed));
            } else {
                out!("{}", routed.explanation);
            }
            Ok(())
        }
    };
    app.close().await;
    result
}

async fn route_one(
    app: &Tokenwise,
    prompt: &str,
    id: Option<serde_json::Value>,
) -> Result<Routed, String> {
    let plan = app
        .plan(RouteQuery {
            conversation_id: None,
            prompt: prompt.to_string(),
            choice: UserChoice::Auto,
        })
        .await
        .map_err(|e| e.to_string())?;
    let class = app.classify(prompt);
    let decision = plan.decision;
    Ok(Routed {
        id,
        tier: decision.tier_id,
        difficulty: decision.difficulty,
        kind: decision.kind,
        model: decision.model_name,
        reason: decision.reason.code(),
        needs_confirmation: decision.needs_confirmation,
        estimated_cost_micros: decision.estimated_cost.micros(),
        classifier: Classifier {
            difficulty: class.difficulty,
            confidence: class.confidence,
        },
        explanation: decision.explanation,
    })
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
}

async fn route_file(app: &Tokenwise, path: &str, score: bool) -> Result<(), String> {
    let input: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(path).map_err(|error| format!("cannot read {path}: {error}"))?;
        Box::new(std::io::BufReader::new(file))
    };
    let stdout = std::io::stdout();
    let mut output = BufWriter::new(stdout.lock());
    let mut labelled = Vec::new();
    let summary = route_lines(app, input, &mut output, &mut labelled)
        .await
        .map_err(|error| quiet_if_closed(error, &format!("while routing {path}")))?;
    output
        .flush()
        .map_err(|error| quiet_if_closed(error, "cannot write the results"))?;
    if score {
        eprint!("{}", crate::route_score::report(&labelled));
    }
    match summary.first_error {
        None => Ok(()),
        Some(first) => Err(format!(
            "{} of {} lines could not be routed (an {{\"error\"}} line stands in for each); first: {first}",
            summary.failed, summary.lines
        )),
    }
}

/// Routes each line, writing exactly one JSON line per input line (an `{"error"}` for a line
/// that is not a JSON object with a string "prompt", or that the app refuses).
async fn route_lines(
    app: &Tokenwise,
    input: impl BufRead,
    output: &mut impl Write,
    labelled: &mut Vec<crate::route_score::Labelled>,
) -> std::io::Result<LinesSummary> {
    let mut lines = JsonLines::new(input);
    while let Some((line_number, line)) = lines.next_line()? {
        let value = serde_json::from_slice::<serde_json::Value>(line).ok();
        let id = value.as_ref().and_then(|value| value.get("id").cloned());
        let label = value
            .as_ref()
            .and_then(|value| value.get("tier").cloned())
            .and_then(|tier| serde_json::from_value::<Difficulty>(tier).ok());
        let routed = match prompt_of(line) {
            Ok(prompt) => route_one(app, &prompt, id).await,
            Err(problem) => Err(problem),
        };
        match routed {
            Ok(routed) => {
                if let Some(label) = label {
                    labelled.push(crate::route_score::Labelled {
                        label,
                        classifier: routed.classifier.difficulty,
                        routed: routed.difficulty,
                    });
                }
                writeln!(output, "{}", to_json(&routed))?
            }
            Err(problem) => lines.summary.fail(output, line_number, &problem)?,
        }
    }
    Ok(lines.summary)
}
