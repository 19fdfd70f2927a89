//! Tokenwise budgets: pure logic, no database and no clock reads (every instant is passed in,
//! as milliseconds since the Unix epoch; money is [`tokenwise_core::Money`], integer
//! micro-dollars).
//!
//! - [`config`]: the budget file ([`BudgetConfig`], TOML: time zone, week start, alert
//!   thresholds, identity, budgets per scope and window), validated with errors that name the
//!   file and the line. The format for people: `docs/budgets.md`.
//! - [`slot`]: [`BudgetConfigSlot`] keeps the last good configuration when a reload fails;
//!   [`load_file`] reads a file.
//! - [`calendar`]: [`Calendar`] computes the calendar-aligned day, week and month
//!   ([`Window`]) containing an instant in an IANA time zone, across clock changes.
//! - [`zone`]: time zone names, with a suggestion for a near miss.
//! - [`scope`]: [`ScopeKind`] (user, team, project) and the [`Scopes`] of a request.
//! - [`plan`]: [`window_checks`], every budget window ([`WindowPlan`]) a request is checked
//!   against: the input of the store's reservation.
//! - [`monotonic`]: [`MonotonicNow`], so a clock set back never reopens a closed window.
//! - [`thresholds`]: [`thresholds::reached`], whether a spend has reached an alert level.
//! - [`status`]: [`BudgetStatus`], the meter view of a window (level, remaining, reset time),
//!   and [`tightest`] ordering.
//! - [`headroom`]: [`Headroom`], the router's [`tokenwise_core::BudgetHeadroom`]: what the
//!   tightest hard window has left.
//! - [`usd`]: [`parse_usd`], exact decimal dollar strings (`"5.00"`).
//! - [`error`]: the crate's one error type, [`QuotaError`].
//!
//! Types shown in the UI ([`BudgetStatus`], [`BudgetLevel`], [`ScopeKind`], [`WindowKind`])
//! derive `ts_rs::TS`; `cargo test` writes them to `ui/src/bindings/`.
//!
//! How the pieces meet in a request: `now = monotonic.observe(clock.now_ms())`;
//! `plans = window_checks(&config, &scopes, now)`; the store's window totals turn each plan
//! into a [`BudgetStatus`]; [`Headroom::from_statuses`] feeds the router; the plans become the
//! core's `BudgetWindow`s the store reserves against; after settling, the app compares each window's
//! spend with its thresholds ([`thresholds::reached`]) and raises each alert once, via the
//! store's `mark_alert_sent` (a scan survives restarts; see docs/architecture.md).

pub mod calendar;
pub mod config;
pub mod error;
pub mod headroom;
pub mod monotonic;
pub mod plan;
pub mod preview;
pub mod scope;
pub mod slot;
pub mod status;
pub mod thresholds;
pub mod usd;
pub mod zone;

pub use calendar::{Calendar, WeekStart, Window, WindowKind};
pub use config::{Budget, BudgetConfig, Identity, DEFAULT_THRESHOLDS};
pub use error::QuotaError;
pub use headroom::Headroom;
pub use monotonic::MonotonicNow;
pub use plan::{window_checks, WindowPlan};
pub use preview::{BudgetAfter, CostPreview};
pub use scope::{ScopeKind, Scopes};
pub use slot::{load_file, BudgetConfigSlot};
pub use status::{compare_tightness, level, tightest, BudgetLevel, BudgetStatus};
pub use usd::parse_usd;
