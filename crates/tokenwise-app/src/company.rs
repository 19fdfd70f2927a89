//! The company's quota server, from the app's side (`docs/server.md`).
//!
//! - **Connect** with the server's address and a one-time code: the device token goes to the
//!   OS keyring and nowhere else; the link (who this device is there) and the last snapshot go
//!   to the store. Disconnect removes both.
//! - **Pull**: the quota snapshot, with its ETag, at start, when older than
//!   [`SYNC_INTERVAL_MS`] before a routing decision, and after each cloud call. Its windows
//!   join the budget file's in the meter, the cost preview and the router.
//! - **Hold on the server first**: a cloud call reserves its maximum on the server before the
//!   local ledger and before anything is sent. A server that cannot be reached blocks cloud
//!   answers (fail closed, the reason shown); local answers go on.
//! - **Tell the server through the outbox**: settlements, releases and local answers' usage
//!   records are written to the store's outbox before they are sent, pushed in batches, and
//!   retried with backoff until the server answers. The server deduplicates on the ids, so a
//!   crash or a lost answer never loses or double-counts anything.

use serde::{Deserialize, Serialize};
use tokenwise_core::{Money, Secret};
use tokenwise_policy::EffectivePolicy;
use tokenwise_quota::BudgetStatus;
use tokenwise_store::{CompanyKind, CompanyLink, OutboxItem, OutboxKind};
use tokenwise_sync::protocol::{QuotaSnapshot, ReserveBody, SettleBody, UsageRecord};
use tokenwise_sync::{Fetched, QuotaClient, SyncError};
use ts_rs::TS;

use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::keys::blocking;

/// The keyring entry holding this device's token for the quota server (one per enrolled
/// device, so two data folders on one machine never share or overwrite a token).
pub(crate) fn token_account(device_id: &str) -> String {
    format!("tokenwise-quota-server/{device_id}")
}

/// How old the snapshot may be before a routing decision pulls a new one.
pub const SYNC_INTERVAL_MS: i64 = 60_000;

/// Outbox entries sent in one request at most.
const OUTBOX_BATCH: u32 = 100;

/// The longest wait between two attempts to send an outbox entry.
const MAX_BACKOFF_MS: i64 = 10 * 60_000;

/// A project the user may charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CompanyProject {
    pub id: String,
    pub name: String,
}

/// What kind of server the company runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum CompanyServerKind {
    /// `tokenwise-server`: shared hard limits held before each cloud call.
    Tokenwise,
    /// A LiteLLM proxy: the virtual key's budget, enforced by LiteLLM.
    Litellm,
}

/// Settings → "Your company": who this device is on the quota server, and how current the
/// figures are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CompanyStatus {
    /// What the company runs: `tokenwise-server`, or a LiteLLM proxy (budget read only).
    pub server_kind: CompanyServerKind,
    pub server_url: String,
    pub user_id: String,
    /// From the last snapshot (empty before the first).
    pub user_name: String,
    pub team_id: String,
    pub team_name: String,
    pub projects: Vec<CompanyProject>,
    /// When the server last confirmed the figures ("as of 14:02").
    #[ts(type = "number | null")]
    pub synced_at_ms: Option<i64>,
    /// Why the server cannot be used right now (the figures shown are the last known; cloud
    /// answers wait for it). `None`: online.
    pub offline: Option<String>,
    /// Records not yet delivered to the server.
    #[ts(type = "number")]
    pub pending_records: u64,
    /// Records the server refused for good, and the last reason.
    #[ts(type = "number")]
    pub refused_records: u64,
    pub last_refusal: Option<String>,
}

/// The company's windows as the budget logic sees them.
pub(crate) struct CompanyBudget {
    pub statuses: Vec<BudgetStatus>,
    /// Why cloud answers must wait for the server, if they must.
    pub blocked: Option<String>,
    /// The catalog entries the user's team may use (`None`: every entry).
    pub allowed_tiers: Option<Vec<String>>,
    /// Offline with an allowance: what is left of it (cloud calls are capped by it).
    pub offline_allowance_left: Option<Money>,
}

