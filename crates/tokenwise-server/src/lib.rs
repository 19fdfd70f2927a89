//! The Tokenwise company quota server: the authority for budgets a whole company shares.
//!
//! A company runs `tokenwise-server serve` on a small VM or in a container, with SQLite (one
//! file, one instance) or PostgreSQL (several instances behind a load balancer). The
//! administrator sets up teams, projects, users, budgets, the tier catalog and the tiers each
//! team may use, through the admin API or the same `tokenwise-server admin …` verbs; each
//! employee's app enrolls with a one-time code, pulls its quota snapshot, reserves before a
//! cloud call and settles after, and reports usage in idempotent batches. API and deployment:
//! `docs/server.md`.
//!
//! - [`db`]: the pool (SQLite or PostgreSQL) and the migrations both share.
//! - [`company`]: teams, projects, users, budgets, catalog, allowed tiers, devices.
//! - [`devices`]: enrollment codes → device tokens, and authentication.
//! - [`windows`]: which budget windows apply, and what is spent and reserved in each.
//! - [`quota`]: the snapshot a client pulls (`GET /v1/quota`, with an ETag).
//! - [`reservations`]: hold → settle | release, never overshooting a hard limit.
//! - [`usage`]: idempotent usage batches.
//! - [`spend`]: the administrator's spend report.
//! - [`http`]: routes, credentials, body limits, logs; [`rate_limit`]: 429s.
//! - [`tls`]: built-in HTTPS (rustls), for a server without a proxy in front.
//! - [`secrets`]: tokens and codes, stored only as SHA-256.
//! - [`error`]: [`ServerError`], the one error type, and its HTTP shape.
//!
//! Time is passed in (`now_ms`) everywhere below [`http`], which reads it from a
//! [`tokenwise_core::Clock`].

pub mod company;
pub mod db;
pub mod devices;
pub mod error;
pub mod http;
pub mod quota;
pub mod rate_limit;
pub mod reservations;
pub mod secrets;
pub mod spend;
pub mod tls;
pub mod usage;
pub mod windows;

pub use db::{Db, Dialect};
pub use error::ServerError;
pub use http::{router, ServerState};
pub use rate_limit::{RateLimit, RateLimiter};
