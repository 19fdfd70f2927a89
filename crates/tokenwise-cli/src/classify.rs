//! `tokenwise classify`: the classifier's verdict on one prompt, or on a JSON-lines file.

use crate::output::out;
use std::io::{BufRead, BufWriter, Write};

use serde::Serialize;
use tokenwise_app::triage::PromptClass;
use tokenwise_app::{AppPaths, ChoicesVote, Tokenwise, Triage};
use tokenwise_classifier::Classifier;
use tokenwise_encoder::explain::{Explainer, Explanation};
use tokenwise_encoder::{SecondStageUse, StageVote};

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// The prompt. Several words are joined with spaces.
    #[arg(required_unless_present = "jsonl", conflicts_with = "jsonl")]
    prompt: Vec<String>,
    /// Classify every line of FILE (`-` for stdin): each line a JSON object with a "prompt"
    /// string (other fields are ignored). Writes one JSON line per input line, in order.
    #[arg(long, value_name = "FILE")]
    jsonl: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Show each stage's vote: the feature model, and the sentence encoder when the first is
    /// unsure (and installed), with the two stages' average. The router acts on the first.
    #[arg(long)]
    explain: bool,
}

/// Each stage's vote and what the person's kept routing choices do to the prompt.
#[derive(Serialize)]
struct Explained {
    #[serde(flatten)]
    explanation: Explanation,
    your_choices: ChoicesVote,
}

pub async fn run(args: ClassifyArgs) -> Result<(), String> {
    if args.explain {
        let paths = AppPaths::from_env();
        let explainer = explainer(&paths)?;
        let app = Tokenwise::open(paths, std::sync::Arc::new(tokenwise_core::SystemClock))
            .await
            .map_err(|error| error.to_string())?;
        let explain = |prompt: &str| Explained {
            explanation: explainer.explain(prompt),
            your_choices: app.choices_vote(prompt),
        };
        let result = match args.jsonl {
            Some(path) => classify_file(|prompt| to_json(&explain(prompt)), &path),
            None => {
                let explained = explain(&args.prompt.join(" "));
                if args.json {
                    out!("{}", to_json(&explained));
                } else {
                    out!(
                        "{}\n{}",
                        explanation_text(&explained.explanation),
                        choices_text(&explained.your_choices)
                    );
                }
                Ok(())
            }
        };
        app.close().await;
        return result;
    }
    let triage = Triage::embedded().map_err(|error| error.to_string())?;
    match args.jsonl {
        Some(path) => classify_file(|prompt| to_json(&triage.classify(prompt)), &path),
        None => {
            let class = triage.classify(&args.prompt.join(" "));
            if args.json {
                out!("{}", to_json(&class));
            } else {
                out!(
                    "{} ({:.2}): {}",
                    class.difficulty,
                    class.confidence,
                    class.reason
                );
            }
            Ok(())
        }
    }
}

/// Both stages, the second looked for in the app's models folders.
fn explainer(paths: &AppPaths) -> Result<Explainer, String> {
    let first = Classifier::embedded().map_err(|error| error.to_string())?;
    let downloads = paths.model_downloads_dir();
    let mut dirs = vec![paths.models_dir.as_path()];
    if downloads != paths.models_dir {
        dirs.push(downloads.as_path());
    }
    Ok(Explainer::load(first, &dirs))
}

/// "simple 0.52 (simple 0.52 · medium 0.30 · complex 0.18)"
fn vote_text(vote: &StageVote) -> String {
    let [simple, medium, complex] = vote.probabilities;
    format!(
        "{} {:.2} (simple {simple:.2} · medium {medium:.2} · complex {complex:.2})",
        vote.difficulty, vote.confidence
    )
}

