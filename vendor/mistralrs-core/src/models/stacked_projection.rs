//! TOKENWISE PATCH (vendor/README.md): projections of the same input computed as one matrix.
//!
//! A llama layer multiplies its normalized input by three matrices for attention (Q, K, V) and
//! by two for the MLP (gate, up). Decoding one token, each multiplication is a parallel
//! section of the thread pool with its own fork and join, and each quantizes the same input to
//! 8 bits again; K and V of a small model (192 outputs on the default model) are too narrow to
//! be split across threads at all. Stacking the rows of the matrices into one (once, at load)
//! makes one wider multiplication of each group: every output is the same dot product of the
//! same weight row with the same quantized input as before, so the results are identical bit
//! for bit; only the number of parallel sections and input quantizations changes.

use std::borrow::Cow;
use std::sync::Arc;

use candle_core::quantized::{QStorage, QTensor};
use candle_core::{Device, Result, Tensor, D};
use mistralrs_quant::{GgufMatMul, QuantMethod, QuantMethodConfig};

use crate::layers::MatMul;

/// Several projections of one input, stacked into one matrix when they can be.
pub struct StackedProjection {
    kind: Kind,
}

enum Kind {
    /// As the model file stores them: one multiplication each (weights of different types, or
    /// not in CPU memory).
    Separate(Vec<Arc<dyn QuantMethod>>),
    /// One matrix whose rows are each projection's rows in turn; `widths` are the projections'
    /// output sizes, in order.
    Stacked {
        weight: Arc<dyn QuantMethod>,
        widths: Vec<usize>,
    },
}

impl StackedProjection {
    /// The projections `parts` (weights of shape outputs × inputs), stacked when they are all
    /// in CPU memory, of one quantized type and with the same number of inputs.
    pub fn new(parts: Vec<QTensor>) -> Result<Self> {
        let stacked = if keep_separate() {
            None
        } else {
            stack_rows(&parts)?
        };
        let kind = match stacked {
            Some(stacked) => Kind::Stacked {
                widths: parts.iter().map(|part| part.shape().dims()[0]).collect(),
                weight: gguf_matmul(stacked)?,
            },
            None => Kind::Separate(parts.into_iter().map(gguf_matmul).collect::<Result<_>>()?),
        };
        Ok(Self { kind })
    }

    /// Whether the projections run as one multiplication.
    pub fn is_stacked(&self) -> bool {
        matches!(self.kind, Kind::Stacked { .. })
    }

    /// Each projection of `xs` (`(…, inputs)`), in the order given to [`Self::new`], each a
    /// contiguous `(…, outputs)` tensor.
    pub fn forward(&self, xs: &Tensor) -> Result<Vec<Tensor>> {
        match &self.kind {
            Kind::Separate(parts) => parts
                .iter()
                .map(|part| MatMul.qmethod_matmul(xs, &**part))
                .collect(),
            Kind::Stacked { weight, widths } => {
                let all = MatMul.qmethod_matmul(xs, &**weight)?;
                let mut offset = 0;
                widths
                    .iter()
                    .map(|&width| {
                        let part = all.narrow(D::Minus1, offset, width)?.contiguous();
                        offset += width;
                        part
                    })
                    .collect()
            }
        }
    }
}

/// `TOKENWISE_STACKED_PROJECTIONS=separate` keeps upstream's separate matrices, to measure
/// both in one build.
fn keep_separate() -> bool {
    std::env::var("TOKENWISE_STACKED_PROJECTIONS").is_ok_and(|value| value == "separate")
}

fn gguf_matmul(weight: QTensor) -> Result<Arc<dyn QuantMethod>> {
    Ok(Arc::new(GgufMatMul::new(QuantMethodConfig::Gguf {
        q_weight: Arc::new(weight),
        b: None,
    })?))
}

/// One matrix holding the rows of `parts` one after the other, or `None` when they cannot be
/// stacked. A quantized matrix is stored row after row, each row a whole number of blocks, so
/// the stacked matrix is the parts' bytes in order.
fn stack_rows(parts: &[QTensor]) -> Result<Option<QTensor>> {
    let Some(first) = parts.first() else {
        return Ok(None);
    };
    let (dtype, inputs) = (first.dtype(), first.shape().dims().last().copied());
    let stackable = parts.len() > 1
        && parts.iter().all(|part| {
            part.device().is_cpu()
                && part.rank() == 2
                && part.dtype() == dtype
                && part.shape().dims().last().copied() == inputs
        });
    let Some(inputs) = inputs.filter(|_| stackable) else {
        return Ok(None);
    };
    let rows = parts
        .iter()
        .map(|part| part.shape().dims()[0])
        .sum::<usize>();
    let mut bytes = Vec::with_capacity(parts.iter().map(QTensor::storage_size_in_bytes).sum());
    for part in parts {
        bytes.extend_from_slice(&part.data()?);
    }
    // Borrowed: the bytes live here until `from_data` has copied them. (With `Cow::Owned`,
    // candle 0.10.2 read them after freeing them; fixed in `vendor/candle-core`, and tested.)
    let storage = QStorage::from_data(Cow::Borrowed(&bytes), &Device::Cpu, dtype)?;
    Ok(Some(QTensor::new(storage, (rows, inputs))?))
}
