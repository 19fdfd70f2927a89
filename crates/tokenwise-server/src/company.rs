//! The company as the administrator sets it up: teams, projects, users (one team each, any
//! number of projects), budgets per scope and window, the tier catalog, the tiers each team may
//! use, and devices. Used by the admin HTTP API and the `tokenwise-server admin` verbs alike.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokenwise_core::tiers::TierCatalog;
use tokenwise_quota::{parse_usd, Calendar, WeekStart, DEFAULT_THRESHOLDS};

use crate::db::Db;
use crate::error::ServerError;
use crate::secrets;

/// The longest id or name accepted.
pub const MAX_NAME_CHARS: usize = 120;

/// How long an enrollment code can be used.
pub const ENROLLMENT_CODE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Checks an id or name: not blank, no control characters, not too long. Anything else
/// (quotes, SQL, emoji) is stored as the text it is.
pub fn check_name(what: &str, value: &str) -> Result<(), ServerError> {
    if value.trim().is_empty() {
        return Err(ServerError::BadRequest(format!(
            "The {what} must not be blank."
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ServerError::BadRequest(format!(
            "The {what} must not contain control characters."
        )));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(ServerError::BadRequest(format!(
            "The {what} is longer than {MAX_NAME_CHARS} characters."
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeam {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Tier ids the team may use; `None`: every tier of the catalog.
    pub allowed_tiers: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub team_id: String,
    #[serde(default)]
    pub project_ids: Vec<String>,
}

/// A one-time code the employee enters in the app to connect it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrollment {
    pub user_id: String,
    pub code: String,
    pub expires_at_ms: i64,
}

/// A budget as the administrator writes it (dollars as an exact decimal string).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// `user`, `team` or `project`.
    pub scope_kind: String,
    pub scope_id: String,
    /// `day`, `week` or `month`.
    pub window: String,
    /// e.g. `"200.00"`.
    pub limit_usd: String,
    /// A hard budget refuses what does not fit; a soft one warns. Hard by default.
    #[serde(default = "yes")]
    pub hard: bool,
    /// Alert percentages; 50, 80 and 100 by default.
    #[serde(default)]
    pub thresholds: Option<Vec<u32>>,
    /// The IANA time zone the windows follow; UTC by default.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub week_start: Option<WeekStart>,
}

fn yes() -> bool {
    true
}

/// A stored budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub scope_kind: String,
    pub scope_id: String,
    pub window: String,
    pub limit_micros: i64,
    pub hard: bool,
    pub thresholds: Vec<u32>,
    pub time_zone: String,
    pub week_start: WeekStart,
}

impl Budget {
    /// The calendar its windows follow.
    pub fn calendar(&self) -> Result<Calendar, ServerError> {
        Calendar::new(&self.time_zone, self.week_start)
            .map_err(|e| ServerError::Database(format!("stored budget has a bad time zone: {e}")))
    }

    pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Budget, ServerError> {
        let thresholds: String = row.try_get("thresholds")?;
        let week_start: String = row.try_get("week_start")?;
        Ok(Budget {
            scope_kind: row.try_get("scope_kind")?,
            scope_id: row.try_get("scope_id")?,
            window: row.try_get("window_kind")?,
            limit_micros: row.try_get("limit_micros")?,
            hard: row.try_get::<i64, _>("hard")? == 1,
            thresholds: serde_json::from_str(&thresholds)
                .map_err(|e| ServerError::Database(format!("stored thresholds: {e}")))?,
            time_zone: row.try_get("time_zone")?,
            week_start: serde_json::from_value(serde_json::Value::String(week_start))
                .map_err(|e| ServerError::Database(format!("stored week start: {e}")))?,
        })
    }
}

/// A device as the administrator sees it (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_seen_ms: Option<i64>,
    pub revoked: bool,
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.message().contains("UNIQUE constraint failed")
                || db.message().contains("duplicate key value")
        }
        _ => false,
    }
}

/// Maps an insert's error: a duplicate id becomes "A {what} with id … already exists."
fn taken<'a>(what: &'static str, id: &'a str) -> impl FnOnce(sqlx::Error) -> ServerError + 'a {
    move |error| {
        if is_unique_violation(&error) {
            ServerError::Conflict(format!("A {what} with id {id:?} already exists."))
        } else {
            error.into()
        }
    }
}

async fn exists(db: &Db, sql: &str, id: &str) -> Result<bool, ServerError> {
    Ok(sqlx::query(sql)
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .is_some())
}

pub async fn add_team(db: &Db, team: &NewTeam, now_ms: i64) -> Result<Team, ServerError> {
    check_name("team id", &team.id)?;
    let name = team.name.clone().unwrap_or_else(|| team.id.clone());
    check_name("team name", &name)?;
    sqlx::query(
        "INSERT INTO teams (id, name, allowed_tiers, created_at_ms) VALUES ($1, $2, NULL, $3)",
    )
    .bind(&team.id)
    .bind(&name)
    .bind(now_ms)
    .execute(&db.pool)
    .await
    .map_err(taken("team", &team.id))?;
    Ok(Team {
        id: team.id.clone(),
        name,
        allowed_tiers: None,
    })
}

pub async fn list_teams(db: &Db) -> Result<Vec<Team>, ServerError> {
    let rows = sqlx::query("SELECT id, name, allowed_tiers FROM teams ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(team_from_row).collect()
}

pub(crate) fn team_from_row(row: &sqlx::any::AnyRow) -> Result<Team, ServerError> {
    let allowed: Option<String> = row.try_get("allowed_tiers")?;
    Ok(Team {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        allowed_tiers: allowed
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| ServerError::Database(format!("stored allowed tiers: {e}")))?,
    })
}

pub async fn team(db: &Db, id: &str) -> Result<Team, ServerError> {
    let row = sqlx::query("SELECT id, name, allowed_tiers FROM teams WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| ServerError::NotFound(format!("No team with id {id:?}.")))?;
    team_from_row(&row)
}

/// Limits a team to some tiers of the catalog (`None`: all of them). Every id must be in the
/// catalog.
pub async fn set_allowed_tiers(
    db: &Db,
    team_id: &str,
    tiers: Option<Vec<String>>,
) -> Result<Team, ServerError> {
    if let Some(tiers) = &tiers {
        let catalog = parsed_catalog(db).await?;
        for tier in tiers {
            if catalog.get(tier).is_none() {
                let known: Vec<&str> = catalog.entries().iter().map(|e| e.id.as_str()).collect();
                return Err(ServerError::BadRequest(format!(
                    "The catalog has no tier {tier:?} (it has {}).",
                    known.join(", ")
                )));
            }
        }
    }
    let text = tiers
        .as_ref()
        .map(|t| serde_json::to_string(t).expect("strings serialize"));
    let done = sqlx::query("UPDATE teams SET allowed_tiers = $1 WHERE id = $2")
        .bind(text)
        .bind(team_id)
        .execute(&db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!(
            "No team with id {team_id:?}."
        )));
    }
    team(db, team_id).await
}

