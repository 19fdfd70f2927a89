//! Tokenwise's local database: one SQLite file (WAL mode, versioned migrations) in the
//! platform's app-data folder, holding conversations and their messages.
//!
//! All SQL lives here; callers speak `tokenwise_core` types. Times are passed in, never read
//! from the clock here. Every failure maps to a [`StoreError`] whose message says what to do:
//! a database locked by another process waits [`BUSY_TIMEOUT`] and then says so; a damaged file
//! is named and left untouched for the user to keep or move aside.

mod conversations;
mod error;
mod open;

pub use error::StoreError;
pub use open::{Store, BUSY_TIMEOUT};