/// The explanation as lines a person reads.
pub fn explanation_text(explanation: &Explanation) -> String {
    let verdict = PromptClass::from_classification(&explanation.verdict);
    let mut lines = vec![format!(
        "{} ({:.2}): {}",
        verdict.difficulty, verdict.confidence, verdict.reason
    )];
    if let Some(first) = explanation.stages.first() {
        let unsure = if explanation.second_stage == SecondStageUse::NotNeeded {
            "confident, decides alone".to_string()
        } else {
            format!("unsure (below {:.2})", tokenwise_encoder::ASK_SECOND_BELOW)
        };
        lines.push(format!(
            "  stage 1, features: {}; {unsure}",
            vote_text(first)
        ));
    }
    match (&explanation.second_stage, explanation.stages.get(1)) {
        (SecondStageUse::Asked, Some(second)) => {
            lines.push(format!(
                "  stage 2, sentence encoder: {}",
                vote_text(second)
            ));
        }
        (SecondStageUse::Unavailable { reason }, _) => {
            lines.push(format!(
                "  stage 2, sentence encoder: unavailable: {reason}"
            ));
        }
        _ => lines.push("  stage 2, sentence encoder: not asked".to_string()),
    }
    if let Some(both) = &explanation.both_stages {
        lines.push(format!(
            "  both stages averaged: {} (for audit; routing acts on stage 1, see \
             docs/classifier.md)",
            vote_text(both)
        ));
    }
    lines.join("\n")
}

/// The person's choices as one line of the explanation.
fn choices_text(vote: &ChoicesVote) -> String {
    if !vote.enabled {
        let who = if vote.locked {
            "by your organization"
        } else {
            "in settings"
        };
        return format!("  your routing choices: not used (turned off {who})");
    }
    match (vote.choices, vote.adjusted) {
        (0, _) => "  your routing choices: none kept".to_string(),
        (n, true) => format!(
            "  your routing choices ({n} kept): moved it to {} ({:.2}); the router acts on this",
            vote.difficulty, vote.confidence
        ),
        (n, false) => format!("  your routing choices ({n} kept): no change for this prompt"),
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
}

fn classify_file(verdict: impl Fn(&str) -> String, path: &str) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut output = BufWriter::new(stdout.lock());
    let summary = if path == "-" {
        classify_lines(verdict, std::io::stdin().lock(), &mut output)
    } else {
        let file =
            std::fs::File::open(path).map_err(|error| format!("cannot read {path}: {error}"))?;
        classify_lines(verdict, std::io::BufReader::new(file), &mut output)
    }
    .map_err(|error| quiet_if_closed(error, &format!("while classifying {path}")))?;
    output
        .flush()
        .map_err(|error| quiet_if_closed(error, "cannot write the results"))?;
    match summary.first_error {
        None => Ok(()),
        Some(first) => Err(format!(
            "{} of {} lines could not be classified (an {{\"error\"}} line stands in for each); first: {first}",
            summary.failed, summary.lines
        )),
    }
}

/// What happened to a JSON-lines input.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LinesSummary {
    /// Input lines (a final newline does not start another one).
    pub lines: usize,
    pub failed: usize,
    pub first_error: Option<String>,
}

impl LinesSummary {
    /// Writes `{"error": "line N: problem"}` in place of the answer to line N and counts it.
    pub fn fail(
        &mut self,
        output: &mut impl Write,
        line_number: usize,
        problem: &str,
    ) -> std::io::Result<()> {
        let message = format!("line {line_number}: {problem}");
        writeln!(output, "{}", serde_json::json!({ "error": message }))?;
        self.failed += 1;
        self.first_error.get_or_insert(message);
        Ok(())
    }
}

/// Reads a JSON-lines input a line at a time, counting the lines.
pub struct JsonLines<R> {
    input: R,
    raw: Vec<u8>,
    pub summary: LinesSummary,
}

impl<R: BufRead> JsonLines<R> {
    pub fn new(input: R) -> Self {
        JsonLines {
            input,
            raw: Vec::new(),
            summary: LinesSummary::default(),
        }
    }

    /// The next line's number and bytes (its line end trimmed); `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<(usize, &[u8])>> {
        self.raw.clear();
        if self.input.read_until(b'\n', &mut self.raw)? == 0 {
            return Ok(None);
        }
        self.summary.lines += 1;
        Ok(Some((self.summary.lines, trim_line_end(&self.raw))))
    }
}