pub async fn add_project(
    db: &Db,
    project: &NewProject,
    now_ms: i64,
) -> Result<Project, ServerError> {
    check_name("project id", &project.id)?;
    let name = project.name.clone().unwrap_or_else(|| project.id.clone());
    check_name("project name", &name)?;
    sqlx::query("INSERT INTO projects (id, name, created_at_ms) VALUES ($1, $2, $3)")
        .bind(&project.id)
        .bind(&name)
        .bind(now_ms)
        .execute(&db.pool)
        .await
        .map_err(taken("project", &project.id))?;
    Ok(Project {
        id: project.id.clone(),
        name,
    })
}

pub async fn list_projects(db: &Db) -> Result<Vec<Project>, ServerError> {
    let rows = sqlx::query("SELECT id, name FROM projects ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Project {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
            })
        })
        .collect()
}

/// Adds a user to a team (and projects) and returns their first enrollment code.
pub async fn add_user(db: &Db, user: &NewUser, now_ms: i64) -> Result<Enrollment, ServerError> {
    check_name("user id", &user.id)?;
    let name = user.name.clone().unwrap_or_else(|| user.id.clone());
    check_name("user name", &name)?;
    if !exists(db, "SELECT 1 FROM teams WHERE id = $1", &user.team_id).await? {
        return Err(ServerError::BadRequest(format!(
            "No team with id {:?}; add it first.",
            user.team_id
        )));
    }
    for project in &user.project_ids {
        if !exists(db, "SELECT 1 FROM projects WHERE id = $1", project).await? {
            return Err(ServerError::BadRequest(format!(
                "No project with id {project:?}; add it first."
            )));
        }
    }
    let mut tx = db.pool.begin().await?;
    sqlx::query("INSERT INTO users (id, team_id, name, created_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(&user.id)
        .bind(&user.team_id)
        .bind(&name)
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(taken("user", &user.id))?;
    for project in &user.project_ids {
        sqlx::query(
            "INSERT INTO user_projects (user_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(&user.id)
        .bind(project)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    new_enrollment(db, &user.id, now_ms).await
}

/// A new one-time enrollment code for an existing user (a new laptop).
pub async fn new_enrollment(
    db: &Db,
    user_id: &str,
    now_ms: i64,
) -> Result<Enrollment, ServerError> {
    if !exists(db, "SELECT 1 FROM users WHERE id = $1", user_id).await? {
        return Err(ServerError::NotFound(format!(
            "No user with id {user_id:?}."
        )));
    }
    let code = secrets::new_enrollment_code();
    let expires_at_ms = now_ms + ENROLLMENT_CODE_TTL_MS;
    sqlx::query(
        "INSERT INTO enrollment_codes (code_hash, user_id, created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(secrets::digest(&secrets::normalize_code(&code)))
    .bind(user_id)
    .bind(now_ms)
    .bind(expires_at_ms)
    .execute(&db.pool)
    .await?;
    Ok(Enrollment {
        user_id: user_id.to_string(),
        code,
        expires_at_ms,
    })
}

/// Creates or replaces the budget of a scope and window kind.
pub async fn set_budget(db: &Db, spec: &BudgetSpec) -> Result<Budget, ServerError> {
    let kind_table = match spec.scope_kind.as_str() {
        "user" => "users",
        "team" => "teams",
        "project" => "projects",
        other => {
            return Err(ServerError::BadRequest(format!(
                "scope_kind {other:?} is not one of user, team, project."
            )))
        }
    };
    if !matches!(spec.window.as_str(), "day" | "week" | "month") {
        return Err(ServerError::BadRequest(format!(
            "window {:?} is not one of day, week, month.",
            spec.window
        )));
    }
    let sql = format!("SELECT 1 FROM {kind_table} WHERE id = $1");
    if !exists(db, &sql, &spec.scope_id).await? {
        return Err(ServerError::BadRequest(format!(
            "No {} with id {:?}.",
            spec.scope_kind, spec.scope_id
        )));
    }
    let limit = parse_usd(&spec.limit_usd).map_err(|e| ServerError::BadRequest(e.to_string()))?;
    if limit.micros() < 0 {
        return Err(ServerError::BadRequest(
            "A budget limit cannot be negative.".into(),
        ));
    }
    let thresholds = spec
        .thresholds
        .clone()
        .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec());
    if thresholds.iter().any(|t| *t == 0 || *t > 1000) {
        return Err(ServerError::BadRequest(
            "Alert thresholds are percentages from 1 to 1000.".into(),
        ));
    }
    let time_zone = spec.time_zone.clone().unwrap_or_else(|| "UTC".into());
    let week_start = spec.week_start.unwrap_or_default();
    Calendar::new(&time_zone, week_start).map_err(|e| ServerError::BadRequest(e.to_string()))?;
    let budget = Budget {
        scope_kind: spec.scope_kind.clone(),
        scope_id: spec.scope_id.clone(),
        window: spec.window.clone(),
        limit_micros: limit.micros(),
        hard: spec.hard,
        thresholds,
        time_zone,
        week_start,
    };
    sqlx::query(
        "INSERT INTO budgets (scope_kind, scope_id, window_kind, limit_micros, hard, thresholds, \
         time_zone, week_start) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (scope_kind, scope_id, window_kind) DO UPDATE SET \
         limit_micros = excluded.limit_micros, hard = excluded.hard, \
         thresholds = excluded.thresholds, time_zone = excluded.time_zone, \
         week_start = excluded.week_start",
    )
    .bind(&budget.scope_kind)
    .bind(&budget.scope_id)
    .bind(&budget.window)
    .bind(budget.limit_micros)
    .bind(i64::from(budget.hard))
    .bind(serde_json::to_string(&budget.thresholds).expect("numbers serialize"))
    .bind(&budget.time_zone)
    .bind(budget.week_start.as_str())
    .execute(&db.pool)
    .await?;
    Ok(budget)
}

pub async fn remove_budget(
    db: &Db,
    scope_kind: &str,
    scope_id: &str,
    window: &str,
) -> Result<(), ServerError> {
    let done = sqlx::query(
        "DELETE FROM budgets WHERE scope_kind = $1 AND scope_id = $2 AND window_kind = $3",
    )
    .bind(scope_kind)
    .bind(scope_id)
    .bind(window)
    .execute(&db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!(
            "No {window} budget for {scope_kind} {scope_id:?}."
        )));
    }
    Ok(())
}

pub async fn list_budgets(db: &Db) -> Result<Vec<Budget>, ServerError> {
    let rows = sqlx::query("SELECT * FROM budgets ORDER BY scope_kind, scope_id, window_kind")
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(Budget::from_row).collect()
}

/// The tier catalog clients use (TOML): the stored one, else the built-in one.
pub async fn catalog_toml(db: &Db) -> Result<String, ServerError> {
    let stored: Option<String> = sqlx::query_scalar("SELECT toml FROM catalog WHERE id = 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(stored.unwrap_or_else(|| tokenwise_core::tiers::BUILTIN_CATALOG_TOML.to_string()))
}

pub(crate) async fn parsed_catalog(db: &Db) -> Result<TierCatalog, ServerError> {
    let text = catalog_toml(db).await?;
    TierCatalog::from_toml_str(&text, "the stored catalog")
        .map_err(|e| ServerError::Database(e.to_string()))
}

/// Replaces the tier catalog; refused (naming the line) unless the app itself would accept it.
pub async fn set_catalog(db: &Db, toml: &str, now_ms: i64) -> Result<(), ServerError> {
    TierCatalog::from_toml_str(toml, "the catalog")
        .map_err(|e| ServerError::BadRequest(e.to_string()))?;
    sqlx::query(
        "INSERT INTO catalog (id, toml, updated_at_ms) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET toml = excluded.toml, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(toml)
    .bind(now_ms)
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn list_devices(db: &Db, user_id: Option<&str>) -> Result<Vec<Device>, ServerError> {
    let rows = sqlx::query(
        "SELECT id, user_id, name, created_at_ms, last_seen_ms, revoked_at_ms FROM devices \
         WHERE ($1 = '' OR user_id = $1) ORDER BY user_id, created_at_ms",
    )
    .bind(user_id.unwrap_or(""))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Device {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                name: row.try_get("name")?,
                created_at_ms: row.try_get("created_at_ms")?,
                last_seen_ms: row.try_get("last_seen_ms")?,
                revoked: row.try_get::<Option<i64>, _>("revoked_at_ms")?.is_some(),
            })
        })
        .collect()
}

/// Revokes a device: its token stops working at once.
pub async fn revoke_device(db: &Db, device_id: &str, now_ms: i64) -> Result<(), ServerError> {
    let done =
        sqlx::query("UPDATE devices SET revoked_at_ms = COALESCE(revoked_at_ms, $1) WHERE id = $2")
            .bind(now_ms)
            .bind(device_id)
            .execute(&db.pool)
            .await?;
    if done.rows_affected() == 0 {
        return Err(ServerError::NotFound(format!(
            "No device with id {device_id:?}."
        )));
    }
    Ok(())
}
