//! How routed prompts compare with their labels: the figures issue 18's targets are stated in
//! (macro-F1, complex prompts routed below complex, simple prompts sent to a paid tier), for the
//! classifier's own verdict and for the final route.

use tokenwise_core::Difficulty;

/// One labelled prompt: its label, the classifier's tier, and the tier of the entry that
/// would answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labelled {
    pub label: Difficulty,
    pub classifier: Difficulty,
    pub routed: Difficulty,
}

/// Rows: the label; columns: the prediction (simple, medium, complex).
pub type Confusion = [[u32; 3]; 3];

/// The figures of one way of predicting.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub confusion: Confusion,
    pub macro_f1: f64,
    /// Share of complex-labelled prompts predicted simple or medium.
    pub complex_under: f64,
    /// Share of simple-labelled prompts predicted medium or complex (a paid tier).
    pub simple_paid: f64,
}

fn index(tier: Difficulty) -> usize {
    match tier {
        Difficulty::Simple => 0,
        Difficulty::Medium => 1,
        Difficulty::Complex => 2,
    }
}

pub fn score(pairs: impl Iterator<Item = (Difficulty, Difficulty)>) -> Score {
    let mut confusion = [[0u32; 3]; 3];
    for (label, predicted) in pairs {
        confusion[index(label)][index(predicted)] += 1;
    }
    let f1 = |t: usize| {
        let tp = f64::from(confusion[t][t]);
        let predicted: f64 = (0..3).map(|r| f64::from(confusion[r][t])).sum();
        let actual: f64 = confusion[t].iter().map(|&n| f64::from(n)).sum();
        if tp == 0.0 {
            0.0
        } else {
            2.0 * tp / (predicted + actual)
        }
    };
    let share = |row: usize, cols: &[usize]| {
        let total: u32 = confusion[row].iter().sum();
        if total == 0 {
            0.0
        } else {
            f64::from(cols.iter().map(|&c| confusion[row][c]).sum::<u32>()) / f64::from(total)
        }
    };
    Score {
        macro_f1: (f1(0) + f1(1) + f1(2)) / 3.0,
        complex_under: share(2, &[0, 1]),
        simple_paid: share(0, &[1, 2]),
        confusion,
    }
}

/// A markdown report of the classifier and the final route over `labelled`.
pub fn report(labelled: &[Labelled]) -> String {
    if labelled.is_empty() {
        return "No line carried a \"tier\" label: nothing to score.\n".into();
    }
    let classifier = score(labelled.iter().map(|l| (l.label, l.classifier)));
    let routed = score(labelled.iter().map(|l| (l.label, l.routed)));
    let mut out = format!(
        "\n{} labelled prompts\n\n| | macro-F1 | complex routed below complex | simple sent to a paid tier |\n|---|---:|---:|---:|\n",
        labelled.len()
    );
    for (name, s) in [("classifier", &classifier), ("final route", &routed)] {
        out += &format!(
            "| {name} | {:.3} | {:.1} % | {:.1} % |\n",
            s.macro_f1,
            s.complex_under * 100.0,
            s.simple_paid * 100.0
        );
    }
    for (name, s) in [("classifier", &classifier), ("final route", &routed)] {
        out += &format!("\n{name} (rows: label; columns: simple, medium, complex)\n\n");
        for (label, row) in ["simple", "medium", "complex"].iter().zip(s.confusion) {
            out += &format!("| {label} | {} | {} | {} |\n", row[0], row[1], row[2]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Difficulty::{Complex, Medium, Simple};

    #[test]
    fn the_target_figures_follow_the_confusion_matrix() {
        let pairs = [
            (Simple, Simple),
            (Simple, Medium),
            (Medium, Medium),
            (Complex, Complex),
            (Complex, Simple),
            (Complex, Complex),
            (Complex, Complex),
        ];
        let s = score(pairs.into_iter());
        assert_eq!(s.confusion, [[1, 1, 0], [0, 1, 0], [1, 0, 3]]);
        assert!((s.complex_under - 0.25).abs() < 1e-9);
        assert!((s.simple_paid - 0.5).abs() < 1e-9);
        // F1: simple 2·1/(2+2)=0.5, medium 2·1/(2+1)=0.667, complex 2·3/(3+4)=0.857.
        assert!((s.macro_f1 - (0.5 + 2.0 / 3.0 + 6.0 / 7.0) / 3.0).abs() < 1e-9);
    }

    #[test]
    fn empty_and_perfect_inputs() {
        let none = score(std::iter::empty());
        assert_eq!(
            (none.macro_f1, none.complex_under, none.simple_paid),
            (0.0, 0.0, 0.0)
        );
        let perfect = score([(Simple, Simple), (Medium, Medium), (Complex, Complex)].into_iter());
        assert!((perfect.macro_f1 - 1.0).abs() < 1e-9);
        assert!(report(&[]).contains("nothing to score"));
    }
}
