//! End-to-end checks of the shipped classifier.

use sha2::{Digest, Sha256};
use tokenwise_classifier::{Classifier, Difficulty};

/// The training data, in the repository's `data/routing/` (see its README for sources and
/// licences), in the order the trainer reads them.
const DATASET_PATHS: [&str; 2] = [
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/routing/train.jsonl"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/routing/rubric_written.jsonl"
    ),
];

fn classifier() -> Classifier {
    Classifier::embedded().expect("embedded weights must load")
}

#[test]
fn embedded_weights_were_trained_on_the_dataset_files() {
    // The trainer's fingerprint of several files: the SHA-256 of their SHA-256s joined by "+".
    let mut fingerprints = Vec::new();
    let mut lines = 0;
    for path in DATASET_PATHS {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("dataset {path} must be present: {e}"));
        fingerprints.push(hex::encode(Sha256::digest(&bytes)));
        lines += bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
    }
    let classifier = classifier();
    assert_eq!(
        classifier.trained_on_sha256(),
        hex::encode(Sha256::digest(fingerprints.join("+").as_bytes()))
    );
    assert_eq!(classifier.training_records(), lines);
}

#[test]
fn obvious_prompts_get_sensible_tiers() {
    let classifier = classifier();
    let cases = [
        ("What is the capital of France?", Difficulty::Simple),
        ("Translate to French: good morning", Difficulty::Simple),
        (
            "Summarize this in one sentence: The city council met on Tuesday and voted to \
             postpone the new bus routes until the budget review in March is complete.",
            Difficulty::Simple,
        ),
        (
            "Write a Python function that reverses a string",
            Difficulty::Medium,
        ),
        (
            "We need to schedule 6 engineers across 3 on-call rotations for the next 4 weeks.\n\
             Constraints:\n\
             1. Nobody may be on call two weeks in a row.\n\
             2. Alice cannot work week 2 and Bob cannot work week 4.\n\
             3. Each rotation must always include at least one senior engineer.\n\
             4. The total on-call hours per person must differ by at most 10%.\n\
             5. Rotation C must be covered by someone in the EU time zone.\n\
             Find a schedule that satisfies every constraint, prove that it does, and explain \
             the trade-offs if constraint 4 has to be relaxed.",
            Difficulty::Complex,
        ),
        (
            "Design a multi-region architecture for a payment system that must handle 20,000 \
             transactions per second with 99.99% availability, p99 latency under 150 ms, strict \
             consistency for balances and a budget of $40k per month. Compare two options, \
             quantify the risks and give a migration plan.",
            Difficulty::Complex,
        ),
    ];
    for (prompt, expected) in cases {
        let decision = classifier.classify(prompt);
        assert_eq!(
            decision.difficulty,
            expected,
            "{prompt:?} -> {} ({:?})",
            decision.reason(),
            decision.probabilities
        );
    }
}

#[test]
fn confidence_is_a_probability_of_the_chosen_tier() {
    let classifier = classifier();
    for prompt in [
        "hi",
        "Explain quantum tunnelling to a child.",
        "Prove that √2 is irrational.",
    ] {
        let decision = classifier.classify(prompt);
        assert!((0.0..=1.0).contains(&decision.confidence));
        let total: f32 = decision.probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-4);
        assert_eq!(
            decision.confidence,
            decision.probabilities[decision.difficulty.index()]
        );
        assert!(decision
            .probabilities
            .iter()
            .all(|&p| p <= decision.confidence));
    }
}

#[test]
fn reason_names_tier_signal_and_confidence() {
    let decision = classifier().classify(
        "Summarize this in one sentence: The city council met on Tuesday and voted to postpone \
         the new bus routes until the budget review in March is complete.",
    );
    let reason = decision.reason();
    assert!(reason.starts_with(decision.difficulty.as_str()), "{reason}");
    assert!(
        reason.ends_with(&format!("{:.2}", decision.confidence)),
        "{reason}"
    );
    assert!(!decision.signals.is_empty());
    assert!(decision.signals.len() <= 3);
}

#[test]
fn odd_inputs_do_not_panic() {
    let classifier = classifier();
    let huge = "lorem ipsum dolor sit amet ".repeat(40_000); // about 1 MB
    let binary: String = (0u32..4096)
        .map(|i| char::from_u32(i % 0x2FF).unwrap_or('\u{FFFD}'))
        .collect();
    let multibyte_at_cut = "é".repeat(tokenwise_classifier::MAX_ANALYSED_BYTES);
    for prompt in [
        "",
        " ",
        "\0\0\0",
        "???",
        "```",
        huge.as_str(),
        binary.as_str(),
        multibyte_at_cut.as_str(),
    ] {
        let decision = classifier.classify(prompt);
        assert!(decision.confidence.is_finite());
        assert!((0.0..=1.0).contains(&decision.confidence));
    }
}

#[test]
fn classification_is_deterministic() {
    let classifier = classifier();
    let prompt = "Write a short poem about autumn leaves.";
    let first = classifier.classify(prompt);
    for _ in 0..5 {
        assert_eq!(classifier.classify(prompt), first);
    }
    assert_eq!(
        Classifier::embedded().expect("loads").classify(prompt),
        first
    );
}

#[test]
fn tier_serialises_lowercase() {
    assert_eq!(
        serde_json::to_string(&Difficulty::Complex).ok().as_deref(),
        Some("\"complex\"")
    );
    assert_eq!(
        serde_json::from_str::<Difficulty>("\"simple\"").ok(),
        Some(Difficulty::Simple)
    );
}

#[test]
fn malformed_weights_are_rejected_not_panicked_on() {
    assert!(Classifier::from_json("").is_err());
    assert!(Classifier::from_json("{}").is_err());
    let embedded = include_str!("../weights/classifier-v1.json");
    let wrong_version = embedded.replacen("\"version\":1", "\"version\":99", 1);
    assert!(Classifier::from_json(&wrong_version).is_err());
}
