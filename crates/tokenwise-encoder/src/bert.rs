//! A BERT encoder (the architecture of all-MiniLM-L6-v2) on candle, CPU, one sequence at a time.
//!
//! Embeddings (word + position + token type, layer-normed), then `num_hidden_layers` blocks of
//! self-attention and a GELU feed-forward, each with a residual connection and a layer norm
//! (post-norm, as in the original BERT). A single unpadded sequence needs no attention mask.

use std::collections::HashMap;

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{embedding, layer_norm, linear, Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

use crate::error::{EncoderError, Result};

/// The fields of the model's `config.json` the encoder uses.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_act: String,
}

impl BertConfig {
    /// Rejects shapes this implementation does not run (a config for another architecture).
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!("activation {:?} is not gelu", self.hidden_act));
        }
        let sizes = [
            self.vocab_size,
            self.hidden_size,
            self.num_hidden_layers,
            self.num_attention_heads,
            self.intermediate_size,
            self.max_position_embeddings,
            self.type_vocab_size,
        ];
        if sizes.iter().any(|&size| size == 0 || size > 1 << 20) {
            return Err("a size is zero or implausibly large".into());
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return Err("layer_norm_eps must be positive".into());
        }
        Ok(())
    }
}

/// A projection back to the hidden size, added to the block's input and layer-normed (BERT's
/// "output" after attention and after the feed-forward).
struct ResidualOutput {
    dense: Linear,
    norm: LayerNorm,
}

impl ResidualOutput {
    fn load(inputs: usize, config: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            dense: linear(inputs, config.hidden_size, vb.pp("dense"))?,
            norm: layer_norm(
                config.hidden_size,
                config.layer_norm_eps,
                vb.pp("LayerNorm"),
            )?,
        })
    }

    fn forward(&self, x: &Tensor, residual: &Tensor) -> candle_core::Result<Tensor> {
        self.norm.forward(&(self.dense.forward(x)? + residual)?)
    }
}

struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: ResidualOutput,
    heads: usize,
    head_size: usize,
}

impl SelfAttention {
    fn load(config: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let hidden = config.hidden_size;
        let own = vb.pp("self");
        Ok(Self {
            query: linear(hidden, hidden, own.pp("query"))?,
            key: linear(hidden, hidden, own.pp("key"))?,
            value: linear(hidden, hidden, own.pp("value"))?,
            output: ResidualOutput::load(hidden, config, vb.pp("output"))?,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
        })
    }

    /// `x`: [tokens, hidden] → [tokens, hidden].
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let tokens = x.dim(0)?;
        // [tokens, hidden] → [heads, tokens, head_size]
        let split = |t: Tensor| {
            t.reshape((tokens, self.heads, self.head_size))?
                .transpose(0, 1)?
                .contiguous()
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = weights
            .matmul(&v)?
            .transpose(0, 1)?
            .reshape((tokens, self.heads * self.head_size))?;
        self.output.forward(&context, x)
    }
}

struct Layer {
    attention: SelfAttention,
    intermediate: Linear,
    output: ResidualOutput,
}

impl Layer {
    fn load(config: &BertConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let (hidden, inner) = (config.hidden_size, config.intermediate_size);
        Ok(Self {
            attention: SelfAttention::load(config, vb.pp("attention"))?,
            intermediate: linear(hidden, inner, vb.pp("intermediate").pp("dense"))?,
            output: ResidualOutput::load(inner, config, vb.pp("output"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let attended = self.attention.forward(x)?;
        let inner = self.intermediate.forward(&attended)?.gelu_erf()?;
        self.output.forward(&inner, &attended)
    }
}

/// The encoder: token ids in, one vector per token out.
pub struct Bert {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    max_positions: usize,
}

impl Bert {
    /// Builds the model from its tensors (safetensors names as Hugging Face writes them, with
    /// or without a `bert.` prefix). `config` must have passed [`BertConfig::validate`].
    pub fn from_tensors(config: &BertConfig, tensors: HashMap<String, Tensor>) -> Result<Self> {
        let prefixed = tensors.keys().any(|name| name.starts_with("bert."));
        let root = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let root = if prefixed { root.pp("bert") } else { root };
        let build = || -> candle_core::Result<Self> {
            let vb = root.pp("embeddings");
            let hidden = config.hidden_size;
            Ok(Self {
                words: embedding(config.vocab_size, hidden, vb.pp("word_embeddings"))?,
                positions: embedding(
                    config.max_position_embeddings,
                    hidden,
                    vb.pp("position_embeddings"),
                )?,
                token_types: embedding(
                    config.type_vocab_size,
                    hidden,
                    vb.pp("token_type_embeddings"),
                )?,
                norm: layer_norm(hidden, config.layer_norm_eps, vb.pp("LayerNorm"))?,
                layers: (0..config.num_hidden_layers)
                    .map(|index| Layer::load(config, root.pp("encoder").pp("layer").pp(index)))
                    .collect::<candle_core::Result<_>>()?,
                max_positions: config.max_position_embeddings,
            })
        };
        build().map_err(|error| EncoderError::Corrupt {
            path: "model.safetensors".into(),
            message: error.to_string(),
        })
    }

    /// The longest sequence the position table covers.
    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// Mean of the last layer's token vectors: [hidden]. `ids` must be non-empty and at most
    /// [`Bert::max_positions`] long.
    pub fn mean_pooled(&self, ids: &[u32]) -> Result<Vec<f32>> {
        if ids.is_empty() || ids.len() > self.max_positions {
            return Err(EncoderError::Inference(format!(
                "{} tokens (1 to {} allowed)",
                ids.len(),
                self.max_positions
            )));
        }
        let device = Device::Cpu;
        let tokens = ids.len();
        let ids = Tensor::new(ids, &device)?;
        let positions = Tensor::arange(0u32, tokens as u32, &device)?;
        let types = Tensor::zeros(tokens, DType::U32, &device)?;
        let embedded = ((self.words.forward(&ids)? + self.positions.forward(&positions)?)?
            + self.token_types.forward(&types)?)?;
        let mut hidden = self.norm.forward(&embedded)?;
        for layer in &self.layers {
            hidden = layer.forward(&hidden)?;
        }
        Ok(hidden.mean(D::Minus2)?.to_vec1::<f32>()?)
    }
}
