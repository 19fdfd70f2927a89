//! The patched dot products of candle (`vendor/candle-core`, `TOKENWISE PATCH` in
//! `quantized/avx.rs`) agree with upstream's scalar loops (`vec_dot_unopt`, the reference):
//! Q4_1 against the Q8_1 activations (a kernel upstream lacks) and Q8_0 with two accumulators,
//! at every block count from 1 to 40 (odd counts take the remainder path) and on weights with
//! an offset, which only Q4_1's minimum `m` carries. The kernels sum in another order, so they
//! agree within float rounding, not bit for bit. The four-row kernels (`vec_dot_rows4`, used
//! for prompts) give exactly what the one-row kernel gives for each row, and so does the
//! Q8_0 one that takes the activation scales converted beforehand (`vec_dot_rows4_scaled`).

use candle_core::quantized::k_quants::{BlockQ4_1, BlockQ8_0, GgmlType};

mod kernels_common;

use kernels_common::values;

fn quantize<T: GgmlType>(values: &[f32]) -> Vec<T> {
    let mut blocks = vec![T::zeros(); values.len() / T::BLCK_SIZE];
    T::from_float(values, &mut blocks);
    blocks
}

/// Compares the dispatched kernel with the scalar reference on `blocks` blocks of weights drawn
/// from the range `weights` and activations from [-1, 1).
fn compare<T: GgmlType>(blocks: usize, weights: (f32, f32), seed: u64) {
    let n = blocks * T::BLCK_SIZE;
    let xs = quantize::<T>(&values(n, seed, weights.0, weights.1));
    let ys = quantize::<T::VecDotType>(&values(n, seed + 1, -1.0, 1.0));
    let fast = T::vec_dot(n, &xs, &ys);
    let reference = T::vec_dot_unopt(n, &xs, &ys);
    // Each product is at most ~1.5 in size; float rounding of n of them stays far below this.
    let tolerance = 1e-5 * n as f32;
    assert!(
        (fast - reference).abs() <= tolerance,
        "{:?}, {blocks} blocks, weights in {weights:?}: kernel {fast}, reference {reference}",
        T::DTYPE
    );
}

#[test]
fn the_q4_1_kernel_agrees_with_the_scalar_reference() {
    for blocks in 1..=40 {
        compare::<BlockQ4_1>(blocks, (-1.0, 1.0), blocks as u64);
        // Weights that are all positive: the block minimum (m · s_y) carries most of the sum.
        compare::<BlockQ4_1>(blocks, (0.25, 1.5), 100 + blocks as u64);
    }
}

#[test]
fn the_q8_0_kernel_agrees_with_the_scalar_reference() {
    for blocks in 1..=40 {
        compare::<BlockQ8_0>(blocks, (-1.0, 1.0), blocks as u64);
    }
}

/// The four-row kernel against the one-row kernel on `blocks` blocks: identical bits.
fn four_rows_match_one_row<T: GgmlType>(blocks: usize, seed: u64) {
    let n = blocks * T::BLCK_SIZE;
    let xs = quantize::<T>(&values(n, seed, -0.5, 1.0));
    let rows: Vec<Vec<T::VecDotType>> = (0..4)
        .map(|r| quantize::<T::VecDotType>(&values(n, seed + 10 + r, -1.0, 1.0)))
        .collect();
    let four = T::vec_dot_rows4(n, &xs, [&rows[0], &rows[1], &rows[2], &rows[3]]);
    // With the activation scales converted beforehand (the prompt matmul's path), where the
    // type's kernel takes them: the same bits again.
    if let Some(scales) = rows
        .iter()
        .map(|row| T::activation_scales(row))
        .collect::<Option<Vec<Vec<f32>>>>()
    {
        let scaled = T::vec_dot_rows4_scaled(
            n,
            &xs,
            [&rows[0], &rows[1], &rows[2], &rows[3]],
            [&scales[0], &scales[1], &scales[2], &scales[3]],
        );
        let bits = |dots: [f32; 4]| dots.map(f32::to_bits);
        assert_eq!(bits(scaled), bits(four), "{:?}, {blocks} blocks", T::DTYPE);
    }
    for (r, row) in rows.iter().enumerate() {
        let one = T::vec_dot(n, &xs, row);
        assert_eq!(
            four[r].to_bits(),
            one.to_bits(),
            "{:?}, {blocks} blocks, row {r}: four-row kernel {}, one-row kernel {one}",
            T::DTYPE,
            four[r]
        );
    }
}

