//! A short measured probe of how fast this machine streams quantized weights through the
//! decode kernels (candle's Q8_0 matrix-vector product, the operation that dominates decoding a
//! token). Decode is memory-bound, so a model's expected tokens per second is about this rate
//! divided by the bytes of weights it reads per token (`tokenwise_models::fit`).

use std::time::Instant;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

use crate::error::LocalError;

/// Rows and columns of the probe's weight matrix: 2048 × 16384 Q8_0 is 35.7 MB, far larger
/// than any CPU cache, like a real model's layers.
const ROWS: usize = 16_384;
const COLUMNS: usize = 2_048;
const ROUNDS: usize = 12;

/// Bytes of Q8_0 weights multiplied per second by one decode step's matrix-vector product.
pub fn weight_bytes_per_second() -> Result<f64, LocalError> {
    let probe_error = |error: candle_core::Error| LocalError::Probe(error.to_string());
    let device = Device::Cpu;
    let values: Vec<f32> = (0..ROWS * COLUMNS)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let weights = Tensor::from_vec(values, (ROWS, COLUMNS), &device).map_err(probe_error)?;
    let quantized = QTensor::quantize(&weights, GgmlDType::Q8_0).map_err(probe_error)?;
    let bytes = quantized.storage_size_in_bytes() as f64;
    let matmul = QMatMul::from_qtensor(quantized).map_err(probe_error)?;
    let input =
        Tensor::ones((1, COLUMNS), candle_core::DType::F32, &device).map_err(probe_error)?;
    // One warm-up round: thread pool start, first-touch of the weights.
    matmul.forward(&input).map_err(probe_error)?;
    let mut seconds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            matmul
                .forward(&input)
                .map(|_| started.elapsed().as_secs_f64())
        })
        .collect::<Result<_, _>>()
        .map_err(probe_error)?;
    // The median: a shared machine's odd slow round does not decide.
    seconds.sort_by(f64::total_cmp);
    Ok(bytes / seconds[ROUNDS / 2].max(1e-9))
}
