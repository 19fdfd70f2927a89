//! # tokenwise-classifier
//!
//! Decides, locally and in microseconds, how capable a model a prompt needs:
//! [`Difficulty::Simple`] (the local model answers), [`Difficulty::Medium`] or [`Difficulty::Complex`]
//! (escalate to the cloud).
//!
//! ```
//! use tokenwise_classifier::{Classifier, Difficulty};
//!
//! let classifier = Classifier::embedded().expect("shipped weights load");
//! let decision = classifier.classify("What is the capital of France?");
//! assert_eq!(decision.difficulty, Difficulty::Simple);
//! println!("{}", decision.reason()); // e.g. "simple · short factoid question · 0.87"
//! ```
//!
//! How it works (details and evaluation in `docs/classifier.md`):
//!
//! * [`features`] turns a prompt into a few dozen hand-designed features (what the prompt asks
//!   for: transform a given text, produce new content, reason in many steps; code, maths,
//!   constraints, length) plus hashed word unigrams and bigrams;
//! * a multinomial logistic regression ([`Classifier`]) scores the three tiers, and a fitted
//!   temperature turns the scores into calibrated probabilities;
//! * `training` (feature `training`, not shipped in the app) holds the deterministic trainer, leave-one-source-out validation and the
//!   report generator used by the `train-classifier` binary; `baselines` (same feature) holds the two
//!   baselines the model is compared against.

#[cfg(feature = "training")]
pub mod baselines;
mod classifier;
pub mod correction;
pub mod error;
pub mod features;
mod lexicon;
pub mod math;
pub mod sample_prompts;
pub mod text;
#[cfg(feature = "training")]
pub mod training;
pub mod weights;

pub use classifier::{Classification, Classifier, Signal, MAX_ANALYSED_BYTES};
pub use correction::{Correction, OverrideExample};
pub use error::{ClassifierError, Result};
/// The routing tiers live in `tokenwise-core` (the router and the catalog speak them too);
/// re-exported so `tokenwise_classifier::Difficulty` keeps working.
pub use tokenwise_core::Difficulty;
