//! The HTTP API: routes, the two kinds of credentials, JSON in and out, limits and logs.
//! Handlers only translate between HTTP and the modules that do the work.
//!
//! - `Authorization: Bearer twd_…` (a device token) for the employee API, the admin token for
//!   `/v1/admin/…`; wrong or missing: 401.
//! - Bodies over [`MAX_BODY_BYTES`]: 413. JSON that does not parse, has unknown fields or
//!   wrong types: 400 naming the problem (serde's line and column).
//! - Every credential has a token bucket ([`crate::rate_limit`]): 429 with `Retry-After`.
//! - One log line per request (method, path, status, ms; never a header or a body).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokenwise_core::Clock;

use crate::company::{self, BudgetSpec, NewProject, NewTeam, NewUser};
use crate::db::Db;
use crate::devices::{self, Caller, EnrollRequest};
use crate::error::ServerError;
use crate::rate_limit::RateLimiter;
use crate::reservations::{self, ReserveRequest, SettleRequest};
use crate::spend::{self, GroupBy};
use crate::{quota, secrets, usage};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What every handler shares.
pub struct ServerState {
    pub db: Db,
    /// `None`: the admin API is off (every admin request is 401).
    pub admin_token: Option<String>,
    pub clock: Arc<dyn Clock>,
    pub limiter: RateLimiter,
}

type Shared = State<Arc<ServerState>>;

/// The router of the whole API.
pub fn router(state: Arc<ServerState>) -> Router {
    let admin = Router::new()
        .route("/teams", post(add_team).get(list_teams))
        .route("/teams/{id}/allowed-tiers", put(set_allowed_tiers))
        .route("/projects", post(add_project).get(list_projects))
        .route("/users", post(add_user))
        .route("/users/{id}/enrollment", post(new_enrollment))
        .route("/budgets", put(set_budget).get(list_budgets))
        .route("/budgets/{kind}/{id}/{window}", delete(remove_budget))
        .route("/catalog", put(set_catalog).get(get_catalog))
        .route("/devices", get(list_devices))
        .route("/devices/{id}/revoke", post(revoke_device))
        .route("/spend", get(spend_report));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/v1/enroll", post(enroll))
        .route("/v1/quota", get(get_quota))
        .route("/v1/reservations", post(reserve))
        .route("/v1/reservations/{id}", get(get_reservation))
        .route("/v1/reservations/{id}/settle", post(settle))
        .route("/v1/reservations/{id}/release", post(release))
        .route("/v1/usage", post(record_usage))
        .nest("/v1/admin", admin)
        .fallback(|| async {
            ServerError::NotFound("No such endpoint; see docs/server.md.".into())
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

async fn log_request(request: Request, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// A JSON body: 413 over the size limit, 400 with serde's message otherwise.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ServerError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_length = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if content_length.is_some_and(|n| n > MAX_BODY_BYTES) {
            return Err(ServerError::PayloadTooLarge {
                limit_bytes: MAX_BODY_BYTES,
            });
        }
        // The router's DefaultBodyLimit stops a body without a length at the same size.
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ServerError::PayloadTooLarge {
                        limit_bytes: MAX_BODY_BYTES,
                    }
                } else {
                    ServerError::BadRequest(format!(
                        "The request body could not be read: {rejection}."
                    ))
                }
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ServerError::BadRequest(format!("The request body is not valid: {e}.")))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<Arc<ServerState>> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ServerState>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            ServerError::Unauthorized("Send the device token as `Authorization: Bearer …`.".into())
        })?;
        state
            .limiter
            .check(&secrets::digest(token), Instant::now())?;
        devices::authenticate(&state.db, token).await
    }
}

/// The administrator, by the admin token.
pub struct Admin;

impl FromRequestParts<Arc<ServerState>> for Admin {
    type Rejection = ServerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ServerState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || ServerError::Unauthorized("The admin token is not valid.".into());
        let expected = state.admin_token.as_deref().ok_or_else(unauthorized)?;
        let token = bearer(parts).ok_or_else(unauthorized)?;
        state.limiter.check("admin", Instant::now())?;
        if secrets::same_secret(token, expected) {
            Ok(Admin)
        } else {
            Err(unauthorized())
        }
    }
}

async fn ready(State(state): Shared) -> Result<&'static str, ServerError> {
    state.db.ping().await?;
    Ok("ready")
}

async fn enroll(
    State(state): Shared,
    JsonBody(request): JsonBody<EnrollRequest>,
) -> Result<impl IntoResponse, ServerError> {
    // Codes are guessed, not brute-forced: one shared bucket for all enrollments.
    state.limiter.check("enroll", Instant::now())?;
    let credentials = devices::enroll(&state.db, &request, state.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(credentials)))
}