#[test]
fn the_four_row_kernels_give_each_row_exactly_the_one_row_result() {
    for blocks in 1..=40 {
        four_rows_match_one_row::<BlockQ4_1>(blocks, 300 + blocks as u64);
        four_rows_match_one_row::<BlockQ8_0>(blocks, 400 + blocks as u64);
    }
}

#[test]
fn the_kernels_sum_a_real_layer_width() {
    // The default model's hidden size (576 = 18 blocks) and MLP width (1536 = 48 blocks).
    for blocks in [18, 48] {
        compare::<BlockQ4_1>(blocks, (-0.1, 0.1), 7);
        compare::<BlockQ8_0>(blocks, (-0.1, 0.1), 7);
    }
}

// `.cargo/config.toml` builds for x86-64-v3; without AVX2 the tests above would only compare
// the reference with itself, so such a build of these tests fails to compile. The portable
// build (`TOKENWISE_PORTABLE=1`) is the one exception.
const _: () = assert!(
    !cfg!(target_arch = "x86_64")
        || cfg!(target_feature = "avx2")
        || option_env!("TOKENWISE_PORTABLE").is_some(),
    "built without AVX2: the patched kernels are not compiled in"
);

/// candle's scalar Q8_0 quantization (upstream's loop), the reference for the AVX2 one.
fn quantize_q8_0_reference(xs: &[f32]) -> Vec<(u16, [i8; 32])> {
    xs.chunks_exact(32)
        .map(|block| {
            let amax = block.iter().fold(0f32, |m, x| m.max(x.abs()));
            let d = amax / 127.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            let qs = std::array::from_fn(|i| f32::round(block[i] * id) as i8);
            (half::f16::from_f32(d).to_bits(), qs)
        })
        .collect()
}

#[test]
fn q8_0_quantization_gives_the_scalar_loop_s_bits_on_every_kind_of_block() {
    let mut blocks: Vec<f32> = values(32 * 200, 77, -3.0, 3.0);
    // Values that land exactly on halves after scaling (127 · k/254), ties either side of
    // zero, a block of zeros, tiny values, huge ones, and blocks with NaN and infinities
    // (the scalar loop's edges: NaN to 0, saturation).
    blocks.extend((0..32).map(|k| (k as f32 - 16.0) * 0.5 / 127.0 * 2.0));
    blocks.extend((0..32).map(|k| if k == 0 { 127.0 } else { k as f32 - 15.5 }));
    blocks.extend([0.0f32; 32]);
    blocks.extend((0..32).map(|k| (k as f32 - 16.0) * 1e-39));
    blocks.extend((0..32).map(|k| (k as f32 - 16.0) * 1e37));
    blocks.extend((0..32).map(|k| if k == 5 { f32::NAN } else { k as f32 }));
    blocks.extend((0..32).map(|k| if k == 9 { f32::NEG_INFINITY } else { 1.0 }));
    let mut quantized = vec![BlockQ8_0::zeros(); blocks.len() / 32];
    BlockQ8_0::from_float(&blocks, &mut quantized);
    let reference = quantize_q8_0_reference(&blocks);
    for (i, (block, (d, qs))) in quantized.iter().zip(&reference).enumerate() {
        let mut values = [0f32; 32];
        BlockQ8_0::to_float(std::slice::from_ref(block), &mut values);
        let expected: Vec<f32> = qs
            .iter()
            .map(|q| f32::from(*q) * half::f16::from_bits(*d).to_f32())
            .collect();
        let same_bits = values
            .iter()
            .zip(&expected)
            .all(|(a, b)| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()));
        assert!(same_bits, "block {i}: {values:?} vs {expected:?}");
    }
}
