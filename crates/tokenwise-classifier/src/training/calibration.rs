//! Temperature scaling: one scalar `T` dividing the logits, fitted to minimise the negative
//! log-likelihood of held-out predictions.

use crate::math::{argmax3, softmax3};

/// Mean negative log-likelihood of `labels` under `logits / temperature`.
pub fn negative_log_likelihood(logits: &[[f64; 3]], labels: &[usize], temperature: f64) -> f64 {
    let total: f64 = logits
        .iter()
        .zip(labels)
        .map(|(logit, &label)| {
            let probabilities = softmax3(logit.map(|z| z / temperature));
            -probabilities[label].max(1e-300).ln()
        })
        .sum();
    total / logits.len().max(1) as f64
}

/// The temperature in [0.05, 20] minimising held-out NLL (golden-section search on log T).
pub fn fit_temperature(logits: &[[f64; 3]], labels: &[usize]) -> f64 {
    let nll = |log_t: f64| negative_log_likelihood(logits, labels, log_t.exp());
    let golden = (5f64.sqrt() - 1.0) / 2.0;
    let (mut low, mut high) = (0.05f64.ln(), 20f64.ln());
    let mut left = high - golden * (high - low);
    let mut right = low + golden * (high - low);
    let (mut left_value, mut right_value) = (nll(left), nll(right));
    for _ in 0..80 {
        if left_value < right_value {
            high = right;
            right = left;
            right_value = left_value;
            left = high - golden * (high - low);
            left_value = nll(left);
        } else {
            low = left;
            left = right;
            left_value = right_value;
            right = low + golden * (high - low);
            right_value = nll(right);
        }
    }
    ((low + high) / 2.0).exp()
}

/// Expected calibration error of the top-class confidence, with `bins` equal-width bins.
pub fn expected_calibration_error(
    logits: &[[f64; 3]],
    labels: &[usize],
    temperature: f64,
    bins: usize,
) -> f64 {
    let mut confidence_sum = vec![0.0; bins];
    let mut correct_sum = vec![0.0; bins];
    let mut counts = vec![0usize; bins];
    for (logit, &label) in logits.iter().zip(labels) {
        let probabilities = softmax3(logit.map(|z| z / temperature));
        let predicted = argmax3(probabilities);
        let confidence = probabilities[predicted];
        let bin = ((confidence * bins as f64) as usize).min(bins - 1);
        confidence_sum[bin] += confidence;
        correct_sum[bin] += if predicted == label { 1.0 } else { 0.0 };
        counts[bin] += 1;
    }
    let total = logits.len().max(1) as f64;
    (0..bins)
        .map(|bin| (confidence_sum[bin] - correct_sum[bin]).abs() / total)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overconfident_logits_get_a_temperature_above_one() {
        // Always very confident, right only 70% of the time.
        let logits: Vec<[f64; 3]> = (0..100).map(|_| [10.0, 0.0, 0.0]).collect();
        let labels: Vec<usize> = (0..100).map(|i| if i < 70 { 0 } else { 1 }).collect();
        let temperature = fit_temperature(&logits, &labels);
        assert!(temperature > 1.0);
        let before = expected_calibration_error(&logits, &labels, 1.0, 10);
        let after = expected_calibration_error(&logits, &labels, temperature, 10);
        assert!(after < before);
    }
}