async fn get_quota(
    State(state): Shared,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let snapshot = quota::snapshot(&state.db, &caller, state.clock.now_ms()).await?;
    let body = serde_json::to_vec(&snapshot).map_err(|e| ServerError::Database(e.to_string()))?;
    let etag = format!("\"{}\"", &hex_digest(&body)[..32]);
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let etag_header = HeaderValue::from_str(&etag).expect("hex is a valid header");
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_header)]).into_response());
    }
    Ok((
        [
            (header::ETAG, etag_header),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        body,
    )
        .into_response())
}

fn hex_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn reserve(
    State(state): Shared,
    caller: Caller,
    JsonBody(request): JsonBody<ReserveRequest>,
) -> Result<impl IntoResponse, ServerError> {
    let view = reservations::reserve(&state.db, &caller, &request, state.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn get_reservation(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(
        reservations::view(&state.db, &caller, &id, state.clock.now_ms()).await?,
    ))
}

async fn settle(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<SettleRequest>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(
        reservations::settle(&state.db, &caller, &id, &request, state.clock.now_ms()).await?,
    ))
}

async fn release(
    State(state): Shared,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(
        reservations::release(&state.db, &caller, &id, state.clock.now_ms()).await?,
    ))
}

async fn record_usage(
    State(state): Shared,
    caller: Caller,
    JsonBody(batch): JsonBody<usage::UsageBatch>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(
        usage::record(&state.db, &caller, &batch, state.clock.now_ms()).await?,
    ))
}

async fn add_team(
    State(state): Shared,
    _: Admin,
    JsonBody(team): JsonBody<NewTeam>,
) -> Result<impl IntoResponse, ServerError> {
    let team = company::add_team(&state.db, &team, state.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

async fn list_teams(State(state): Shared, _: Admin) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(company::list_teams(&state.db).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowedTiers {
    tiers: Option<Vec<String>>,
}

async fn set_allowed_tiers(
    State(state): Shared,
    _: Admin,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AllowedTiers>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(
        company::set_allowed_tiers(&state.db, &id, body.tiers).await?,
    ))
}

async fn add_project(
    State(state): Shared,
    _: Admin,
    JsonBody(project): JsonBody<NewProject>,
) -> Result<impl IntoResponse, ServerError> {
    let project = company::add_project(&state.db, &project, state.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(project)))
}

async fn list_projects(State(state): Shared, _: Admin) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(company::list_projects(&state.db).await?))
}

async fn add_user(
    State(state): Shared,
    _: Admin,
    JsonBody(user): JsonBody<NewUser>,
) -> Result<impl IntoResponse, ServerError> {
    let enrollment = company::add_user(&state.db, &user, state.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

async fn new_enrollment(
    State(state): Shared,
    _: Admin,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    let enrollment = company::new_enrollment(&state.db, &id, state.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

async fn set_budget(
    State(state): Shared,
    _: Admin,
    JsonBody(spec): JsonBody<BudgetSpec>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(company::set_budget(&state.db, &spec).await?))
}

async fn list_budgets(State(state): Shared, _: Admin) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(company::list_budgets(&state.db).await?))
}

async fn remove_budget(
    State(state): Shared,
    _: Admin,
    Path((kind, id, window)): Path<(String, String, String)>,
) -> Result<impl IntoResponse, ServerError> {
    company::remove_budget(&state.db, &kind, &id, &window).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CatalogBody {
    toml: String,
}

async fn set_catalog(
    State(state): Shared,
    _: Admin,
    JsonBody(body): JsonBody<CatalogBody>,
) -> Result<impl IntoResponse, ServerError> {
    company::set_catalog(&state.db, &body.toml, state.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_catalog(State(state): Shared, _: Admin) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(CatalogBody {
        toml: company::catalog_toml(&state.db).await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFilter {
    user: Option<String>,
}

async fn list_devices(
    State(state): Shared,
    _: Admin,
    Query(filter): Query<DeviceFilter>,
) -> Result<impl IntoResponse, ServerError> {
    Ok(Json(
        company::list_devices(&state.db, filter.user.as_deref()).await?,
    ))
}

async fn revoke_device(
    State(state): Shared,
    _: Admin,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ServerError> {
    company::revoke_device(&state.db, &id, state.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpendQuery {
    group_by: GroupBy,
    since: Option<String>,
}

async fn spend_report(
    State(state): Shared,
    _: Admin,
    query: Result<Query<SpendQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ServerError> {
    let Query(query) = query.map_err(|e| {
        ServerError::BadRequest(format!(
            "{}. Use group_by=team|user|project|tier|day and since=YYYY-MM-DD.",
            e.body_text()
        ))
    })?;
    let since_ms = match &query.since {
        Some(since) => spend::parse_since(since)?,
        None => 0,
    };
    Ok(Json(
        spend::report(&state.db, query.group_by, since_ms, state.clock.now_ms()).await?,
    ))
}