/// How a cloud call is covered on the company's side.
pub(crate) enum CompanyHold {
    /// The server holds its maximum under this id.
    Held { reservation_id: String },
    /// The server cannot be reached: the call is paid from the offline allowance and
    /// reported as a usage record (`record`, cost and tokens filled in when it settles).
    Offline { record: UsageRecord },
}

impl Tokenwise {
    /// Enrolls this device with a one-time code from the administrator, keeps the token in
    /// the OS keyring, and pulls the first snapshot.
    pub async fn connect_company(
        &self,
        server_url: &str,
        code: &str,
        device_name: &str,
    ) -> Result<CompanyStatus, AppError> {
        if code.trim().is_empty() {
            return Err(AppError::InvalidInput(
                "Enter the enrollment code your administrator gave you.".into(),
            ));
        }
        self.check_quota_server(server_url)?;
        let client = QuotaClient::new(server_url, self.company_timeout)?;
        let device_name = match device_name.trim() {
            "" => "Tokenwise",
            name => name,
        };
        let credentials = client.enroll(code, device_name).await?;
        let vault = self.keys.clone();
        let token = Secret::new(credentials.token);
        let account = token_account(&credentials.device_id);
        blocking(move || vault.save(&account, &token)).await?;
        self.store
            .set_company_link(
                CompanyKind::TokenwiseServer,
                client.server(),
                &credentials.device_id,
                &credentials.user_id,
                self.clock.now_ms(),
            )
            .await?;
        self.sync_company().await?;
        self.company_status()
            .await?
            .ok_or_else(|| AppError::InvalidInput("The company link was not kept.".into()))
    }

    /// Removes the link and the device token; what was still waiting for the server is
    /// dropped (returned: how many records). Pushes first, so usually nothing is.
    pub async fn disconnect_company(&self) -> Result<u64, AppError> {
        let Some(link) = self.store.company_link().await? else {
            return Ok(0);
        };
        let _ = self.push_outbox().await;
        let dropped = self.store.remove_company_link().await?;
        let vault = self.keys.clone();
        let account = token_account(&link.device_id);
        blocking(move || vault.delete(&account)).await?;
        Ok(dropped)
    }

