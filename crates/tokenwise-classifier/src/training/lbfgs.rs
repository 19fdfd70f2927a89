//! Limited-memory BFGS with a backtracking (Armijo) line search, for smooth convex losses.

use std::collections::VecDeque;

/// Stopping rules for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub struct LbfgsSettings {
    /// Number of correction pairs kept.
    pub history: usize,
    /// Maximum number of iterations.
    pub max_iterations: usize,
    /// Stop when the gradient norm falls below this.
    pub gradient_tolerance: f64,
    /// Stop when the relative decrease of the loss falls below this.
    pub relative_decrease_tolerance: f64,
}

impl Default for LbfgsSettings {
    fn default() -> Self {
        Self {
            history: 10,
            max_iterations: 400,
            gradient_tolerance: 1e-6,
            relative_decrease_tolerance: 1e-10,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `loss`, which returns the loss at `x` and writes its gradient into the second
/// argument. Starts from and updates `x` in place; returns the number of iterations run.
pub fn minimize<F>(x: &mut [f64], settings: LbfgsSettings, mut loss: F) -> usize
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let dimension = x.len();
    let mut gradient = vec![0.0; dimension];
    let mut value = loss(x, &mut gradient);
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let mut direction = vec![0.0; dimension];
    let mut candidate = vec![0.0; dimension];
    let mut candidate_gradient = vec![0.0; dimension];

    for iteration in 0..settings.max_iterations {
        if dot(&gradient, &gradient).sqrt() < settings.gradient_tolerance {
            return iteration;
        }
        // Two-loop recursion: direction = -H * gradient.
        direction.copy_from_slice(&gradient);
        let mut alphas = Vec::with_capacity(pairs.len());
        for (s, y, rho) in pairs.iter().rev() {
            let alpha = rho * dot(s, &direction);
            direction
                .iter_mut()
                .zip(y)
                .for_each(|(d, yi)| *d -= alpha * yi);
            alphas.push(alpha);
        }
        let scale = match pairs.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / dot(&gradient, &gradient).sqrt().max(1e-12),
        };
        direction.iter_mut().for_each(|d| *d *= scale);
        for ((s, y, rho), alpha) in pairs.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &direction);
            direction
                .iter_mut()
                .zip(s)
                .for_each(|(d, si)| *d += (alpha - beta) * si);
        }
        direction.iter_mut().for_each(|d| *d = -*d);

        let mut slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): fall back to steepest descent.
            pairs.clear();
            direction
                .iter_mut()
                .zip(&gradient)
                .for_each(|(d, g)| *d = -g);
            slope = -dot(&gradient, &gradient);
        }

        // Backtracking line search (Armijo condition).
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            candidate
                .iter_mut()
                .zip(x.iter().zip(&direction))
                .for_each(|(c, (xi, di))| *c = xi + step * di);
            let candidate_value = loss(&candidate, &mut candidate_gradient);
            if candidate_value <= value + 1e-4 * step * slope {
                accepted = Some(candidate_value);
                break;
            }
            step *= 0.5;
        }
        let Some(new_value) = accepted else {
            return iteration;
        };

        let s: Vec<f64> = candidate
            .iter()
            .zip(x.iter())
            .map(|(c, xi)| c - xi)
            .collect();
        let y: Vec<f64> = candidate_gradient
            .iter()
            .zip(&gradient)
            .map(|(cg, g)| cg - g)
            .collect();
        let curvature = dot(&s, &y);
        if curvature > 1e-12 {
            if pairs.len() == settings.history {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / curvature));
        }
        x.copy_from_slice(&candidate);
        gradient.copy_from_slice(&candidate_gradient);
        let decrease = (value - new_value) / value.abs().max(1e-12);
        value = new_value;
        if decrease < settings.relative_decrease_tolerance {
            return iteration + 1;
        }
    }
    settings.max_iterations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_a_shifted_quadratic() {
        let mut x = vec![0.0, 0.0];
        minimize(&mut x, LbfgsSettings::default(), |x, gradient| {
            gradient[0] = 2.0 * (x[0] - 3.0);
            gradient[1] = 20.0 * (x[1] + 1.0);
            (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2)
        });
        assert!((x[0] - 3.0).abs() < 1e-4 && (x[1] + 1.0).abs() < 1e-4);
    }
}
