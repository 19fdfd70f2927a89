//! The server's JSON, field for field (see `docs/server.md`). Unknown fields are ignored on
//! the way in, so a newer server with more to say does not break an older app.

use serde::{Deserialize, Serialize};

/// What `POST /v1/enroll` returns: the device's token, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeviceCredentials {
    pub device_id: String,
    pub user_id: String,
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Tier ids the team may use; `None`: every tier.
    #[serde(default)]
    pub allowed_tiers: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub name: String,
}

/// One window of one company budget, with the server's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowView {
    /// `user`, `team` or `project`.
    pub scope_kind: String,
    pub scope_id: String,
    /// `day`, `week` or `month`.
    pub window: String,
    pub start_ms: i64,
    pub resets_at_ms: i64,
    pub limit_micros: i64,
    pub spent_micros: i64,
    pub reserved_micros: i64,
    pub hard: bool,
    #[serde(default)]
    pub thresholds: Vec<u32>,
    #[serde(default)]
    pub time_zone: String,
}

/// `GET /v1/quota`: who the user is and every window of their budgets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaSnapshot {
    pub user: Person,
    pub team: Team,
    pub projects: Vec<Project>,
    pub windows: Vec<WindowView>,
    #[serde(default)]
    pub allowed_tiers: Option<Vec<String>>,
    #[serde(default)]
    pub catalog_toml: String,
}

/// `POST /v1/reservations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReserveBody {
    /// The client's id; a retry sends the same one.
    pub id: String,
    pub tier: String,
    pub max_cost_micros: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
}

/// `POST /v1/reservations/{id}/settle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettleBody {
    pub cost_micros: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
}

/// A reservation as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReservationView {
    pub id: String,
    /// `reserved`, `settled`, `released` or `expired`.
    pub status: String,
    pub reserved_micros: i64,
    pub cost_micros: i64,
    #[serde(default)]
    pub windows: Vec<WindowView>,
}

/// One usage record of `POST /v1/usage`: a local answer, or a cloud call made while the
/// server could not be reached (calls it held are settled instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// The client's id: a record sent twice is counted once.
    pub id: String,
    /// `local` or `cloud`.
    pub kind: String,
    pub tier: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost_micros: i64,
    /// What the frontier tier would have cost.
    pub saved_micros: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project_id: Option<String>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UsageReceipt {
    pub accepted: usize,
    pub duplicates: usize,
}

/// The server's error body: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ErrorDetail {
    pub code: String,
    pub message: String,
}