    /// The link to the company, if any, with how current its figures are.
    pub async fn company_status(&self) -> Result<Option<CompanyStatus>, AppError> {
        let Some(link) = self.store.company_link().await? else {
            return Ok(None);
        };
        let snapshot = parse_snapshot(&link);
        let counts = self.store.outbox_counts().await?;
        Ok(Some(CompanyStatus {
            server_kind: match link.kind {
                CompanyKind::TokenwiseServer => CompanyServerKind::Tokenwise,
                CompanyKind::LiteLlm => CompanyServerKind::Litellm,
            },
            server_url: link.server_url.clone(),
            user_id: link.user_id.clone(),
            user_name: snapshot
                .as_ref()
                .map(|s| s.user.name.clone())
                .unwrap_or_default(),
            team_id: snapshot
                .as_ref()
                .map(|s| s.team.id.clone())
                .unwrap_or_default(),
            team_name: snapshot
                .as_ref()
                .map(|s| s.team.name.clone())
                .unwrap_or_default(),
            projects: snapshot
                .as_ref()
                .map(|s| {
                    s.projects
                        .iter()
                        .map(|p| CompanyProject {
                            id: p.id.clone(),
                            name: p.name.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            synced_at_ms: link.synced_at_ms,
            offline: offline_reason(&link, snapshot.is_some()),
            pending_records: counts.pending,
            refused_records: counts.refused,
            last_refusal: counts.last_refusal,
        }))
    }

    /// Pulls the snapshot and pushes the outbox. A server that cannot be used is recorded
    /// (the status says so), not returned as an error; `None` when not connected.
    pub async fn sync_company(&self) -> Result<Option<CompanyStatus>, AppError> {
        let Some(link) = self.store.company_link().await? else {
            return Ok(None);
        };
        self.pull_snapshot(&link).await?;
        let online = self
            .store
            .company_link()
            .await?
            .is_some_and(|link| link.failure.is_none());
        if online {
            // The server answers: what waited for it goes now, whatever its backoff said;
            // then the snapshot again, so it includes what was just told.
            self.store.outbox_due_now(self.clock.now_ms()).await?;
            if self.push_outbox().await? > 0 {
                if let Some(link) = self.store.company_link().await? {
                    self.pull_snapshot(&link).await?;
                }
            }
        }
        self.company_status().await
    }

    /// The snapshot's windows for the budget logic, pulling first when it is older than
    /// [`SYNC_INTERVAL_MS`]. `None` when not connected.
    pub(crate) async fn company_budget(
        &self,
        policy: &EffectivePolicy,
    ) -> Result<Option<CompanyBudget>, AppError> {
        let Some(mut link) = self.store.company_link().await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        let stale = link
            .synced_at_ms
            .is_none_or(|synced| now.saturating_sub(synced) >= self.sync_interval_ms());
        if stale {
            self.pull_snapshot(&link).await?;
            if let Some(fresh) = self.store.company_link().await? {
                link = fresh;
            }
        }
        let snapshot = parse_snapshot(&link);
        let (blocked, offline_allowance_left) = match offline_reason(&link, snapshot.is_some()) {
            None => (None, None),
            Some(reason) => match self.offline_allowance_left(policy).await? {
                Some(left) if left > Money::ZERO => (None, Some(left)),
                Some(_) => (
                    Some(format!(
                        "{reason} Your offline allowance is used up until the server hears of \
                         it; cloud answers wait for it, local answers work as usual."
                    )),
                    None,
                ),
                None => (
                    Some(format!(
                        "{reason} Cloud answers wait for it; local answers work as usual."
                    )),
                    None,
                ),
            },
        };
        Ok(Some(CompanyBudget {
            statuses: snapshot
                .as_ref()
                .map(|s| tokenwise_sync::meter::statuses(&s.windows))
                .unwrap_or_default(),
            blocked,
            allowed_tiers: snapshot.and_then(|s| s.allowed_tiers),
            offline_allowance_left,
        }))
    }

    /// Holds `max_cost_micros` for the cloud call `reservation_id` on the server, before the
    /// local ledger and before anything is sent; when the server cannot be reached, the
    /// offline allowance may cover the call instead (`crate::offline_allowance`). `None` when
    /// not connected.
    pub(crate) async fn hold_on_company(
        &self,
        reservation_id: &str,
        tier_id: &str,
        max_cost_micros: i64,
        project_id: Option<&str>,
    ) -> Result<Option<CompanyHold>, AppError> {
        let Some(link) = self.store.company_link().await? else {
            return Ok(None);
        };
        if link.kind == CompanyKind::LiteLlm {
            // LiteLLM holds and records the call itself.
            return Ok(None);
        }
        let (client, token) = self.company_client(&link).await?;
        let body = ReserveBody {
            id: reservation_id.to_string(),
            tier: tier_id.to_string(),
            max_cost_micros,
            project_id: project_id.map(str::to_string),
        };
        let error = match client.reserve(token.expose(), &body).await {
            Ok(_) => {
                return Ok(Some(CompanyHold::Held {
                    reservation_id: reservation_id.to_string(),
                }))
            }
            Err(error) if !error.is_transient() => return Err(error.into()),
            Err(error) => error,
        };
        // An outage, or an answer lost: the server may have made the hold. It is given back
        // when the server answers again (an unknown id is nothing to give back).
        let _ = self
            .store
            .note_company_failure(&error.to_string(), self.clock.now_ms())
            .await;
        let _ = self
            .enqueue(OutboxKind::Release, reservation_id, &serde_json::json!({}))
            .await;
        if !self.allowance_covers(max_cost_micros).await {
            return Err(error.into());
        }
        Ok(Some(CompanyHold::Offline {
            record: UsageRecord {
                // Not the reservation's id: the server may hold (and then release) that one,
                // and it deduplicates usage on the id.
                id: format!("{reservation_id}-offline"),
                kind: "cloud".into(),
                tier: tier_id.to_string(),
                model: String::new(),
                tokens_in: 0,
                tokens_out: 0,
                cost_micros: 0,
                saved_micros: 0,
                project_id: project_id.map(str::to_string),
                created_at_ms: self.clock.now_ms(),
            },
        }))
    }

    /// Whether the offline allowance has room for a call of at most `max_cost_micros`.
    async fn allowance_covers(&self, max_cost_micros: i64) -> bool {
        matches!(
            self.offline_allowance_left(&self.policy()).await,
            Ok(Some(left)) if left.micros() >= max_cost_micros
        )
    }

    /// The call cost `cost_micros`: written to the outbox for the server (a settlement, or the
    /// usage record of an offline call); the caller syncs once the answer is shown.
    pub(crate) async fn settle_on_company(
        &self,
        hold: &CompanyHold,
        model: &str,
        tokens_in: u32,
        tokens_out: u32,
        cost_micros: i64,
    ) -> Result<(), AppError> {
        match hold {
            CompanyHold::Held { reservation_id } => {
                let body = SettleBody {
                    cost_micros,
                    tokens_in: i64::from(tokens_in),
                    tokens_out: i64::from(tokens_out),
                };
                self.enqueue(OutboxKind::Settle, reservation_id, &body)
                    .await?;
            }
            CompanyHold::Offline { record } => {
                let record = UsageRecord {
                    model: model.to_string(),
                    tokens_in: i64::from(tokens_in),
                    tokens_out: i64::from(tokens_out),
                    cost_micros,
                    ..record.clone()
                };
                self.enqueue(OutboxKind::Usage, &record.id, &record).await?;
            }
        }
        Ok(())
    }

    /// The call failed or was refused locally: the server's hold is given back (an offline
    /// call had none, and costs nothing).
    pub(crate) async fn release_on_company(&self, hold: &CompanyHold) -> Result<(), AppError> {
        let CompanyHold::Held { reservation_id } = hold else {
            return Ok(());
        };
        self.enqueue(OutboxKind::Release, reservation_id, &serde_json::json!({}))
            .await?;
        let _ = self.push_outbox().await;
        Ok(())
    }

    /// A killed cloud call was charged on this start (see `crate::draft`): the server hears
    /// the same figure, if connected.
    pub(crate) async fn settle_recovered_on_company(
        &self,
        reservation_id: &str,
        cost_micros: i64,
    ) -> Result<(), AppError> {
        if !self.reports_to_company().await? {
            return Ok(());
        }
        let body = SettleBody {
            cost_micros,
            tokens_in: 0,
            tokens_out: 0,
        };
        self.enqueue(OutboxKind::Settle, reservation_id, &body)
            .await
    }

    /// A local answer's usage record for the server (free; what it saved), if connected:
    /// written to the outbox, sent later.
    pub(crate) async fn report_local_answer(&self, record: UsageRecord) -> Result<(), AppError> {
        if !self.reports_to_company().await? {
            return Ok(());
        }
        // Only written here: the answer is not held up by a slow server. The window's sync
        // loop, the next cloud call or `tokenwise sync` delivers it.
        let id = record.id.clone();
        self.enqueue(OutboxKind::Usage, &id, &record).await
    }

    /// Whether the company's server is told of settlements and usage (a `tokenwise-server`;
    /// LiteLLM records its calls itself and has no use for local answers).
    async fn reports_to_company(&self) -> Result<bool, AppError> {
        Ok(self
            .store
            .company_link()
            .await?
            .is_some_and(|link| link.kind == CompanyKind::TokenwiseServer))
    }

    async fn enqueue(
        &self,
        kind: OutboxKind,
        id: &str,
        body: &impl Serialize,
    ) -> Result<(), AppError> {
        let body = serde_json::to_string(body).map_err(|e| {
            AppError::InvalidInput(format!("an outbox record could not be written: {e}"))
        })?;
        self.store
            .enqueue_outbox(kind, id, &body, self.clock.now_ms())
            .await?;
        Ok(())
    }

    /// Sends what is due in the outbox: settlements and releases one by one, usage records in
    /// batches. An outage leaves entries for later (backoff); a refusal of a batch is retried
    /// record by record so one bad record does not hold back the rest. Returns how many
    /// entries were delivered.
    pub async fn push_outbox(&self) -> Result<usize, AppError> {
        let Some(link) = self.store.company_link().await? else {
            return Ok(0);
        };
        let (client, token) = match self.company_client(&link).await {
            Ok(pair) => pair,
            Err(_) => return Ok(0),
        };
        let mut delivered = 0;
        loop {
            let now = self.clock.now_ms();
            let due = self.store.due_outbox(now, OUTBOX_BATCH).await?;
            if due.is_empty() {
                return Ok(delivered);
            }
            let (usage, single): (Vec<_>, Vec<_>) = due
                .into_iter()
                .partition(|item| item.kind == OutboxKind::Usage);
            let mut outage = false;
            for item in single {
                match self.send_one(&client, token.expose(), &item).await {
                    Ok(()) => delivered += 1,
                    Err(error) => outage |= error.is_transient(),
                }
                if outage {
                    break;
                }
            }
            if !outage && !usage.is_empty() {
                match self.send_usage(&client, token.expose(), &usage).await {
                    Ok(count) => delivered += count,
                    Err(error) => outage |= error.is_transient(),
                }
            }
            if outage {
                return Ok(delivered);
            }
        }
    }

    async fn send_one(
        &self,
        client: &QuotaClient,
        token: &str,
        item: &OutboxItem,
    ) -> Result<(), SyncError> {
        let sent = match item.kind {
            OutboxKind::Settle => match serde_json::from_str::<SettleBody>(&item.body) {
                Ok(body) => client.settle(token, &item.id, &body).await.map(drop),
                Err(e) => Err(SyncError::Garbage {
                    server: "the outbox".into(),
                    detail: e.to_string(),
                }),
            },
            OutboxKind::Release => match client.release(token, &item.id).await {
                // No such hold: the reservation never reached the server.
                Err(SyncError::Refused { status: 404, .. }) => Ok(()),
                other => other.map(drop),
            },
            OutboxKind::Usage => Ok(()),
        };
        self.settle_outbox_entries(item.kind, std::slice::from_ref(item), &sent)
            .await;
        sent
    }

    async fn send_usage(
        &self,
        client: &QuotaClient,
        token: &str,
        items: &[OutboxItem],
    ) -> Result<usize, SyncError> {
        let records: Vec<UsageRecord> = items
            .iter()
            .filter_map(|item| serde_json::from_str(&item.body).ok())
            .collect();
        let sent = client.push_usage(token, &records).await.map(drop);
        match &sent {
            Err(error) if !error.is_transient() && items.len() > 1 => {
                // One bad record refuses the whole batch: find it by sending each alone.
                let mut delivered = 0;
                for item in items {
                    let record: Vec<UsageRecord> =
                        serde_json::from_str(&item.body).into_iter().collect();
                    let alone = client.push_usage(token, &record).await.map(drop);
                    self.settle_outbox_entries(
                        OutboxKind::Usage,
                        std::slice::from_ref(item),
                        &alone,
                    )
                    .await;
                    match alone {
                        Ok(()) => delivered += 1,
                        Err(error) if error.is_transient() => return Err(error),
                        Err(_) => {}
                    }
                }
                Ok(delivered)
            }
            _ => {
                self.settle_outbox_entries(OutboxKind::Usage, items, &sent)
                    .await;
                sent.map(|()| items.len())
            }
        }
    }

    /// Records the outcome of sending `items`: delivered, retried later, or refused for good.
    async fn settle_outbox_entries(
        &self,
        kind: OutboxKind,
        items: &[OutboxItem],
        outcome: &Result<(), SyncError>,
    ) {
        let ids: Vec<String> = items.iter().map(|item| item.id.clone()).collect();
        let now = self.clock.now_ms();
        let written = match outcome {
            Ok(()) => self.store.outbox_delivered(kind, &ids).await,
            Err(error) => {
                let attempts = items.iter().map(|item| item.attempts).max().unwrap_or(0);
                let next = now.saturating_add(backoff_ms(attempts));
                if error.is_transient() {
                    let _ = self
                        .store
                        .note_company_failure(&error.to_string(), now)
                        .await;
                }
                self.store
                    .outbox_failed(kind, &ids, &error.to_string(), next, !error.is_transient())
                    .await
            }
        };
        if let Err(error) = written {
            // The entries stay due: they are sent again, and the server deduplicates.
            eprintln!("tokenwise: the outbox could not be updated: {error}");
        }
    }

    /// Pulls the snapshot (ETag) and records the result in the link.
    async fn pull_snapshot(&self, link: &CompanyLink) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        let (client, token) = match self.company_client(link).await {
            Ok(pair) => pair,
            Err(error) => {
                self.store
                    .note_company_failure(&error.to_string(), now)
                    .await?;
                return Ok(());
            }
        };
        if link.kind == CompanyKind::LiteLlm {
            return self.pull_litellm(link, &client, &token).await;
        }
        let etag = link.snapshot_json.as_ref().and(link.etag.as_deref());
        match client.quota(token.expose(), etag, now).await {
            Ok(Fetched::Unchanged) => {
                self.store.save_company_snapshot(None, None, now).await?;
            }
            Ok(Fetched::Changed { snapshot, etag }) => {
                self.keep_snapshot(&snapshot, etag.as_deref(), now).await?;
            }
            Err(error) => {
                self.store
                    .note_company_failure(&error.to_string(), now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Stores a snapshot the server confirmed at `now` (clearing the failure).
    pub(crate) async fn keep_snapshot(
        &self,
        snapshot: &QuotaSnapshot,
        etag: Option<&str>,
        now: i64,
    ) -> Result<(), AppError> {
        let json = serde_json::to_string(snapshot)
            .map_err(|e| AppError::InvalidInput(format!("the snapshot could not be kept: {e}")))?;
        self.store
            .save_company_snapshot(Some(&json), etag, now)
            .await?;
        Ok(())
    }

    async fn company_client(&self, link: &CompanyLink) -> Result<(QuotaClient, Secret), AppError> {
        let client = QuotaClient::new(&link.server_url, self.company_timeout)?;
        let vault = self.keys.clone();
        let account = token_account(&link.device_id);
        let token = blocking(move || vault.load(&account))
            .await?
            .ok_or_else(|| {
                AppError::Company(SyncError::Unauthorized {
                    server: link.server_url.clone(),
                    message: "this device's token is missing from the keyring; connect again \
                              with a new enrollment code"
                        .into(),
                })
            })?;
        Ok((client, token))
    }
}

fn parse_snapshot(link: &CompanyLink) -> Option<QuotaSnapshot> {
    link.snapshot_json
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
}

/// Why the company's figures cannot be relied on now, if they cannot.
fn offline_reason(link: &CompanyLink, has_snapshot: bool) -> Option<String> {
    match (&link.failure, has_snapshot) {
        (Some(failure), _) => Some(sentence_end(failure)),
        (None, false) => Some(format!(
            "No quota has been received from {} yet.",
            link.server_url
        )),
        (None, true) => None,
    }
}

fn sentence_end(text: &str) -> String {
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// 5 s, 10 s, 20 s, … up to [`MAX_BACKOFF_MS`].
fn backoff_ms(attempts: u32) -> i64 {
    5_000_i64
        .saturating_mul(1_i64 << attempts.min(20))
        .min(MAX_BACKOFF_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_stops_at_ten_minutes() {
        assert_eq!(backoff_ms(0), 5_000);
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(3), 40_000);
        assert_eq!(backoff_ms(7), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(u32::MAX), MAX_BACKOFF_MS);
    }

    fn link(failure: Option<&str>, snapshot: bool) -> CompanyLink {
        CompanyLink {
            kind: CompanyKind::TokenwiseServer,
            server_url: "https://quota.example.com".into(),
            device_id: "d1".into(),
            user_id: "ada".into(),
            connected_at_ms: 0,
            snapshot_json: snapshot.then(|| "{}".into()),
            etag: None,
            synced_at_ms: None,
            failure: failure.map(str::to_string),
            failed_at_ms: None,
        }
    }

    #[test]
    fn figures_are_trusted_only_when_the_last_attempt_worked() {
        assert_eq!(offline_reason(&link(None, true), true), None);
        let never = offline_reason(&link(None, false), false).unwrap();
        assert!(never.contains("No quota has been received"), "{never}");
        let down = offline_reason(&link(Some("Connection refused"), true), true).unwrap();
        assert_eq!(down, "Connection refused.");
    }
}
