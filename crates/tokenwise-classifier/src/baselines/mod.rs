//! The two baselines the shipped model is compared against (see `docs/classifier.md`).
//!
//! * [`rules`]: the weighted lexical-dimension scorer used by LLM gateways, with two
//!   thresholds on a 0–1 score.
//! * [`bag_of_words_features`]: plain bag-of-words logistic regression (hashed unigrams, no
//!   hand-designed features), trained by the same optimiser as the shipped model.

pub mod rules;

use crate::features::FeatureConfig;

/// Feature configuration of the bag-of-words baseline: hashed unigrams only.
pub fn bag_of_words_features() -> FeatureConfig {
    FeatureConfig {
        dense: false,
        unigrams: true,
        bigrams: false,
        hash_bits: 16,
        hashed_scale: 1.0,
    }
}
