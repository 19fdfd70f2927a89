//! Rule-based baseline in the style of LLM-gateway routers: several lexical "dimensions",
//! each scored in [0, 1], combined with fixed weights into a 0–1 complexity score; two
//! thresholds split the score into simple / medium / complex.
//!
//! The dimension weights are fixed by hand (as gateways ship them); only the two thresholds
//! are tuned, and only on the training folds.

use crate::lexicon::looks_like_code_line;
use crate::text::Tokens;
use crate::training::metrics::ConfusionMatrix;
use crate::Difficulty;

/// The lexical dimensions of one prompt, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleDimensions {
    /// Code keywords and code-looking lines.
    pub code: f64,
    /// Reasoning markers ("prove", "step by step", "why", ...).
    pub reasoning: f64,
    /// Technical vocabulary ("algorithm", "latency", "theorem", ...).
    pub technical: f64,
    /// Estimated token count on a log scale (50 tokens → 0, 500 → 1).
    pub token_count: f64,
    /// Simple-task indicators ("what is", "translate", "summarize", ...); lowers the score.
    pub simple_task: f64,
    /// Multi-step patterns ("first", "then", numbered lines, ...).
    pub multi_step: f64,
    /// Question complexity (several questions, "what if", "compare", ...).
    pub question_complexity: f64,
}

/// Hand-set weights of the positive dimensions (they sum to 1).
const WEIGHTS: [f64; 6] = [0.25, 0.20, 0.15, 0.15, 0.15, 0.10];
/// Weight of the simple-task dimension (subtracted).
const SIMPLE_TASK_WEIGHT: f64 = 0.35;

fn saturating(count: usize, saturation: f64) -> f64 {
    (count as f64 / saturation).min(1.0)
}

/// Scores the lexical dimensions of a prompt.
pub fn dimensions(prompt: &str) -> RuleDimensions {
    let tokens = Tokens::new(prompt);
    let words: Vec<&str> = tokens.iter().collect();
    let count_words = |list: &[&str]| words.iter().filter(|w| list.contains(w)).count();
    let count_phrases = |list: &[&str]| {
        list.iter()
            .map(|phrase| tokens.lowercase().matches(phrase).count())
            .sum::<usize>()
    };

    let code_lines = prompt.lines().filter(|l| looks_like_code_line(l)).count();
    let code = count_words(&[
        "function",
        "class",
        "def",
        "import",
        "return",
        "api",
        "sql",
        "python",
        "javascript",
        "code",
        "compile",
        "debug",
        "script",
        "java",
        "rust",
        "c",
        "html",
        "bug",
    ]) + code_lines
        + count_phrases(&["```"]);
    let reasoning = count_words(&[
        "prove",
        "derive",
        "why",
        "reason",
        "logic",
        "analyze",
        "analyse",
        "deduce",
        "therefore",
        "evaluate",
        "justify",
        "infer",
    ]) + count_phrases(&["step by step", "think through"]);
    let technical = count_words(&[
        "algorithm",
        "architecture",
        "distributed",
        "database",
        "kubernetes",
        "latency",
        "theorem",
        "integral",
        "derivative",
        "matrix",
        "probability",
        "optimization",
        "protocol",
        "encryption",
        "neural",
        "regression",
        "complexity",
        "concurrency",
        "microservice",
        "microservices",
        "scalability",
        "throughput",
        "equation",
        "polynomial",
    ]);
    let estimated_tokens = prompt.chars().count() as f64 / 4.0;
    let token_count = ((estimated_tokens.max(1.0) / 50.0).ln() / 10f64.ln()).clamp(0.0, 1.0);
    let simple_task = count_phrases(&[
        "what is",
        "who is",
        "who was",
        "when did",
        "where is",
        "define",
        "translate",
        "summarize",
        "summarise",
        "capital of",
        "convert",
        "fix the grammar",
        "rewrite",
    ]);
    let numbered_lines = prompt
        .lines()
        .filter(|line| {
            let trimmed = line.trim_start();
            trimmed.starts_with(|c: char| c.is_ascii_digit())
                && trimmed.chars().take(3).any(|c| c == '.' || c == ')')
        })
        .count();
    let multi_step = count_words(&["first", "then", "finally", "next", "afterwards", "step"])
        + count_phrases(&["after that"])
        + numbered_lines;
    let question_complexity = prompt.matches('?').count().saturating_sub(1)
        + count_phrases(&[
            "how would",
            "what if",
            "compare",
            "trade-off",
            "tradeoff",
            "pros and cons",
            "in what way",
        ]);

    RuleDimensions {
        code: saturating(code, 3.0),
        reasoning: saturating(reasoning, 2.0),
        technical: saturating(technical, 3.0),
        token_count,
        simple_task: saturating(simple_task, 1.0),
        multi_step: saturating(multi_step, 3.0),
        question_complexity: saturating(question_complexity, 2.0),
    }
}