/// Classifies each line of `input`, writing exactly one JSON line per input line to `output`:
/// `verdict(prompt)` (`{"difficulty", "confidence", "reason"}`, with the stages' votes under
/// `--explain`), or `{"error"}` for a line that is not a JSON object with a string "prompt" (a
/// blank line included), so output line N always answers input line N.
pub fn classify_lines(
    verdict: impl Fn(&str) -> String,
    input: impl BufRead,
    output: &mut impl Write,
) -> std::io::Result<LinesSummary> {
    let mut lines = JsonLines::new(input);
    while let Some((line_number, line)) = lines.next_line()? {
        match prompt_of(line) {
            Ok(prompt) => writeln!(output, "{}", verdict(&prompt))?,
            Err(problem) => lines.summary.fail(output, line_number, &problem)?,
        }
    }
    Ok(lines.summary)
}

/// A failed read or write as a message; a closed reader of stdout ends the command quietly.
pub(crate) fn quiet_if_closed(error: std::io::Error, context: &str) -> String {
    if crate::output::is_closed_reader(&error) {
        crate::output::exit_on_write_error(&error);
    }
    format!("{context}: {error}")
}

fn trim_line_end(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}

pub(crate) fn prompt_of(line: &[u8]) -> Result<String, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err("blank line (expected {\"prompt\": …})".to_string());
    }
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_string())?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("not JSON ({error})"))?;
    match value.get("prompt") {
        Some(serde_json::Value::String(prompt)) => Ok(prompt.clone()),
        Some(_) => Err("\"prompt\" is not a string".to_string()),
        None => Err("no \"prompt\" field".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_lines(input: &[u8]) -> (Vec<serde_json::Value>, LinesSummary) {
        let triage = Triage::embedded().unwrap();
        let mut output = Vec::new();
        let summary = classify_lines(|p| to_json(&triage.classify(p)), input, &mut output).unwrap();
        let lines = String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (lines, summary)
    }

    #[test]
    fn each_input_line_gets_one_output_line_in_order() {
        let (lines, summary) = run_lines(
            b"{\"prompt\": \"What is 2+2?\", \"label\": \"simple\"}\r\n\n   \n{\"prompt\": \"Prove that there are infinitely many primes, then design a distributed system that finds large primes and analyse its failure modes step by step.\"}",
        );
        // Four input lines (CRLF, empty, spaces, last without a newline): four output lines,
        // the two blank ones marked in place.
        assert_eq!(summary.lines, 4);
        assert_eq!(summary.failed, 2);
        assert_eq!(
            summary.first_error.as_deref(),
            Some("line 2: blank line (expected {\"prompt\": …})")
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["difficulty"], "simple");
        assert!(lines[1]["error"].as_str().unwrap().contains("blank line"));
        assert!(lines[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("line 3: blank"));
        assert_ne!(lines[3]["difficulty"], "simple");
        for line in [&lines[0], &lines[3]] {
            let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["difficulty", "confidence", "reason"]);
        }
    }

    #[test]
    fn bad_lines_are_marked_in_place_and_counted() {
        let (lines, summary) = run_lines(
            b"not json\n{\"text\": \"x\"}\n{\"prompt\": 7}\n\xff\xfe\n{\"prompt\": \"Hi\"}\n",
        );
        assert_eq!(summary.lines, 5);
        assert_eq!(summary.failed, 4);
        assert_eq!(
            summary
                .first_error
                .as_deref()
                .map(|e| e.starts_with("line 1: not JSON")),
            Some(true)
        );
        assert!(lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("no \"prompt\""));
        assert!(lines[2]["error"].as_str().unwrap().contains("not a string"));
        assert!(lines[3]["error"].as_str().unwrap().contains("UTF-8"));
        assert_eq!(lines[4]["difficulty"], "simple");
    }
}
