//! # tokenwise-encoder
//!
//! The classifier's second stage, for the prompts the feature model is unsure about: the
//! sentence encoder all-MiniLM-L6-v2 (run on candle, CPU) turns the prompt into a 384-number
//! embedding of its meaning, and a small trained head ([`EncoderHead`]) reads the tier from it.
//! [`TwoStage`] runs the feature model first and asks the encoder only below
//! [`ASK_SECOND_BELOW`] confidence; every verdict lists each stage's vote.
//!
//! * [`bert`]: the BERT forward pass;
//! * [`sentence`]: tokenizing (head and tail of long prompts), mean pooling, the model files;
//! * [`head`]: the head's weights (`weights/encoder-head-v1.json`);
//! * [`cascade`]: stage selection and combination;
//! * [`explain`]: each stage's vote, for `tokenwise classify --explain`;
//! * `training` (feature `training`): the head's trainer and its evaluation, used by the
//!   `train-encoder-head` binary.
//!
//! Evaluation, cost and the choices behind them: `docs/classifier.md`, "Second stage".

pub mod bert;
pub mod cascade;
pub mod error;
pub mod explain;
pub mod head;
pub mod sentence;
#[cfg(feature = "training")]
pub mod training;

pub use cascade::{
    needs_second_stage, SecondStage, SecondStageUse, Stage, StageVote, TwoStage, Verdict,
    ASK_SECOND_BELOW,
};
pub use error::{EncoderError, Result};
pub use head::EncoderHead;
pub use sentence::{SentenceEncoder, ENCODER_DIR};
