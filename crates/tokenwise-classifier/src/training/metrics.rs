//! Accuracy, macro-F1 and the confusion matrix.

use crate::Difficulty;

/// Counts of (true tier, predicted tier); rows are the truth, columns the prediction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// `counts[truth][prediction]`.
    pub counts: [[usize; 3]; 3],
}

impl ConfusionMatrix {
    /// Builds the matrix from paired truths and predictions.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Difficulty, Difficulty)>) -> Self {
        let mut matrix = Self::default();
        for (truth, prediction) in pairs {
            matrix.counts[truth.index()][prediction.index()] += 1;
        }
        matrix
    }

    /// Number of predictions.
    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    /// Fraction of correct predictions (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..3).map(|k| self.counts[k][k]).sum();
        correct as f64 / self.total().max(1) as f64
    }

    /// F1 of one class (0 when the class is never predicted nor present).
    pub fn f1(&self, class: usize) -> f64 {
        let true_positives = self.counts[class][class] as f64;
        let predicted: usize = (0..3).map(|truth| self.counts[truth][class]).sum();
        let actual: usize = self.counts[class].iter().sum();
        if predicted + actual == 0 {
            return 0.0;
        }
        2.0 * true_positives / (predicted + actual) as f64
    }

    /// Unweighted mean of the three per-class F1 scores.
    pub fn macro_f1(&self) -> f64 {
        (0..3).map(|class| self.f1(class)).sum::<f64>() / 3.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_a_hand_computed_example() {
        use Difficulty::*;
        let matrix = ConfusionMatrix::from_pairs([
            (Simple, Simple),
            (Simple, Medium),
            (Medium, Medium),
            (Complex, Complex),
        ]);
        assert_eq!(matrix.total(), 4);
        assert!((matrix.accuracy() - 0.75).abs() < 1e-12);
        // F1: simple 2/3, medium 2/3, complex 1.
        assert!((matrix.macro_f1() - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
    }
}
