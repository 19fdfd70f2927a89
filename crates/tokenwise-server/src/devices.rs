//! Enrollment (a one-time code for a device token) and authentication by device token.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::company::check_name;
use crate::db::Db;
use crate::error::ServerError;
use crate::secrets;

/// What a client sends to enroll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub code: String,
    /// For the administrator's device list ("Ada's ThinkPad").
    pub device_name: String,
}

/// The device's credentials: the token is shown this once and kept in the OS keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCredentials {
    pub device_id: String,
    pub user_id: String,
    pub token: String,
}

/// The authenticated caller of the employee API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub device_id: String,
    pub user_id: String,
    pub team_id: String,
}

/// Exchanges a valid, unused, unexpired code for a new device token. The code is spent in the
/// same transaction, so two devices racing with one code get one token between them.
pub async fn enroll(
    db: &Db,
    request: &EnrollRequest,
    now_ms: i64,
) -> Result<DeviceCredentials, ServerError> {
    check_name("device name", &request.device_name)?;
    let code_hash = secrets::digest(&secrets::normalize_code(&request.code));
    let invalid = || {
        ServerError::Unauthorized(
            "This enrollment code is not valid: it was mistyped, already used or has expired. \
             Ask your administrator for a new one."
                .into(),
        )
    };
    let mut tx = db.pool.begin().await?;
    let spent = sqlx::query(
        "UPDATE enrollment_codes SET used_at_ms = $1 \
         WHERE code_hash = $2 AND used_at_ms IS NULL AND expires_at_ms > $1",
    )
    .bind(now_ms)
    .bind(&code_hash)
    .execute(&mut *tx)
    .await?;
    if spent.rows_affected() != 1 {
        return Err(invalid());
    }
    let user_id: String =
        sqlx::query_scalar("SELECT user_id FROM enrollment_codes WHERE code_hash = $1")
            .bind(&code_hash)
            .fetch_one(&mut *tx)
            .await?;
    let token = secrets::new_device_token();
    let device_id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO devices (id, user_id, token_hash, name, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&device_id)
    .bind(&user_id)
    .bind(secrets::digest(&token))
    .bind(request.device_name.trim())
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(DeviceCredentials {
        device_id,
        user_id,
        token,
    })
}

/// The caller a bearer token belongs to; 401 for a wrong or revoked token.
pub async fn authenticate(db: &Db, token: &str) -> Result<Caller, ServerError> {
    let row = sqlx::query(
        "SELECT d.id AS device_id, d.user_id AS user_id, u.team_id AS team_id, \
         d.revoked_at_ms AS revoked_at_ms \
         FROM devices d JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1",
    )
    .bind(secrets::digest(token))
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(|| ServerError::Unauthorized("The device token is not valid.".into()))?;
    if row.try_get::<Option<i64>, _>("revoked_at_ms")?.is_some() {
        return Err(ServerError::Unauthorized(
            "This device was disconnected by your administrator. Connect it again with a new \
             enrollment code."
                .into(),
        ));
    }
    Ok(Caller {
        device_id: row.try_get("device_id")?,
        user_id: row.try_get("user_id")?,
        team_id: row.try_get("team_id")?,
    })
}
