//! The shape of a downloaded model, read from its GGUF header: architecture, layers, KV heads,
//! head size, trained context. The fit rules use it instead of the catalog's figures once the
//! file is here (an IT catalog may be wrong; the file is not), and a file that is not GGUF is
//! caught before the engine sees it.
//!
//! Only the metadata is read, with limits on every length (a hostile or damaged file cannot
//! make it allocate or loop without bound); the tokenizer's arrays are skipped, not stored.

use std::io::{BufReader, Read};
use std::path::Path;

/// What the fit rules need from a GGUF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GgufShape {
    pub architecture: String,
    pub layers: u32,
    pub kv_heads: u32,
    pub head_dim: u32,
    pub context_tokens: Option<u32>,
}

/// Why a file's header could not be read, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotGguf(pub String);

const MAX_KEYS: u64 = 100_000;
const MAX_STRING: u64 = 1 << 20;
const MAX_ARRAY: u64 = 1 << 24;

/// Reads the shape from the GGUF file at `path`.
pub fn read_shape(path: &Path) -> Result<GgufShape, NotGguf> {
    let file = std::fs::File::open(path).map_err(|e| NotGguf(format!("cannot be opened: {e}")))?;
    shape_of(&mut BufReader::with_capacity(1 << 16, file))
}

/// Reads the shape from a GGUF stream.
pub fn shape_of(reader: &mut impl Read) -> Result<GgufShape, NotGguf> {
    let mut r = Reader(reader);
    let mut magic = [0u8; 4];
    r.exact(&mut magic)?;
    if &magic != b"GGUF" {
        return Err(NotGguf("it is not a GGUF model file".into()));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(NotGguf(format!("GGUF version {version} is not supported")));
    }
    let _tensors = r.u64()?;
    let keys = r.u64()?;
    if keys > MAX_KEYS {
        return Err(NotGguf(format!(
            "its header claims {keys} metadata entries"
        )));
    }
    let mut numbers = std::collections::HashMap::new();
    let mut architecture = None;
    for _ in 0..keys {
        let key = r.string()?;
        let kind = r.u32()?;
        if key == "general.architecture" && kind == STRING {
            architecture = Some(r.string()?);
        } else if let Some(value) = r.value(kind)? {
            numbers.insert(key, value);
        }
    }
    let architecture = architecture.ok_or_else(|| NotGguf("it names no architecture".into()))?;
    let number = |name: &str| {
        numbers
            .get(&format!("{architecture}.{name}"))
            .and_then(|&v| u32::try_from(v).ok())
            .filter(|&v| v > 0)
    };
    let missing = |name: &str| NotGguf(format!("it does not state {architecture}.{name}"));
    let layers = number("block_count").ok_or_else(|| missing("block_count"))?;
    let heads = number("attention.head_count").ok_or_else(|| missing("attention.head_count"))?;
    let kv_heads = number("attention.head_count_kv").unwrap_or(heads);
    let head_dim = match number("attention.key_length") {
        Some(length) => length,
        None => number("embedding_length").ok_or_else(|| missing("embedding_length"))? / heads,
    };
    let context_tokens = number("context_length");
    Ok(GgufShape {
        architecture,
        layers,
        kv_heads,
        head_dim,
        context_tokens,
    })
}

const STRING: u32 = 8;
const ARRAY: u32 = 9;

struct Reader<'a, R: Read>(&'a mut R);

