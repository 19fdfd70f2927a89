//! Helpers shared by the tests of the patched candle kernels.

/// A fixed pseudo-random sequence in [low, high).
pub fn values(count: usize, seed: u64, low: f32, high: f32) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            low + ((state >> 40) as f32 / (1u64 << 24) as f32) * (high - low)
        })
        .collect()
}
