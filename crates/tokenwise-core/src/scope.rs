//! Budget scopes: who or what a request is charged to.
//!
//! A scope is a kind ([`ScopeKind`]: user, team or project) and an id. A request is charged to
//! every scope that applies to it ([`Scopes`]): always the user, the user's team when there is
//! one, and the project chosen for the request when there is one. The same types serve the
//! budget file (`tokenwise-quota`), the ledger (`tokenwise-store`) and the UI.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The kind of a budget scope (`"user"`, `"team"` or `"project"` in TOML, JSON and TypeScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum ScopeKind {
    User,
    Team,
    Project,
}

impl ScopeKind {
    /// Every kind, in the order windows are listed: user, team, project.
    pub const ALL: [ScopeKind; 3] = [ScopeKind::User, ScopeKind::Team, ScopeKind::Project];

    /// `user`, `team` or `project` (the ledger's names too).
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::User => "user",
            ScopeKind::Team => "team",
            ScopeKind::Project => "project",
        }
    }

    /// The inverse of [`ScopeKind::as_str`].
    pub fn parse(text: &str) -> Option<ScopeKind> {
        ScopeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

impl std::fmt::Display for ScopeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes one request is charged to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes {
    pub user_id: String,
    pub team_id: Option<String>,
    pub project_id: Option<String>,
}

impl Scopes {
    /// The id this request carries for `kind`, if it is charged to a scope of that kind.
    pub fn id(&self, kind: ScopeKind) -> Option<&str> {
        match kind {
            ScopeKind::User => Some(self.user_id.as_str()),
            ScopeKind::Team => self.team_id.as_deref(),
            ScopeKind::Project => self.project_id.as_deref(),
        }
    }

    /// The same scopes, charged to `project` instead (or to no project).
    pub fn with_project(mut self, project: Option<String>) -> Scopes {
        self.project_id = project;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ScopeKind::ALL {
            assert_eq!(ScopeKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        assert_eq!(ScopeKind::parse("org"), None);
    }

    #[test]
    fn scopes_answer_per_kind() {
        let scopes = Scopes {
            user_id: "alice".into(),
            team_id: Some("platform".into()),
            project_id: None,
        };
        assert_eq!(scopes.id(ScopeKind::User), Some("alice"));
        assert_eq!(scopes.id(ScopeKind::Team), Some("platform"));
        assert_eq!(scopes.id(ScopeKind::Project), None);
        let scopes = scopes.with_project(Some("apollo".into()));
        assert_eq!(scopes.id(ScopeKind::Project), Some("apollo"));
    }
}
