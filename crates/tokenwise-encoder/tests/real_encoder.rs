//! The second stage on the real all-MiniLM-L6-v2 weights (`scripts/fetch-model.sh` puts them in
//! `models/all-MiniLM-L6-v2/`; the test suite fetches them first).

use std::path::{Path, PathBuf};

use tokenwise_classifier::Classifier;
use tokenwise_encoder::sentence::{ENCODER_FILES, HEAD_TOKENS, TAIL_TOKENS};
use tokenwise_encoder::{EncoderError, SecondStage, SecondStageUse, SentenceEncoder, TwoStage};

fn encoder_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2")
}

fn encoder() -> SentenceEncoder {
    SentenceEncoder::load(&encoder_dir())
        .expect("models/all-MiniLM-L6-v2 is fetched by scripts/fetch-model.sh before the tests")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The first eight numbers of each embedding, from an independent NumPy implementation of
/// BERT on the same files (float64, exact erf GELU).
const REFERENCE: [(&str, [f32; 8]); 3] = [
    (
        "How do I reset my password?",
        [
            0.006903, -0.063023, -0.072044, -0.032496, -0.042709, 0.070429, 0.009074, 0.015408,
        ],
    ),
    (
        "I forgot my password, how can I change it?",
        [
            -0.023783, -0.016202, -0.070469, -0.008919, -0.010652, 0.106891, 0.003380, 0.035870,
        ],
    ),
    (
        "The quarterly revenue grew by five percent.",
        [
            0.038497, -0.038145, 0.043032, -0.017980, 0.050189, -0.021206, -0.033271, -0.003160,
        ],
    ),
];

#[test]
fn embeddings_match_an_independent_implementation() {
    let encoder = encoder();
    let embeddings: Vec<Vec<f32>> = REFERENCE
        .iter()
        .map(|(text, expected)| {
            let embedding = encoder.embed(text).unwrap();
            assert_eq!(embedding.len(), 384);
            let norm = cosine(&embedding, &embedding).sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
            for (got, want) in embedding.iter().zip(expected) {
                assert!((got - want).abs() < 1e-4, "{text}: {got} vs {want}");
            }
            embedding
        })
        .collect();
    // Meaning, not wording: the two password questions are close, revenue is not.
    assert!(cosine(&embeddings[0], &embeddings[1]) > 0.85);
    assert!(cosine(&embeddings[0], &embeddings[2]).abs() < 0.1);
}

#[test]
fn any_text_gets_an_embedding_and_long_ones_a_bounded_window() {
    let encoder = encoder();
    for text in [
        "",
        " ",
        "\u{0}\u{1}\u{fffd}",
        "🙂🙂🙂",
        &"word ".repeat(20_000),
    ] {
        let embedding = encoder.embed(text).unwrap();
        assert_eq!(embedding.len(), 384);
        assert!(embedding.iter().all(|x| x.is_finite()), "{text:.20}");
    }
    let ids = encoder.token_ids(&"budget ".repeat(5_000)).unwrap();
    assert_eq!(ids.len(), HEAD_TOKENS + TAIL_TOKENS + 2);
    // The ask at the end of a long paste is still read.
    let pasted = format!(
        "{} Summarize the above in one sentence.",
        "lorem ".repeat(3_000)
    );
    let tail = encoder.token_ids(&pasted).unwrap();
    let ask = encoder
        .token_ids("Summarize the above in one sentence.")
        .unwrap();
    let ask_pieces = &ask[1..ask.len() - 1];
    assert!(tail.windows(ask_pieces.len()).any(|w| w == ask_pieces));
}

#[test]
fn the_second_stage_is_asked_only_when_the_first_is_unsure() {
    let two = TwoStage::new(
        Classifier::embedded().unwrap(),
        SecondStage::load(&encoder_dir()).map_err(|e| e.to_string()),
    );
    assert!(two.has_second_stage());
    let confident = two.classify("What is the capital of France?");
    assert_eq!(confident.second_stage, SecondStageUse::NotNeeded);
    assert_eq!(confident.votes.len(), 1);
    let unsure = two.classify(
        "What is the most successful go to market strategy for a managed services business?",
    );
    assert_eq!(unsure.second_stage, SecondStageUse::Asked, "{unsure:?}");
    assert_eq!(unsure.votes.len(), 2);
    let sum: f32 = unsure.classification.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4);
}

fn copy_encoder(to: &Path) {
    for (name, _) in ENCODER_FILES {
        std::fs::copy(encoder_dir().join(name), to.join(name)).unwrap();
    }
}

#[test]
fn missing_or_corrupt_files_are_refused_in_words() {
    let empty = tempfile::tempdir().unwrap();
    let error = SentenceEncoder::load(empty.path()).err().unwrap();
    assert!(matches!(error, EncoderError::Missing { .. }), "{error}");
    assert!(error.to_string().contains("scripts/fetch-model.sh"));

    let truncated = tempfile::tempdir().unwrap();
    copy_encoder(truncated.path());
    let weights = truncated.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let error = SentenceEncoder::load(truncated.path()).err().unwrap();
    assert!(matches!(error, EncoderError::Corrupt { .. }), "{error}");

    let garbage = tempfile::tempdir().unwrap();
    copy_encoder(garbage.path());
    std::fs::write(garbage.path().join("tokenizer.json"), b"\x00\xffnot json").unwrap();
    let error = SentenceEncoder::load(garbage.path()).err().unwrap();
    assert!(error.to_string().contains("tokenizer.json"), "{error}");

    let other = tempfile::tempdir().unwrap();
    copy_encoder(other.path());
    std::fs::write(
        other.path().join("config.json"),
        r#"{"vocab_size":30522,"hidden_size":384,"num_hidden_layers":6,"num_attention_heads":12,
            "intermediate_size":1536,"max_position_embeddings":512,"type_vocab_size":2,
            "layer_norm_eps":1e-12,"hidden_act":"relu"}"#,
    )
    .unwrap();
    let error = SentenceEncoder::load(other.path()).err().unwrap();
    assert!(error.to_string().contains("gelu"), "{error}");
}
