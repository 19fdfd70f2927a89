//! A copy of a model's weights in a format the CPU has SIMD kernels for.
//!
//! candle 0.10.2 (under mistral.rs) has AVX2/NEON dot products for Q4_0, Q8_0 and the K-quants,
//! but none for Q4_1, Q5_0 or Q5_1: those run a scalar loop, and the default model is Q4_1.
//! Profiled on a ~1,000-token prompt, 44 % of the time was that scalar loop. Re-encoding those
//! tensors as Q8_0 once (dequantize each 32-value block, requantize it with one 8-bit scale)
//! moves every matmul onto the SIMD path. Q8_0 is finer than the 4/5-bit source grid, so the
//! copy loses almost nothing: each value moves by at most half a Q8_0 step (|max|/254 of its
//! block), far below the source's own 4-bit step. The copy is ~1.5× the file's size.
//! (Tokenwise's vendored candle now has an AVX2 Q4_1 kernel too; the copy still reads prompts
//! ~15 % faster, the original decodes ~10 % faster in less memory: `docs/performance.md`.)
//!
//! The copy lives in the app's data folder (the installed models folder may be read-only),
//! named after the source's checksum, written to a temporary name and renamed into place, with
//! a `.sha256` next to it that is checked before each use. Anything that goes wrong (full disk,
//! unreadable folder) leaves the original file in use: slower, never broken.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;

use crate::error::LocalError;
use crate::model_file::sha256_hex;

/// The tensor types with no SIMD dot product in candle 0.10.2's CPU backend.
const SCALAR_ONLY: [GgmlDType; 3] = [GgmlDType::Q4_1, GgmlDType::Q5_0, GgmlDType::Q5_1];

/// The format the copy uses: SIMD kernels on x86-64 (AVX2) and ARM (NEON), and finer than
/// every type in [`SCALAR_ONLY`].
const TARGET: GgmlDType = GgmlDType::Q8_0;

/// GGUF's `general.file_type` value for "mostly Q8_0" (llama.cpp's `LLAMA_FTYPE_MOSTLY_Q8_0`).
const FILE_TYPE_MOSTLY_Q8_0: u32 = 7;

/// Which weights an engine runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weights {
    /// The file as downloaded: it has no tensor in a scalar-only format, or no copy was wanted.
    Original(PathBuf),
    /// The Q8_0 copy of a file that had scalar-only tensors.
    Repacked { original: PathBuf, copy: PathBuf },
    /// The copy could not be made or read; the original is used. `reason` says why.
    OriginalBecause { original: PathBuf, reason: String },
}

impl Weights {
    /// The file mistral.rs should load.
    pub fn path(&self) -> &Path {
        match self {
            Weights::Original(path) | Weights::OriginalBecause { original: path, .. } => path,
            Weights::Repacked { copy, .. } => copy,
        }
    }

