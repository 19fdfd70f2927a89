//! Training and evaluation: dataset loading, the softmax-regression fit, leave-one-source-out
//! validation, temperature calibration, export of the weights file and the markdown report.
//!
//! Everything here is deterministic: fixed orderings, no random initialisation, and a
//! full-batch optimiser, so the same data always gives byte-identical weights.

pub mod calibration;
pub mod dataset;
pub mod export;
pub mod lbfgs;
pub mod loso;
pub mod metrics;
pub mod pipeline;
pub mod report;
pub mod softmax_regression;
pub mod workplace;

use crate::features::FeatureConfig;

/// How training examples are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// Each tier gets the same total weight.
    Class,
    /// Each (source, tier) group gets the same weight within its tier, and each tier the
    /// same total: no single source dominates what a tier "looks like".
    SourceAndClass,
}

/// A softmax-regression variant: features, regularisation and example weighting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec {
    /// Short name used in tables.
    pub name: &'static str,
    /// Features used.
    pub features: FeatureConfig,
    /// L2 strength.
    pub l2: f64,
    /// Example weighting.
    pub balance: Balance,
    /// A hashed n-gram only gets a weight if it occurs in at least this many training
    /// sources (1 = no filter). Filters out wording peculiar to one source.
    pub min_sources: usize,
}

const HASHED_UNIGRAMS_AND_BIGRAMS: FeatureConfig = FeatureConfig {
    dense: true,
    unigrams: true,
    bigrams: true,
    hash_bits: 16,
    hashed_scale: 1.0,
};

/// The configuration of the shipped model (chosen by LOSO macro-F1 among
/// [`variant_specs`]; see `docs/classifier.md`).
pub fn shipped_spec() -> ModelSpec {
    ModelSpec {
        name: "shipped: dense + uni/bigrams seen in ≥3 sources",
        features: HASHED_UNIGRAMS_AND_BIGRAMS,
        l2: 1e-3,
        balance: Balance::SourceAndClass,
        min_sources: 3,
    }
}

/// The bag-of-words baseline: hashed unigrams, class-balanced, no hand-designed features.
pub fn bag_of_words_spec() -> ModelSpec {
    ModelSpec {
        name: "baseline: bag-of-words logistic regression",
        features: crate::baselines::bag_of_words_features(),
        l2: 1e-3,
        balance: Balance::Class,
        min_sources: 1,
    }
}

/// The variants compared when choosing the shipped configuration.
pub fn variant_specs() -> Vec<ModelSpec> {
    let dense_only = FeatureConfig {
        unigrams: false,
        bigrams: false,
        ..HASHED_UNIGRAMS_AND_BIGRAMS
    };
    let dense_and_unigrams = FeatureConfig {
        bigrams: false,
        ..HASHED_UNIGRAMS_AND_BIGRAMS
    };
    let base = shipped_spec();
    vec![
        ModelSpec {
            name: "dense features only",
            features: dense_only,
            min_sources: 1,
            ..base
        },
        ModelSpec {
            name: "dense + unigrams",
            features: dense_and_unigrams,
            min_sources: 1,
            ..base
        },
        ModelSpec {
            name: "dense + uni/bigrams",
            min_sources: 1,
            ..base
        },
        ModelSpec {
            name: "dense + uni/bigrams, ≥2 sources",
            min_sources: 2,
            ..base
        },
        base,
        ModelSpec {
            name: "dense + uni/bigrams, ≥4 sources",
            min_sources: 4,
            ..base
        },
        ModelSpec {
            name: "… ≥3 sources, L2 1e-2",
            l2: 1e-2,
            ..base
        },
        ModelSpec {
            name: "… ≥3 sources, L2 1e-4",
            l2: 1e-4,
            ..base
        },
        ModelSpec {
            name: "… ≥3 sources, class balance only",
            balance: Balance::Class,
            ..base
        },
        ModelSpec {
            name: "bag-of-words, L2 1e-2",
            l2: 1e-2,
            ..bag_of_words_spec()
        },
        ModelSpec {
            name: "bag-of-words, L2 1e-4",
            l2: 1e-4,
            ..bag_of_words_spec()
        },
    ]
}
