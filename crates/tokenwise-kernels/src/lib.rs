//! Small numeric loops written so the compiler turns them into SIMD code.
//!
//! mistral.rs 0.8.1 computes CPU attention one query row at a time with a dot product that
//! adds into a single `f32` (`sum += a*b` four at a time): every addition waits for the one
//! before it, so the loop runs at one scalar add per few cycles and cannot be vectorized
//! (float addition is not associative, so the compiler may not reorder it). Profiled on a
//! ~1,000-token prompt with the default model, that loop was 38 % of the time.
//!
//! The functions here keep [`LANES`] independent partial sums instead. The compiler maps them
//! onto vector registers (two AVX2 registers of 8 lanes, or four NEON ones) with no `unsafe`
//! and no target-specific code, and the portable build (no AVX2) still gets SSE2.
//!
//! They are generic over the element type with a conversion to `f32`, so one function serves
//! the f32, f16 and bf16 attention paths. The vendored copy of mistralrs-core
//! (`vendor/mistralrs-core`, see `vendor/README.md`) calls them.
//!
//! Attention scores now go through [`dot4`] (four rows against one vector, explicit 8-lane
//! vectors from the `wide` crate: the compiler did not vectorize the plain-array version the
//! right way) and [`dot1`] (the same arithmetic for one row, so a score never depends on how
//! it was grouped). [`dot`] was the first fix and stays as the baseline of
//! `benches/attention_dots.rs` (`cargo bench -p tokenwise-kernels`).

use wide::f32x8;

/// Independent partial sums kept by [`dot`]: enough to hide the latency of vector additions.
pub const LANES: usize = 16;

/// The dot product of `a` and `b` (up to the shorter length), each element converted to `f32`
/// by `to_f32`. The result can differ from a left-to-right sum in the last bits: the order of
/// the additions is different (pairwise over [`LANES`] partial sums), usually more accurate.
#[inline]
pub fn dot<T: Copy>(a: &[T], b: &[T], to_f32: impl Fn(T) -> f32 + Copy) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut partial = [0f32; LANES];
    let mut a_blocks = a.chunks_exact(LANES);
    let mut b_blocks = b.chunks_exact(LANES);
    for (a_block, b_block) in a_blocks.by_ref().zip(b_blocks.by_ref()) {
        for lane in 0..LANES {
            partial[lane] += to_f32(a_block[lane]) * to_f32(b_block[lane]);
        }
    }
    let mut tail = 0f32;
    for (x, y) in a_blocks.remainder().iter().zip(b_blocks.remainder()) {
        tail += to_f32(*x) * to_f32(*y);
    }
    pairwise_sum(partial) + tail
}

/// The dot products of `x` with each of four `rows` (each up to the shortest of the five).
///
/// Attention scores one key against many queries, 64 to 128 values each: short enough that
/// [`dot`]'s final reduction and its chain of dependent additions cost as much as the
/// products. Here `x` is read once for the four rows and each row keeps one vector of 8
/// partial sums (`wide::f32x8`: an AVX2 register, fused multiply-adds where the build has
/// FMA), so the four chains overlap. Written with explicit vectors because the compiler,
/// given plain arrays, vectorized across the four rows with lane shuffles instead (measured
/// slower than [`dot`]). Sums in another order than a left-to-right loop: results differ in
/// the last bits.
#[inline]
pub fn dot4<T: Copy>(x: &[T], rows: [&[T]; 4], to_f32: impl Fn(T) -> f32 + Copy) -> [f32; 4] {
    const WIDTH: usize = 8;
    let n = rows.iter().map(|row| row.len()).fold(x.len(), usize::min);
    let whole = n - n % WIDTH;
    let vector = |values: &[T]| {
        let values: &[T; WIDTH] = values.try_into().expect("a whole vector");
        f32x8::new(values.map(to_f32))
    };
    let mut sums = [f32x8::ZERO; 4];
    for start in (0..whole).step_by(WIDTH) {
        let x = vector(&x[start..start + WIDTH]);
        for (sum, row) in sums.iter_mut().zip(rows) {
            *sum = x.mul_add(vector(&row[start..start + WIDTH]), *sum);
        }
    }
    let mut dots = [0f32; 4];
    for ((dot, sum), row) in dots.iter_mut().zip(sums).zip(rows) {
        let tail: f32 = x[whole..n]
            .iter()
            .zip(&row[whole..n])
            .map(|(a, b)| to_f32(*a) * to_f32(*b))
            .sum();
        *dot = sum.reduce_add() + tail;
    }
    dots
}

