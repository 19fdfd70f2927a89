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

/// The weighted sum of value rows for four query rows at once, added into their
/// accumulators: `acc[r][c] += Σ_j weights[r][j] · values[j·width + c]`.
///
/// `values` is a tile of value rows, `width` apart; the tile has as many rows as the shortest
/// of `weights` (and of `values.len() / width`), and the sums cover the columns every `acc`
/// row has (at most `width`). Each 8-column slice of a value row is loaded once for the four
/// rows, and each row's partial sums stay in registers over the whole tile, written back once
/// (attention's value step, which before added every key's row into every query's
/// accumulator in memory, one at a time). [`weighted_sum1`] is the same arithmetic for one
/// row, so a result never depends on how the rows were grouped.
#[inline]
pub fn weighted_sum4(weights: [&[f32]; 4], values: &[f32], width: usize, acc: [&mut [f32]; 4]) {
    let rows = weighted_rows(&weights, values, width);
    let columns = acc.iter().map(|row| row.len()).fold(width, usize::min);
    let [acc0, acc1, acc2, acc3] = acc;
    let whole = columns - columns % 8;
    for start in (0..whole).step_by(8) {
        let mut sums = [f32x8::ZERO; 4];
        for j in 0..rows {
            let value = load8(&values[j * width + start..]);
            for (sum, row_weights) in sums.iter_mut().zip(weights) {
                *sum = f32x8::splat(row_weights[j]).mul_add(value, *sum);
            }
        }
        for (row_acc, sum) in [&mut *acc0, &mut *acc1, &mut *acc2, &mut *acc3]
            .into_iter()
            .zip(sums)
        {
            add_into8(&mut row_acc[start..start + 8], sum);
        }
    }
    for column in whole..columns {
        for (row_acc, row_weights) in [&mut *acc0, &mut *acc1, &mut *acc2, &mut *acc3]
            .into_iter()
            .zip(weights)
        {
            row_acc[column] += weighted_column(row_weights, values, width, column, rows);
        }
    }
}

/// One row of [`weighted_sum4`], with the same arithmetic: bit for bit the row's result there.
#[inline]
pub fn weighted_sum1(weights: &[f32], values: &[f32], width: usize, acc: &mut [f32]) {
    let rows = weighted_rows(&[weights], values, width);
    let columns = acc.len().min(width);
    let whole = columns - columns % 8;
    for start in (0..whole).step_by(8) {
        let mut sum = f32x8::ZERO;
        for (j, weight) in weights[..rows].iter().enumerate() {
            sum = f32x8::splat(*weight).mul_add(load8(&values[j * width + start..]), sum);
        }
        add_into8(&mut acc[start..start + 8], sum);
    }
    for (column, sum) in acc.iter_mut().enumerate().take(columns).skip(whole) {
        *sum += weighted_column(weights, values, width, column, rows);
    }
}

/// How many value rows a weighted sum covers: the shortest weight row, and whole value rows.
fn weighted_rows(weights: &[&[f32]], values: &[f32], width: usize) -> usize {
    let value_rows = values.len().checked_div(width).unwrap_or(0);
    weights
        .iter()
        .map(|row| row.len())
        .fold(value_rows, usize::min)
}

/// One column of a weighted sum, for the columns after the last whole 8-lane vector.
fn weighted_column(
    weights: &[f32],
    values: &[f32],
    width: usize,
    column: usize,
    rows: usize,
) -> f32 {
    let mut sum = 0f32;
    for (j, weight) in weights[..rows].iter().enumerate() {
        sum += weight * values[j * width + column];
    }
    sum
}

#[inline(always)]
fn load8(values: &[f32]) -> f32x8 {
    let values: [f32; 8] = values[..8].try_into().expect("eight values");
    f32x8::new(values)
}