    /// One line for benchmarks and logs.
    pub fn describe(&self) -> String {
        match self {
            Weights::Original(path) => format!("{} as downloaded", display_name(path)),
            Weights::Repacked { copy, .. } => {
                format!("{} (Q8_0 copy for the SIMD kernels)", display_name(copy))
            }
            Weights::OriginalBecause { original, reason } => format!(
                "{} as downloaded: no faster copy ({reason})",
                display_name(original)
            ),
        }
    }
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The weights to load for `original` (already verified, with checksum `original_sha256`):
/// its SIMD-friendly copy in `copies_dir`, made now if missing or damaged, or the original
/// when it needs no copy or the copy cannot be had.
pub fn prepare(original: &Path, original_sha256: &str, copies_dir: &Path) -> Weights {
    match repacked_copy(original, original_sha256, copies_dir) {
        Ok(Some(copy)) => Weights::Repacked {
            original: original.to_path_buf(),
            copy,
        },
        Ok(None) => Weights::Original(original.to_path_buf()),
        Err(reason) => Weights::OriginalBecause {
            original: original.to_path_buf(),
            reason: reason.to_string(),
        },
    }
}

/// Where the copy of a file with checksum `sha256` goes.
pub fn copy_path(original: &Path, sha256: &str, copies_dir: &Path) -> PathBuf {
    let stem = original
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let short = sha256.get(..16).unwrap_or(sha256);
    copies_dir.join(format!("{stem}.{short}.q8_0.gguf"))
}

fn checksum_path(copy: &Path) -> PathBuf {
    let mut name = copy.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// The intact copy, made if needed; `None` when the file has no scalar-only tensor.
fn repacked_copy(
    original: &Path,
    original_sha256: &str,
    copies_dir: &Path,
) -> Result<Option<PathBuf>, LocalError> {
    let copy = copy_path(original, original_sha256, copies_dir);
    if copy_is_intact(&copy) {
        return Ok(Some(copy));
    }
    let unreadable = |cause: std::io::Error| LocalError::ModelUnreadable {
        path: original.to_path_buf(),
        cause,
    };
    let mut reader = BufReader::new(File::open(original).map_err(unreadable)?);
    let content = gguf_file::Content::read(&mut reader).map_err(|error| LocalError::ModelLoad {
        path: original.to_path_buf(),
        detail: error.to_string(),
    })?;
    if !content
        .tensor_infos
        .values()
        .any(|info| SCALAR_ONLY.contains(&info.ggml_dtype))
    {
        return Ok(None);
    }
    let written = write_copy(&content, &mut reader, original, &copy);
    // Every tensor of the model was built, written and freed on this thread; glibc keeps that
    // memory in this thread's arena, which the engine, loading on another, would not reuse
    // (first start's peak 686 → see docs/performance.md).
    tokenwise_malloc::release_free_memory();
    written?;
    Ok(Some(copy))
}

fn copy_is_intact(copy: &Path) -> bool {
    let Ok(expected) = std::fs::read_to_string(checksum_path(copy)) else {
        return false;
    };
    sha256_hex(copy).is_ok_and(|actual| actual == expected.trim())
}

/// Re-encodes every scalar-only tensor of `content` as Q8_0 and writes the result to `copy`
/// (through a temporary file and a rename), with its checksum file.
fn write_copy(
    content: &gguf_file::Content,
    reader: &mut BufReader<File>,
    original: &Path,
    copy: &Path,
) -> Result<(), LocalError> {
    let load_error = |detail: String| LocalError::ModelLoad {
        path: original.to_path_buf(),
        detail,
    };
    let write_error = |cause: std::io::Error| LocalError::WeightsCopy {
        path: copy.to_path_buf(),
        cause,
    };
    // Tensors in file order, so the copy is laid out like the original.
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort_by_key(|name| content.tensor_infos[*name].offset);
    let mut tensors: Vec<(&str, QTensor)> = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content
            .tensor(reader, name, &Device::Cpu)
            .map_err(|error| load_error(format!("tensor {name}: {error}")))?;
        tensors.push((name.as_str(), to_simd_format(tensor).map_err(load_error)?));
    }
    let metadata = copy_metadata(&content.metadata);

    let dir = copy.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let temporary = dir.join(format!(
        ".{}.{}.partial",
        display_name(copy),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&temporary)?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        let metadata_refs: Vec<(&str, &gguf_file::Value)> =
            metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let tensor_refs: Vec<(&str, &QTensor)> = tensors
            .iter()
            .map(|(name, tensor)| (*name, tensor))
            .collect();
        gguf_file::write(&mut writer, &metadata_refs, &tensor_refs)
            .map_err(|error| std::io::Error::other(error.to_string()))?;
        writer.flush()?;
        writer.get_ref().sync_all()?;
        drop(writer);
        let checksum = sha256_hex(&temporary)?;
        std::fs::write(checksum_path(copy), format!("{checksum}\n"))?;
        std::fs::rename(&temporary, copy)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
        let _ = std::fs::remove_file(checksum_path(copy));
    }
    result.map_err(write_error)
}

/// `tensor` itself, or its Q8_0 re-encoding when its type has no SIMD kernel.
fn to_simd_format(tensor: QTensor) -> Result<QTensor, String> {
    if !SCALAR_ONLY.contains(&tensor.dtype()) {
        return Ok(tensor);
    }
    let values = tensor
        .dequantize(&Device::Cpu)
        .map_err(|error| error.to_string())?;
    QTensor::quantize(&values, TARGET).map_err(|error| error.to_string())
}

/// The original's metadata, sorted by key (so the copy is byte-for-byte reproducible), with
/// the file type updated and the alignment left to the writer (which always uses 32).
fn copy_metadata(metadata: &HashMap<String, gguf_file::Value>) -> Vec<(String, gguf_file::Value)> {
    let mut entries: Vec<(String, gguf_file::Value)> = metadata
        .iter()
        .filter(|(key, _)| key.as_str() != "general.alignment")
        .map(|(key, value)| {
            let value = if key == "general.file_type" {
                gguf_file::Value::U32(FILE_TYPE_MOSTLY_Q8_0)
            } else {
                value.clone()
            };
            (key.clone(), value)
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q4_1_tensor(rows: usize, columns: usize) -> QTensor {
        let values: Vec<f32> = (0..rows * columns)
            .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
            .collect();
        let tensor = candle_core::Tensor::from_vec(values, (rows, columns), &Device::Cpu).unwrap();
        QTensor::quantize(&tensor, GgmlDType::Q4_1).unwrap()
    }

    #[test]
    fn scalar_only_types_become_q8_0_and_keep_their_values() {
        let original = q4_1_tensor(8, 64);
        let before = original.dequantize(&Device::Cpu).unwrap();
        let converted = to_simd_format(original).unwrap();
        assert_eq!(converted.dtype(), GgmlDType::Q8_0);
        assert_eq!(converted.shape().dims(), &[8, 64]);
        let after = converted.dequantize(&Device::Cpu).unwrap();
        let largest = |t: &candle_core::Tensor| {
            t.abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        let bound = largest(&before) / 254.0 * 1.01; // half a Q8_0 step; the scale is an f16
        let worst = largest(&(before - after).unwrap());
        assert!(worst <= bound, "worst difference {worst}, bound {bound}");
    }

    #[test]
    fn types_with_simd_kernels_are_left_alone() {
        let values =
            candle_core::Tensor::ones((4, 32), candle_core::DType::F32, &Device::Cpu).unwrap();
        let q4_0 = QTensor::quantize(&values, GgmlDType::Q4_0).unwrap();
        assert_eq!(to_simd_format(q4_0).unwrap().dtype(), GgmlDType::Q4_0);
    }

    #[test]
    fn metadata_is_sorted_marks_q8_0_and_drops_the_alignment() {
        let metadata = HashMap::from([
            ("b".to_string(), gguf_file::Value::U8(1)),
            ("general.file_type".to_string(), gguf_file::Value::U32(3)),
            ("general.alignment".to_string(), gguf_file::Value::U32(64)),
            ("a".to_string(), gguf_file::Value::U8(2)),
        ]);
        let copied = copy_metadata(&metadata);
        let keys: Vec<&str> = copied.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "general.file_type"]);
        assert!(matches!(
            copied[2].1,
            gguf_file::Value::U32(FILE_TYPE_MOSTLY_Q8_0)
        ));
    }

    #[test]
    fn a_gguf_file_is_repacked_once_checked_and_remade_when_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("tiny.gguf");
        let norm = QTensor::quantize(
            &candle_core::Tensor::ones(32, candle_core::DType::F32, &Device::Cpu).unwrap(),
            GgmlDType::F32,
        )
        .unwrap();
        let weight = q4_1_tensor(4, 32);
        {
            let mut file = File::create(&original).unwrap();
            let name = gguf_file::Value::String("tiny".into());
            gguf_file::write(
                &mut file,
                &[("general.name", &name)],
                &[
                    ("blk.0.attn_q.weight", &weight),
                    ("blk.0.norm.weight", &norm),
                ],
            )
            .unwrap();
        }
        let copies = dir.path().join("copies");
        let sha = "0123456789abcdef0123";
        let weights = prepare(&original, sha, &copies);
        let copy = copy_path(&original, sha, &copies);
        assert_eq!(
            weights,
            Weights::Repacked {
                original: original.clone(),
                copy: copy.clone()
            }
        );
        assert_eq!(copy.file_name().unwrap(), "tiny.0123456789abcdef.q8_0.gguf");
        let mut reader = BufReader::new(File::open(&copy).unwrap());
        let content = gguf_file::Content::read(&mut reader).unwrap();
        assert_eq!(
            content.tensor_infos["blk.0.attn_q.weight"].ggml_dtype,
            GgmlDType::Q8_0
        );
        assert_eq!(
            content.tensor_infos["blk.0.norm.weight"].ggml_dtype,
            GgmlDType::F32
        );
        assert!(matches!(
            &content.metadata["general.name"],
            gguf_file::Value::String(name) if name == "tiny"
        ));

        // Reused as is: the same bytes, not rewritten.
        let written = std::fs::metadata(&copy).unwrap().modified().unwrap();
        assert_eq!(prepare(&original, sha, &copies).path(), copy);
        assert_eq!(
            std::fs::metadata(&copy).unwrap().modified().unwrap(),
            written
        );

        // A damaged copy fails its checksum and is made again.
        let mut bytes = std::fs::read(&copy).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&copy, &bytes).unwrap();
        assert!(!copy_is_intact(&copy));
        assert_eq!(prepare(&original, sha, &copies).path(), copy);
        assert!(copy_is_intact(&copy));
    }

