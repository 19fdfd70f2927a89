//! The patched llama layer (`vendor/mistralrs-core`, `StackedProjection`) multiplies Q, K and V
//! (and the MLP's gate and up) as one stacked matrix. Each output must be exactly what the
//! separate matrices give, bit for bit, for a decoded token (one row) and a prompt (many rows,
//! the blocked matmul), for the weight types the app runs; weights that cannot be stacked
//! (different types) still give the same results, one matrix at a time.

use std::borrow::Cow;

use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{Device, Module, Tensor};
use mistralrs_core::StackedProjection;

mod kernels_common;

/// The inputs of a layer: the default model's width, or a whole K-quant block (256) for those.
fn width(dtype: GgmlDType) -> usize {
    if dtype.block_size() == 256 {
        512
    } else {
        576
    }
}

/// A quantized `outputs × width(dtype)` weight, from a fixed pseudo-random sequence.
fn weight(outputs: usize, dtype: GgmlDType, seed: u64) -> QTensor {
    let inputs = width(dtype);
    let values = kernels_common::values(outputs * inputs, seed, -1.0, 1.0);
    let dense = Tensor::from_vec(values, (outputs, inputs), &Device::Cpu).unwrap();
    QTensor::quantize(&dense, dtype).unwrap()
}

/// Q, K and V of the default model's shape (576 → 576, 192, 192), every weight of `types`.
fn attention_weights(types: [GgmlDType; 3]) -> Vec<QTensor> {
    [576, 192, 192]
        .into_iter()
        .zip(types)
        .enumerate()
        .map(|(i, (outputs, dtype))| weight(outputs, dtype, 100 + i as u64))
        .collect()
}

fn inputs(rows: usize, dtype: GgmlDType) -> Tensor {
    let width = width(dtype);
    let values = kernels_common::values(rows * width, 9, -2.0, 2.0);
    Tensor::from_vec(values, (1, rows, width), &Device::Cpu).unwrap()
}

/// A copy of `weight`, byte for byte (`StackedProjection::new` takes the weights).
fn copy_of(weight: &QTensor) -> QTensor {
    let bytes = weight.data().unwrap();
    let storage = QStorage::from_data(Cow::Borrowed(&bytes), &Device::Cpu, weight.dtype()).unwrap();
    QTensor::new(storage, weight.shape()).unwrap()
}

fn flat(tensor: &Tensor) -> Vec<f32> {
    tensor.flatten_all().unwrap().to_vec1().unwrap()
}

/// Asserts that the projection of `xs` by `weights` as one `StackedProjection` equals each
/// weight's own product; returns whether they were stacked.
fn same_as_separate(weights: Vec<QTensor>, xs: &Tensor) -> bool {
    let separate: Vec<Vec<f32>> = weights
        .iter()
        .map(|w| {
            flat(
                &QMatMul::from_qtensor(copy_of(w))
                    .unwrap()
                    .forward(xs)
                    .unwrap(),
            )
        })
        .collect();
    let widths: Vec<usize> = weights.iter().map(|w| w.shape().dims()[0]).collect();
    let projection = StackedProjection::new(weights).unwrap();
    let outputs = projection.forward(xs).unwrap();
    assert_eq!(outputs.len(), separate.len());
    for (i, (output, expected)) in outputs.iter().zip(&separate).enumerate() {
        let (_, rows, _) = xs.dims3().unwrap();
        assert_eq!(output.dims(), [1, rows, widths[i]], "projection {i}");
        assert!(output.is_contiguous(), "projection {i}");
        assert_eq!(&flat(output), expected, "projection {i} of {rows} rows");
    }
    projection.is_stacked()
}

#[test]
fn stacked_q_k_v_equal_the_separate_matrices_for_a_token_and_a_prompt() {
    for dtype in [GgmlDType::Q8_0, GgmlDType::Q4_1, GgmlDType::Q4K] {
        for rows in [1, 3, 9, 40] {
            assert!(
                same_as_separate(attention_weights([dtype; 3]), &inputs(rows, dtype)),
                "{dtype:?} weights of one type are stacked"
            );
        }
    }
}

#[test]
fn stacked_gate_and_up_equal_the_separate_matrices() {
    for rows in [1, 17] {
        let weights = vec![
            weight(1536, GgmlDType::Q8_0, 1),
            weight(1536, GgmlDType::Q8_0, 2),
        ];
        assert!(same_as_separate(weights, &inputs(rows, GgmlDType::Q8_0)));
    }
}

#[test]
fn weights_of_different_types_stay_separate_and_give_the_same_results() {
    // K-quant files (Q4_K_M) keep some V matrices in Q6_K.
    let types = [GgmlDType::Q4K, GgmlDType::Q4K, GgmlDType::Q6K];
    for rows in [1, 9] {
        assert!(!same_as_separate(
            attention_weights(types),
            &inputs(rows, GgmlDType::Q4K)
        ));
    }
}

/// candle 0.10.2 freed `Cow::Owned` bytes inside `QStorage::from_data` and then copied them
/// (`vendor/candle-core`, `as_t_slice`). A weight of 37 MB is above the highest mmap threshold
/// glibc adapts to (32 MiB), so the freed buffer is always unmapped and the copy would crash;
/// fixed, owned and borrowed bytes make the same weight.
#[test]
fn owned_bytes_make_the_same_weight_as_borrowed_ones() {
    let original = weight(60_000, GgmlDType::Q8_0, 31);
    let bytes = original.data().unwrap().into_owned();
    assert!(
        bytes.len() > 1 << 20,
        "large enough to be unmapped when freed"
    );
    let owned =
        QStorage::from_data(Cow::Owned(bytes.clone()), &Device::Cpu, GgmlDType::Q8_0).unwrap();
    let borrowed =
        QStorage::from_data(Cow::Borrowed(&bytes), &Device::Cpu, GgmlDType::Q8_0).unwrap();
    let dims = original.shape().dims().to_vec();
    let values = |storage: QStorage| {
        QTensor::new(storage, dims.as_slice())
            .unwrap()
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    };
    let expected = original
        .dequantize(&Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(values(owned), expected);
    assert_eq!(values(borrowed), expected);
}
