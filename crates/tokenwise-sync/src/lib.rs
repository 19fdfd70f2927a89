//! The app's side of the company quota server (`tokenwise-server`, `docs/server.md`).
//!
//! - [`QuotaClient`]: one server's employee API: enroll with a one-time code, pull the quota
//!   snapshot (with `If-None-Match`, so an unchanged snapshot costs no body), reserve / settle
//!   / release a cloud call's money, push usage batches.
//! - [`protocol`]: the JSON the server speaks, as plain types.
//! - [`litellm`]: a company on a LiteLLM proxy instead: the virtual key's budget from
//!   `GET /key/info`, as a snapshot of one window.
//! - [`meter`]: the snapshot's windows as the app's [`tokenwise_quota::BudgetStatus`], so the
//!   meter, the cost preview and the router treat company budgets like any other.
//! - [`SyncError`]: one error type; [`SyncError::is_transient`] says whether trying again
//!   later can help (the outbox keeps those), and every message names the server.
//!
//! No state lives here: the link to the company, the cached snapshot and the outbox of
//! unsent records are the store's, and when to sync is the app's.

mod client;
mod error;
pub mod litellm;
pub mod meter;
pub mod protocol;

pub use client::{Fetched, QuotaClient, DEFAULT_TIMEOUT};
pub use error::SyncError;