    #[test]
    fn a_file_without_scalar_only_tensors_is_used_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("q8.gguf");
        let values =
            candle_core::Tensor::ones((4, 32), candle_core::DType::F32, &Device::Cpu).unwrap();
        let weight = QTensor::quantize(&values, GgmlDType::Q8_0).unwrap();
        gguf_file::write(
            &mut File::create(&original).unwrap(),
            &[],
            &[("w", &weight)],
        )
        .unwrap();
        let copies = dir.path().join("copies");
        assert_eq!(
            prepare(&original, "ab", &copies),
            Weights::Original(original.clone())
        );
        assert!(!copies.exists(), "nothing written");
    }

    #[test]
    fn a_copy_that_cannot_be_written_leaves_the_original_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("tiny.gguf");
        let weight = q4_1_tensor(2, 32);
        gguf_file::write(
            &mut File::create(&original).unwrap(),
            &[],
            &[("w", &weight)],
        )
        .unwrap();
        // A file where the copies folder should be: the folder cannot be created.
        let blocked = dir.path().join("not-a-folder");
        std::fs::write(&blocked, b"x").unwrap();
        let weights = prepare(&original, "ab", &blocked);
        let Weights::OriginalBecause {
            original: used,
            reason,
        } = &weights
        else {
            panic!("{weights:?}");
        };
        assert_eq!(used, &original);
        assert!(reason.contains("not-a-folder"), "{reason}");
        assert_eq!(weights.path(), original);
    }

    #[test]
    fn a_file_that_is_not_gguf_is_reported_not_copied() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("bogus.gguf");
        std::fs::write(&original, b"definitely not a model").unwrap();
        let weights = prepare(&original, "ab", &dir.path().join("copies"));
        assert!(
            matches!(weights, Weights::OriginalBecause { .. }),
            "{weights:?}"
        );
    }
}
