//! The trained model on the workplace evaluation set (`data/routing/workplace_eval.jsonl`):
//! prompts written for this project by the rubric, never trained on, reported beside LOSO with
//! the figures the routing targets are stated in.

use std::path::Path;

use serde::Deserialize;

use crate::error::{ClassifierError, Result};
use crate::training::metrics::ConfusionMatrix;
use crate::{Classifier, Difficulty};

/// How a model did on the set.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkplaceEvaluation {
    pub confusion: ConfusionMatrix,
    /// Share of complex prompts predicted simple or medium.
    pub complex_under: f64,
    /// Share of simple prompts predicted medium or complex.
    pub simple_paid: f64,
}

#[derive(Deserialize)]
struct Labelled {
    prompt: String,
    tier: String,
}

/// Classifies every prompt of the labelled JSONL file at `path` with `classifier`.
pub fn evaluate(classifier: &Classifier, path: &Path) -> Result<WorkplaceEvaluation> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClassifierError::io(path.display().to_string(), e))?;
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let invalid = |message: String| ClassifierError::InvalidRecord {
            line: index + 1,
            message,
        };
        let record: Labelled = serde_json::from_str(line).map_err(|e| invalid(e.to_string()))?;
        let label = Difficulty::parse(&record.tier)
            .ok_or_else(|| invalid(format!("unknown tier {:?}", record.tier)))?;
        pairs.push((label, classifier.classify(&record.prompt).difficulty));
    }
    Ok(of_pairs(pairs))
}

fn of_pairs(pairs: Vec<(Difficulty, Difficulty)>) -> WorkplaceEvaluation {
    let confusion = ConfusionMatrix::from_pairs(pairs);
    let share = |row: usize, cols: [usize; 2]| {
        let total: usize = confusion.counts[row].iter().sum();
        (confusion.counts[row][cols[0]] + confusion.counts[row][cols[1]]) as f64
            / total.max(1) as f64
    };
    WorkplaceEvaluation {
        complex_under: share(2, [0, 1]),
        simple_paid: share(0, [1, 2]),
        confusion,
    }
}

/// The report's section on the set.
pub fn section(evaluation: &WorkplaceEvaluation, path: &Path) -> String {
    let c = &evaluation.confusion;
    let mut out = format!(
        "## On the workplace set (never trained on)\n\n\
         `{}`: {} prompts written for this project by the rubric (`data/routing/README.md`). \
         The router's final decisions on the same set: `docs/routing-evaluation.md`.\n\n\
         | macro-F1 % | accuracy % | complex predicted below complex | simple predicted medium or complex |\n\
         |---:|---:|---:|---:|\n| {:.1} | {:.1} | {:.1} % | {:.1} % |\n\n\
         | label \\ predicted | simple | medium | complex |\n|---|---:|---:|---:|\n",
        path.display(),
        c.total(),
        c.macro_f1() * 100.0,
        c.accuracy() * 100.0,
        evaluation.complex_under * 100.0,
        evaluation.simple_paid * 100.0,
    );
    for (name, row) in ["simple", "medium", "complex"].iter().zip(c.counts) {
        out += &format!("| {name} | {} | {} | {} |\n", row[0], row[1], row[2]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Difficulty::{Complex, Medium, Simple};

    #[test]
    fn the_target_shares_come_from_the_matrix() {
        let e = of_pairs(vec![
            (Simple, Simple),
            (Simple, Complex),
            (Complex, Medium),
            (Complex, Complex),
            (Complex, Complex),
            (Complex, Complex),
        ]);
        assert!((e.simple_paid - 0.5).abs() < 1e-9);
        assert!((e.complex_under - 0.25).abs() < 1e-9);
        let text = section(&e, Path::new("set.jsonl"));
        assert!(text.contains("| complex | 0 | 1 | 3 |"), "{text}");
    }

    #[test]
    fn the_shipped_model_reads_the_real_set() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/routing/workplace_eval.jsonl");
        let e = evaluate(&Classifier::embedded().unwrap(), &path).unwrap();
        assert_eq!(e.confusion.total(), 150);
        assert_eq!(
            e.confusion.counts.map(|row| row.iter().sum::<usize>()),
            [50, 50, 50]
        );
    }
}
