//! `GET /v1/quota`: everything a client needs to show the company's budgets and to route:
//! who the user is, their team and projects, every window with its figures, the tiers the team
//! may use, and the catalog with prices. Its `ETag` is the SHA-256 of the body, so a client
//! polling an unchanged snapshot gets `304 Not Modified` and no body.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::company::{self, Project, Team};
use crate::db::Db;
use crate::devices::Caller;
use crate::error::ServerError;
use crate::windows::{scopes_of, window_views, WindowView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaSnapshot {
    pub user: Person,
    pub team: Team,
    /// The projects the user may charge.
    pub projects: Vec<Project>,
    /// The windows of the user's, the team's and the projects' budgets.
    pub windows: Vec<WindowView>,
    /// Tier ids the user may use; `None`: every tier of the catalog.
    pub allowed_tiers: Option<Vec<String>>,
    /// The tier catalog and prices (the app's TOML format).
    pub catalog_toml: String,
}

/// The projects a user may charge.
pub async fn projects_of(db: &Db, user_id: &str) -> Result<Vec<Project>, ServerError> {
    let rows = sqlx::query(
        "SELECT p.id AS id, p.name AS name FROM projects p \
         JOIN user_projects up ON up.project_id = p.id WHERE up.user_id = $1 ORDER BY p.id",
    )
    .bind(user_id)
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

/// The caller's snapshot at `now_ms`.
pub async fn snapshot(db: &Db, caller: &Caller, now_ms: i64) -> Result<QuotaSnapshot, ServerError> {
    let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(&caller.user_id)
        .fetch_one(&db.pool)
        .await?;
    let team = company::team(db, &caller.team_id).await?;
    let projects = projects_of(db, &caller.user_id).await?;
    let scopes = scopes_of(caller, projects.iter().map(|project| project.id.clone()));
    let mut connection = db.pool.acquire().await?;
    let windows = window_views(&mut connection, &scopes, now_ms).await?;
    drop(connection);
    Ok(QuotaSnapshot {
        user: Person {
            id: caller.user_id.clone(),
            name,
        },
        allowed_tiers: team.allowed_tiers.clone(),
        team,
        projects,
        windows,
        catalog_toml: company::catalog_toml(db).await?,
    })
}
