//! The local model engine.
//!
//! mistral.rs lives only in this crate (and the binaries that link it), so the rest of the
//! workspace builds and tests without its long compile.
//!
//! - [`catalog`]: the models Tokenwise knows, with their file names and checksums.
//! - [`model_file`]: checks that a model file is present and intact before loading it, so a
//!   missing or damaged download gets a message that names the file and the fix.
//! - [`engine`]: [`LocalEngine`], a cloneable handle over one loaded model that implements
//!   [`tokenwise_core::ChatEngine`]: streaming, cancellable, one generation at a time.
//! - [`fast_weights`]: a Q8_0 copy of weights whose tensor type has no SIMD kernel in upstream
//!   candle (the default model is Q4_1), made once and checked on each load: prompts read
//!   ~15 % faster than on the original file with the vendored Q4_1 kernel.
//! - [`probe`]: a short measured probe of how fast this machine runs the decode kernels, for
//!   the model manager's speed estimates.
//! - [`cache`]: [`confine_engine_cache`], so the engine writes only in the app's own folder,
//!   and [`use_physical_cores`], one engine thread per physical core.

pub mod cache;
pub mod catalog;
pub mod engine;
pub mod error;
pub mod fast_weights;
pub mod model_file;
pub mod probe;

pub use cache::{confine_engine_cache, use_physical_cores};
pub use catalog::{ModelSpec, DEFAULT_MODEL};
pub use engine::{EngineSettings, LocalEngine, TokenCandidate};
pub use error::LocalError;
pub use fast_weights::Weights;