impl<R: Read> Reader<'_, R> {
    fn exact(&mut self, buffer: &mut [u8]) -> Result<(), NotGguf> {
        self.0
            .read_exact(buffer)
            .map_err(|_| NotGguf("its header ends early (a damaged or partial file)".into()))
    }

    fn u32(&mut self) -> Result<u32, NotGguf> {
        let mut b = [0u8; 4];
        self.exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, NotGguf> {
        let mut b = [0u8; 8];
        self.exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn skip(&mut self, bytes: u64) -> Result<(), NotGguf> {
        let copied = std::io::copy(&mut self.0.take(bytes), &mut std::io::sink())
            .map_err(|e| NotGguf(format!("cannot be read: {e}")))?;
        if copied == bytes {
            Ok(())
        } else {
            Err(NotGguf(
                "its header ends early (a damaged or partial file)".into(),
            ))
        }
    }

    fn string(&mut self) -> Result<String, NotGguf> {
        let length = self.u64()?;
        if length > MAX_STRING {
            return Err(NotGguf(format!("its header has a {length}-byte string")));
        }
        let mut bytes = vec![0u8; length as usize];
        self.exact(&mut bytes)?;
        String::from_utf8(bytes)
            .map_err(|_| NotGguf("its header has text that is not UTF-8".into()))
    }

    /// Reads one value of type `kind`: integers are returned, everything else skipped.
    fn value(&mut self, kind: u32) -> Result<Option<u64>, NotGguf> {
        let fixed = |kind| match kind {
            0 | 1 | 7 => Some(1),
            2 | 3 => Some(2),
            4..=6 => Some(4),
            10..=12 => Some(8),
            _ => None,
        };
        Ok(match kind {
            0 | 7 => {
                let mut b = [0u8; 1];
                self.exact(&mut b)?;
                Some(u64::from(b[0]))
            }
            4 => Some(u64::from(self.u32()?)),
            5 => u64::try_from(self.u32()? as i32).ok(),
            10 => Some(self.u64()?),
            11 => u64::try_from(self.u64()? as i64).ok(),
            STRING => {
                let length = self.u64()?;
                if length > MAX_STRING {
                    return Err(NotGguf(format!("its header has a {length}-byte string")));
                }
                self.skip(length)?;
                None
            }
            ARRAY => {
                let item = self.u32()?;
                let count = self.u64()?;
                if count > MAX_ARRAY {
                    return Err(NotGguf(format!("its header has a {count}-item list")));
                }
                match (item, fixed(item)) {
                    (_, Some(size)) => self.skip(count * size)?,
                    (STRING, None) => {
                        for _ in 0..count {
                            self.value(STRING)?;
                        }
                    }
                    _ => {
                        return Err(NotGguf(format!("its header has a list of type {item}")));
                    }
                }
                None
            }
            other => match fixed(other) {
                Some(size) => {
                    self.skip(size)?;
                    None
                }
                None => return Err(NotGguf(format!("its header has a value of type {other}"))),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GGUF header with `entries` (key, type, value bytes).
    fn header(entries: &[(&str, u32, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(0u64.to_le_bytes());
        out.extend((entries.len() as u64).to_le_bytes());
        for (key, kind, value) in entries {
            out.extend((key.len() as u64).to_le_bytes());
            out.extend(key.as_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(value);
        }
        out
    }

    fn text(s: &str) -> Vec<u8> {
        let mut v = (s.len() as u64).to_le_bytes().to_vec();
        v.extend(s.as_bytes());
        v
    }

    fn u32v(n: u32) -> Vec<u8> {
        n.to_le_bytes().to_vec()
    }

    fn llama(extra: Vec<(&'static str, u32, Vec<u8>)>) -> Vec<u8> {
        let mut entries = vec![
            ("general.architecture", STRING, text("llama")),
            ("general.name", STRING, text("tiny")),
            ("llama.block_count", 4, u32v(30)),
            ("llama.attention.head_count", 4, u32v(9)),
            ("llama.attention.head_count_kv", 4, u32v(3)),
            ("llama.embedding_length", 4, u32v(576)),
            ("llama.context_length", 4, u32v(8192)),
        ];
        // The tokenizer's list of strings, skipped.
        let mut tokens = STRING.to_le_bytes().to_vec();
        tokens.extend(3u64.to_le_bytes());
        for t in ["<s>", "a", "b"] {
            tokens.extend(text(t));
        }
        entries.push(("tokenizer.ggml.tokens", ARRAY, tokens));
        entries.extend(extra);
        header(&entries)
    }

    #[test]
    fn the_shape_comes_from_the_header() {
        let shape = shape_of(&mut llama(vec![]).as_slice()).unwrap();
        assert_eq!(
            shape,
            GgufShape {
                architecture: "llama".into(),
                layers: 30,
                kv_heads: 3,
                head_dim: 64,
                context_tokens: Some(8192),
            }
        );
    }

    #[test]
    fn the_real_default_model_reads_as_its_catalog_entry_says() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf");
        let shape = read_shape(&path).expect("run scripts/fetch-model.sh");
        let catalog = crate::Catalog::builtin();
        let entry = catalog.get("smollm2-135m-instruct-q4_1").unwrap();
        assert_eq!(
            (shape.layers, shape.kv_heads, shape.head_dim),
            (entry.layers, entry.kv_heads, entry.head_dim)
        );
        assert_eq!(shape.architecture, "llama");
    }

    #[test]
    fn hostile_and_damaged_headers_are_refused_in_words() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04 a zip file".to_vec(), "not a GGUF"),
            (b"GG".to_vec(), "ends early"),
            (llama(vec![])[..60].to_vec(), "ends early"),
            (
                {
                    let mut h = header(&[]);
                    h[8..16].copy_from_slice(&0u64.to_le_bytes());
                    h[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
                    h
                },
                "metadata entries",
            ),
            (
                header(&[("general.architecture", STRING, {
                    let mut v = (u64::MAX).to_le_bytes().to_vec();
                    v.extend(b"x");
                    v
                })]),
                "string",
            ),
            (
                header(&[("x", ARRAY, {
                    let mut v = 4u32.to_le_bytes().to_vec();
                    v.extend(u64::MAX.to_le_bytes());
                    v
                })]),
                "list",
            ),
            (header(&[("x", 99, vec![])]), "type 99"),
            (
                header(&[("general.architecture", STRING, text("llama"))]),
                "block_count",
            ),
            (
                header(&[("general.name", STRING, text("x"))]),
                "no architecture",
            ),
        ];
        for (bytes, expected) in cases {
            let error = shape_of(&mut bytes.as_slice()).unwrap_err();
            assert!(error.0.contains(expected), "{expected}: {}", error.0);
        }
    }
}