/// The 0–1 complexity score of a prompt.
pub fn score(prompt: &str) -> f64 {
    let d = dimensions(prompt);
    let positive = [
        d.code,
        d.reasoning,
        d.technical,
        d.token_count,
        d.multi_step,
        d.question_complexity,
    ];
    let raw: f64 = positive
        .iter()
        .zip(WEIGHTS)
        .map(|(v, w)| v * w)
        .sum::<f64>()
        - SIMPLE_TASK_WEIGHT * d.simple_task;
    // raw lies in [-SIMPLE_TASK_WEIGHT, 1]; map it linearly onto [0, 1].
    (raw + SIMPLE_TASK_WEIGHT) / (1.0 + SIMPLE_TASK_WEIGHT)
}

/// The two thresholds on the score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleThresholds {
    /// Scores below this are simple.
    pub simple_below: f64,
    /// Scores at or above this are complex.
    pub complex_from: f64,
}

impl RuleThresholds {
    /// The tier of a score.
    pub fn tier(&self, score: f64) -> Difficulty {
        if score < self.simple_below {
            Difficulty::Simple
        } else if score >= self.complex_from {
            Difficulty::Complex
        } else {
            Difficulty::Medium
        }
    }

    /// Grid-searches both thresholds (steps of 0.01) for the best macro-F1 on the given
    /// training scores. Ties keep the first (lowest) thresholds found.
    pub fn tune(scores: &[f64], truths: &[Difficulty]) -> Self {
        let mut best = (
            f64::NEG_INFINITY,
            Self {
                simple_below: 0.33,
                complex_from: 0.66,
            },
        );
        for low in 0..=100 {
            for high in low..=101 {
                let candidate = Self {
                    simple_below: f64::from(low) / 100.0,
                    complex_from: f64::from(high) / 100.0,
                };
                let matrix = ConfusionMatrix::from_pairs(
                    scores
                        .iter()
                        .zip(truths)
                        .map(|(&score, &truth)| (truth, candidate.tier(score))),
                );
                let macro_f1 = matrix.macro_f1();
                if macro_f1 > best.0 {
                    best = (macro_f1, candidate);
                }
            }
        }
        best.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_in_unit_interval_and_ordered_sensibly() {
        let simple = score("What is the capital of France?");
        let complex = score(
            "Design a distributed database architecture. First, analyze the latency and \
             throughput trade-offs step by step, then prove the algorithm is correct.\n\
             1. It must scale.\n2. It must be consistent.\n3. Why?",
        );
        assert!((0.0..=1.0).contains(&simple) && (0.0..=1.0).contains(&complex));
        assert!(simple < complex);
    }

    #[test]
    fn tuned_thresholds_separate_separable_scores() {
        let scores = [0.1, 0.2, 0.5, 0.55, 0.8, 0.9];
        let truths = [
            Difficulty::Simple,
            Difficulty::Simple,
            Difficulty::Medium,
            Difficulty::Medium,
            Difficulty::Complex,
            Difficulty::Complex,
        ];
        let thresholds = RuleThresholds::tune(&scores, &truths);
        for (score, truth) in scores.iter().zip(truths) {
            assert_eq!(thresholds.tier(*score), truth);
        }
    }
}