/// The dot product of `x` and `row` with exactly the arithmetic of one row of [`dot4`] (the
/// same lanes, fused multiply-adds and final sum), so a score does not depend on whether its
/// key or query was computed in a group of four: a prompt gives the same results read whole or
/// in chunks.
#[inline]
pub fn dot1<T: Copy>(x: &[T], row: &[T], to_f32: impl Fn(T) -> f32 + Copy) -> f32 {
    const WIDTH: usize = 8;
    let n = x.len().min(row.len());
    let whole = n - n % WIDTH;
    let vector = |values: &[T]| {
        let values: &[T; WIDTH] = values.try_into().expect("a whole vector");
        f32x8::new(values.map(to_f32))
    };
    let mut sum = f32x8::ZERO;
    for start in (0..whole).step_by(WIDTH) {
        sum = vector(&x[start..start + WIDTH]).mul_add(vector(&row[start..start + WIDTH]), sum);
    }
    let tail: f32 = x[whole..n]
        .iter()
        .zip(&row[whole..n])
        .map(|(a, b)| to_f32(*a) * to_f32(*b))
        .sum();
    sum.reduce_add() + tail
}

/// `acc[i] += to_f32(x[i]) * scale` for every `i` (up to the shorter length).
#[inline]
pub fn add_scaled<T: Copy>(acc: &mut [f32], x: &[T], scale: f32, to_f32: impl Fn(T) -> f32) {
    for (sum, value) in acc.iter_mut().zip(x) {
        *sum += to_f32(*value) * scale;
    }
}

/// `e^x` for every element, in place, for the softmax of attention scores. One formula for all
/// lanes (no call into libm per element), so the loop vectorizes: `x = n·ln 2 + r` with
/// `|r| ≤ ln 2 / 2`, `e^r` by its degree-6 Taylor polynomial (truncation error below 1.3e-7
/// relative), `2^n` built in the exponent bits. Within 3e-7 relative of the exact value on
/// `[-87, 88]`; 0 below (where `e^x` is below `f32`'s normal range, and for `-inf`, a masked
/// score), `+inf` above.
#[inline]
pub fn exp_in_place(values: &mut [f32]) {
    for value in values.iter_mut() {
        *value = exp(*value);
    }
}

/// `e^x` by the formula of [`exp_in_place`].
#[inline]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so `n · ln 2` is exact in the first part (Cody–Waite).
    const LN2_HIGH: f32 = 0.693_145_75;
    const LN2_LOW: f32 = 1.428_606_8e-6;
    const LOWEST: f32 = -87.0;
    const HIGHEST: f32 = 88.0;
    let clamped = x.clamp(LOWEST, HIGHEST);
    let n = (clamped * LOG2_E + 0.5).floor();
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let poly = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n is in [-126, 127] after the clamp, so the biased exponent is a normal one.
    let two_to_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    let result = poly * two_to_n;
    if x < LOWEST {
        0.0
    } else if x > HIGHEST {
        f32::INFINITY
    } else {
        result
    }
}

