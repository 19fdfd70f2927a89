//! The patched prompt matmul of candle (`vendor/candle-core`, `TOKENWISE PATCH` in
//! `quantized/k_quants.rs`) gives exactly what upstream's row-by-row loop gives: a prompt of
//! many rows, multiplied at once, equals each of its rows multiplied alone (one row takes
//! upstream's path), bit for bit, for the weight types the app runs: Q8_0 (the fast copy),
//! Q4_1 (the default file as downloaded) and Q4_K. Four rows at a time go through
//! `vec_dot_rows4`, the rest one by one; the sizes below leave 0 to 3 rows over.

use candle_core::quantized::k_quants::{matmul, BlockQ4K, BlockQ4_1, BlockQ8_0, GgmlType};

mod kernels_common;

/// A fixed pseudo-random sequence in [-1, 1).
fn values(count: usize, seed: u64) -> Vec<f32> {
    kernels_common::values(count, seed, -1.0, 1.0)
}

fn quantized<T: GgmlType>(n: usize, k: usize) -> Vec<T> {
    let mut weights = vec![T::zeros(); n * k / T::BLCK_SIZE];
    T::from_float(&values(n * k, 7), &mut weights);
    weights
}

fn same_as_row_by_row<T: GgmlType>(m: usize, k: usize, n: usize) {
    let weights = quantized::<T>(n, k);
    let lhs = values(m * k, 11);
    let mut at_once = vec![0f32; m * n];
    matmul((m, k, n), &lhs, &weights, &mut at_once).unwrap();
    for row in 0..m {
        let mut alone = vec![0f32; n];
        matmul(
            (1, k, n),
            &lhs[row * k..(row + 1) * k],
            &weights,
            &mut alone,
        )
        .unwrap();
        assert_eq!(
            at_once[row * n..(row + 1) * n],
            alone[..],
            "row {row} of ({m}, {k}, {n})"
        );
    }
}

#[test]
fn a_prompt_multiplied_at_once_equals_its_rows_multiplied_alone() {
    // Sizes of the default model's layers (576 wide, 1,536 in the MLP), prompts shorter and
    // longer than a block of rows, column counts that do not fill the last tile.
    for (m, k, n) in [
        (4, 576, 64),
        (5, 576, 100),
        (37, 576, 576),
        (200, 576, 1536),
        (33, 1536, 576),
    ] {
        same_as_row_by_row::<BlockQ8_0>(m, k, n);
        same_as_row_by_row::<BlockQ4_1>(m, k, n);
    }
    // An odd number of blocks per row (the kernels' lone last block) and 2 rows over.
    same_as_row_by_row::<BlockQ8_0>(22, 96, 70);
    same_as_row_by_row::<BlockQ4_1>(22, 96, 70);
    same_as_row_by_row::<BlockQ4K>(19, 512, 130);
}

#[test]
fn empty_and_single_row_products_still_work() {
    same_as_row_by_row::<BlockQ8_0>(1, 64, 3);
    let weights = quantized::<BlockQ8_0>(8, 64);
    let mut nothing: Vec<f32> = Vec::new();
    matmul((0, 64, 8), &[], &weights, &mut nothing).unwrap();
}
