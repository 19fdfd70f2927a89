//! Small numeric helpers shared by inference and training.

/// Numerically stable softmax of three logits.
pub fn softmax3(logits: [f64; 3]) -> [f64; 3] {
    let max = logits[0].max(logits[1]).max(logits[2]);
    let exps = logits.map(|logit| (logit - max).exp());
    let total: f64 = exps.iter().sum();
    exps.map(|value| value / total)
}

/// Index of the largest value; ties go to the lowest index (the cheaper tier).
pub fn argmax3(values: [f64; 3]) -> usize {
    let mut best = 0;
    for index in 1..3 {
        if values[index] > values[best] {
            best = index;
        }
    }
    best
}

/// Rounds to `decimals` decimal places (used to keep the weights file small and stable).
#[cfg(feature = "training")]
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let probabilities = softmax3([1000.0, 999.0, -5.0]);
        assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(probabilities[0] > probabilities[1]);
    }

    #[test]
    fn argmax_prefers_the_cheaper_tier_on_ties() {
        assert_eq!(argmax3([0.5, 0.5, 0.0]), 0);
        assert_eq!(argmax3([0.1, 0.2, 0.7]), 2);
    }
}