/// The largest element (`-inf` for an empty slice); NaN elements are ignored.
#[inline]
pub fn max(values: &[f32]) -> f32 {
    values.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

#[inline]
fn pairwise_sum(mut values: [f32; LANES]) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            values[i] += values[i + width];
        }
    }
    values[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random sequence in [-1, 1) (no dependency needed).
    fn noise(seed: u64, n: usize) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn reference_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum()
    }

    #[test]
    fn dot_agrees_with_a_double_precision_sum_at_every_length() {
        // Head sizes of real models (64, 80, 128, …) and every awkward length around LANES.
        for n in (0..=70).chain([80, 96, 128, 256, 1000]) {
            let (a, b) = (noise(n as u64, n), noise(n as u64 + 999, n));
            let expected = reference_dot(&a, &b);
            let actual = f64::from(dot(&a, &b, |x| x));
            let scale: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from((x * y).abs()))
                .sum();
            assert!(
                (actual - expected).abs() <= 1e-6 * scale.max(1.0),
                "n={n}: {actual} vs {expected}"
            );
        }
    }

    #[test]
    fn dot_stops_at_the_shorter_slice_and_converts_each_element() {
        let a = [1u8, 2, 3, 4];
        let b = [10u8, 20, 30];
        assert_eq!(dot(&a, &b, f32::from), 140.0);
        assert_eq!(dot::<f32>(&[], &[], |x| x), 0.0);
    }

    #[test]
    fn dot_matches_the_serial_loop_it_replaces_within_rounding() {
        // mistral.rs's original: one accumulator, four products per step.
        fn serial(a: &[f32], b: &[f32]) -> f32 {
            let mut sum = 0f32;
            let chunks = a.len() / 4;
            for i in 0..chunks {
                let j = i * 4;
                sum +=
                    a[j] * b[j] + a[j + 1] * b[j + 1] + a[j + 2] * b[j + 2] + a[j + 3] * b[j + 3];
            }
            for i in chunks * 4..a.len() {
                sum += a[i] * b[i];
            }
            sum
        }
        for seed in 0..50 {
            let (a, b) = (noise(seed, 64), noise(seed + 100, 64));
            let (old, new) = (serial(&a, &b), dot(&a, &b, |x| x));
            assert!((old - new).abs() <= 1e-5, "seed {seed}: {old} vs {new}");
        }
    }

    #[test]
    fn dot4_equals_four_dot_products_at_every_length() {
        // Head sizes of real models and every awkward length around the 8 lanes.
        for n in (0..=40).chain([64, 80, 96, 128, 1000]) {
            let x = noise(n as u64, n);
            let rows: Vec<Vec<f32>> = (0..4).map(|r| noise(1000 + r * 7 + n as u64, n)).collect();
            let dots = dot4(&x, [&rows[0], &rows[1], &rows[2], &rows[3]], |v| v);
            for (row, actual) in rows.iter().zip(dots) {
                let expected = reference_dot(&x, row);
                let scale: f64 = x
                    .iter()
                    .zip(row)
                    .map(|(a, b)| f64::from((a * b).abs()))
                    .sum();
                assert!(
                    (f64::from(actual) - expected).abs() <= 1e-6 * scale.max(1.0),
                    "n={n}: {actual} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn dot1_is_bit_for_bit_one_row_of_dot4() {
        for n in (0..=40).chain([64, 80, 128]) {
            let x = noise(n as u64 + 5, n);
            let rows: Vec<Vec<f32>> = (0..4).map(|r| noise(2000 + r * 3 + n as u64, n)).collect();
            let four = dot4(&x, [&rows[0], &rows[1], &rows[2], &rows[3]], |v| v);
            for (row, expected) in rows.iter().zip(four) {
                assert_eq!(dot1(&x, row, |v| v).to_bits(), expected.to_bits(), "n={n}");
                // The product is the same either way round (a key against a query or back).
                assert_eq!(dot1(row, &x, |v| v).to_bits(), expected.to_bits(), "n={n}");
            }
        }
    }

    #[test]
    fn dot4_stops_at_the_shortest_slice_and_converts_each_element() {
        let x = [1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let ones = [1u8; 10];
        assert_eq!(
            dot4(&x, [&ones, &ones, &x, &x], f32::from),
            [55.0, 55.0, 385.0, 385.0]
        );
        assert_eq!(
            dot4(&x, [&ones, &ones[..3], &x, &x], f32::from),
            [6.0, 6.0, 14.0, 14.0]
        );
        assert_eq!(dot4(&x, [&ones, &ones, &x, &[]], f32::from), [0.0; 4]);
    }

    #[test]
    fn add_scaled_adds_each_scaled_element() {
        let mut acc = vec![1.0f32; 5];
        add_scaled(&mut acc, &[1.0f32, 2.0, 3.0, 4.0], 0.5, |x| x);
        assert_eq!(acc, [1.5, 2.0, 2.5, 3.0, 1.0]);
    }

    #[test]
    fn exp_is_within_three_ten_millionths_of_the_exact_value() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let exact = f64::from(x).exp();
            let relative = ((f64::from(exp(x)) - exact) / exact).abs();
            assert!(relative <= 3e-7, "exp({x}) = {} vs {exact}", exp(x));
            worst = worst.max(relative);
            x += 0.000_37;
        }
        println!("largest relative error: {worst:e}");
    }

    #[test]
    fn exp_handles_the_edges_of_a_softmax() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0, "a masked score weighs nothing");
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        let mut values = [0.0f32, -1.0, 1.0, f32::NEG_INFINITY, -20.5];
        exp_in_place(&mut values);
        for (got, x) in values
            .iter()
            .zip([0.0f32, -1.0, 1.0, f32::NEG_INFINITY, -20.5])
        {
            let exact = x.exp();
            assert!(
                (got - exact).abs() <= 3e-7 * exact,
                "exp({x}) = {got} vs {exact}"
            );
        }
    }

    #[test]
    fn max_ignores_nan_and_is_minus_infinity_when_empty() {
        assert_eq!(max(&[]), f32::NEG_INFINITY);
        assert_eq!(max(&[1.0, f32::NAN, 3.0, -2.0]), 3.0);
        assert_eq!(max(&[f32::NEG_INFINITY, -5.0]), -5.0);
    }

    #[test]
    fn pairwise_sum_adds_every_lane() {
        let values: [f32; LANES] = std::array::from_fn(|i| i as f32);
        assert_eq!(pairwise_sum(values), (0..LANES).sum::<usize>() as f32);
    }
}
