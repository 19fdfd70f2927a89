//! Budget scopes: who or what a request is charged to. The types live in `tokenwise-core`
//! (shared with the ledger and the UI); they are re-exported here for the budget modules.

pub use tokenwise_core::scope::{ScopeKind, Scopes};