#[inline(always)]
fn add_into8(acc: &mut [f32], sum: f32x8) {
    let total = load8(acc) + sum;
    acc[..8].copy_from_slice(&total.to_array());
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

    /// [`weighted_sum4`] on four weight rows and four accumulator rows held in vectors.
    fn weighted_sum4_of_rows(
        weights: &[Vec<f32>],
        values: &[f32],
        width: usize,
        acc: &mut [Vec<f32>],
    ) {
        let [a0, a1, a2, a3] = acc else {
            panic!("four accumulator rows")
        };
        weighted_sum4(
            [&weights[0], &weights[1], &weights[2], &weights[3]],
            values,
            width,
            [a0, a1, a2, a3],
        );
    }

    /// `acc[c] + Σ_j w[j]·v[j][c]` in double precision.
    fn reference_weighted(acc: &[f32], weights: &[f32], values: &[f32], width: usize) -> Vec<f64> {
        (0..acc.len().min(width))
            .map(|c| {
                f64::from(acc[c])
                    + weights
                        .iter()
                        .enumerate()
                        .map(|(j, w)| f64::from(*w) * f64::from(values[j * width + c]))
                        .sum::<f64>()
            })
            .collect()
    }

    #[test]
    fn weighted_sum4_adds_the_weighted_value_rows_at_every_width() {
        // Head sizes of real models and every awkward width around the 8 lanes.
        for width in (1..=20).chain([64, 80, 128]) {
            for rows in [1, 7, 64] {
                let values = noise(width as u64 * 31 + rows as u64, rows * width);
                let weights: Vec<Vec<f32>> = (0..4)
                    .map(|r| noise(500 + r * 11 + width as u64, rows))
                    .collect();
                let mut acc: Vec<Vec<f32>> = (0..4)
                    .map(|r| noise(900 + r + width as u64, width))
                    .collect();
                let expected: Vec<Vec<f64>> = (0..4)
                    .map(|r| reference_weighted(&acc[r], &weights[r], &values, width))
                    .collect();
                weighted_sum4_of_rows(&weights, &values, width, &mut acc);
                for (got, want) in acc.iter().zip(&expected) {
                    for (g, w) in got.iter().zip(want) {
                        assert!(
                            (f64::from(*g) - w).abs() <= 1e-5 * (rows as f64 + 1.0),
                            "width {width}, rows {rows}: {g} vs {w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn weighted_sum1_is_bit_for_bit_one_row_of_weighted_sum4() {
        for width in [3, 8, 13, 64, 72] {
            let rows = 37;
            let values = noise(width as u64, rows * width);
            let weights: Vec<Vec<f32>> = (0..4).map(|r| noise(70 + r, rows)).collect();
            let start: Vec<Vec<f32>> = (0..4).map(|r| noise(80 + r, width)).collect();
            let mut four = start.clone();
            weighted_sum4_of_rows(&weights, &values, width, &mut four);
            for r in 0..4 {
                let mut one = start[r].clone();
                weighted_sum1(&weights[r], &values, width, &mut one);
                let bits = |row: &[f32]| row.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&one), bits(&four[r]), "width {width}, row {r}");
            }
        }
    }

    #[test]
    fn weighted_sums_stop_at_the_shortest_weights_values_and_accumulators() {
        // Two value rows of width 3; the weights of row 0 are longer than the tile.
        let values = [1.0f32, 2.0, 3.0, 10.0, 20.0, 30.0];
        let mut acc = [0.0f32; 3];
        weighted_sum1(&[1.0, 0.5, 99.0], &values, 3, &mut acc);
        assert_eq!(acc, [6.0, 12.0, 18.0]);
        // An accumulator shorter than the width: only its columns.
        let mut short = [1.0f32; 2];
        weighted_sum1(&[1.0], &values, 3, &mut short);
        assert_eq!(short, [2.0, 3.0]);
        // Zero weights (masked keys) add nothing, and a zero width does nothing.
        let mut untouched = [5.0f32; 3];
        weighted_sum1(&[0.0, 0.0], &values, 3, &mut untouched);
        assert_eq!(untouched, [5.0; 3]);
        weighted_sum1(&[1.0], &values, 0, &mut untouched);
        assert_eq!(untouched, [5.0; 3]);
        let (mut a, mut b, mut c, mut d) = ([0.0f32; 3], [0.0f32; 3], [0.0f32; 3], [0.0f32; 1]);
        weighted_sum4(
            [&[1.0, 1.0], &[0.0, 1.0], &[1.0], &[2.0, 0.0]],
            &values,
            3,
            [&mut a, &mut b, &mut c, &mut d],
        );
        // The tile is one row long (the shortest weights); every row stops at column 1.
        assert_eq!(
            (a, b, c, d),
            ([1.0, 0.0, 0.0], [0.0; 3], [1.0, 0.0, 0.0], [2.0])
        );
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
