//! Tokenwise's local database: one SQLite file (WAL mode, versioned migrations) in the
//! platform's app-data folder, holding conversations and their messages, and the spend ledger:
//! local answers, cloud reservations ([`Store::reserve`] → [`Store::settle`] or
//! [`Store::release`]), window totals, threshold alerts already raised, and the aggregates of the
//! spend view.
//!
//! A person's routing choices (task cues and scores, never the prompt) live here too
//! ([`Store::add_routing_choice`]), bounded to [`MAX_ROUTING_CHOICES`].
//!
//! The link to the company's quota server, its last snapshot and the outbox of what the
//! server has yet to hear live here too ([`Store::company_link`], [`Store::enqueue_outbox`]).
//!
//! All SQL lives here; chats are spoken in `tokenwise_core` types, the ledger in plain structs
//! with amounts as integer micro-dollars (`i64`, named `*_micros`) that the app layer converts
//! to its `Money`. A hard budget limit is never overshot, also by concurrent requests: see
//! [`Store::reserve`]. Times are passed in, never read
//! from the clock here. Every failure maps to a [`StoreError`] whose message says what to do:
//! a database locked by another process waits [`BUSY_TIMEOUT`] and then says so; a damaged file
//! is named and left untouched for the user to keep or move aside.

mod company;
mod conversations;
mod drafts;
mod error;
mod ledger;
mod open;
mod routing_choices;

pub use company::{CompanyKind, CompanyLink, OutboxCounts, OutboxItem, OutboxKind};
pub use drafts::{AnswerDraft, DraftCharge, DraftText, RecoveredAnswer, STALE_DRAFT_MS};
pub use error::StoreError;
pub use ledger::{
    BucketSpend, ConversationSpend, LedgerRow, LedgerStatus, LocalRecord, ModelSavings,
    Reservation, ReserveRequest, ScopeFilter, ScopeIds, ScopeKind, SettleInput, WindowTotals,
    WindowUse,
};
pub use open::{Store, BUSY_TIMEOUT};
pub use routing_choices::{RoutingChoice, MAX_ROUTING_CHOICES};
