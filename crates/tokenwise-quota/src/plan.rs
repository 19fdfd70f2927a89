//! Which budget windows a request is checked against.
//!
//! [`window_checks`] lists every budget of the configuration that applies to a request by the
//! given scopes at `now_ms`, with the window's bounds: the input of the store's reservation.
//! [`WindowPlan`] is core's [`BudgetWindow`] (what the store reserves against) plus the
//! window's alert thresholds.

use tokenwise_core::BudgetWindow;

use crate::calendar::Window;
use crate::config::BudgetConfig;
use crate::error::QuotaError;
use crate::scope::Scopes;

/// One budget window a request is checked against, with its alert thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowPlan {
    pub window: BudgetWindow,
    /// Alert thresholds in percent, ascending.
    pub thresholds: Vec<u32>,
}

impl WindowPlan {
    /// The window's calendar bounds.
    pub fn bounds(&self) -> Window {
        Window {
            kind: self.window.kind,
            start_ms: self.window.start_ms,
            end_ms: self.window.end_ms,
        }
    }
}

/// Every budget window that applies to a request charged to `scopes` at `now_ms`: one per
/// budget of the configuration whose scope is one of the request's, ordered by scope kind
/// (user, team, project) and then window (day, week, month).
///
/// `now_ms` should come through [`crate::MonotonicNow`], so a clock set back cannot reopen a
/// window that has closed. Fails only for an instant outside the calendar's range.
pub fn window_checks(
    config: &BudgetConfig,
    scopes: &Scopes,
    now_ms: i64,
) -> Result<Vec<WindowPlan>, QuotaError> {
    let mut applicable: Vec<_> = config
        .budgets()
        .iter()
        .filter(|budget| scopes.id(budget.scope) == Some(budget.scope_id.as_str()))
        .collect();
    applicable.sort_by_key(|budget| (budget.scope, budget.window));

    let mut windows: [Option<Window>; 3] = [None; 3];
    let mut plans = Vec::with_capacity(applicable.len());
    for budget in applicable {
        let slot = &mut windows[budget.window as usize];
        let window = match slot {
            Some(window) => *window,
            None => *slot.insert(config.calendar().window(budget.window, now_ms)?),
        };
        plans.push(WindowPlan {
            window: BudgetWindow {
                scope_kind: budget.scope,
                scope_id: budget.scope_id.clone(),
                kind: budget.window,
                start_ms: window.start_ms,
                end_ms: window.end_ms,
                limit: budget.limit,
                hard: budget.hard,
            },
            thresholds: config.thresholds_for(budget).to_vec(),
        });
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::ScopeKind;
    use chrono::DateTime;

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    const CONFIG: &str = r#"
time_zone = "Europe/Berlin"
week_start = "sunday"
alert_thresholds = [50, 80, 100]

[identity]
user_id = "alice"
team_id = "platform"
project_id = "apollo"

[[budget]]
scope = "project"
id = "apollo"
window = "month"
limit_usd = "200"
mode = "soft"

[[budget]]
scope = "project"
id = "zeus"
window = "month"
limit_usd = "50"

[[budget]]
scope = "team"
id = "platform"
window = "week"
limit_usd = "100"

[[budget]]
scope = "user"
id = "alice"
window = "month"
limit_usd = "40"
thresholds = [90, 75]

[[budget]]
scope = "user"
id = "alice"
window = "day"
limit_micros = 5000000
"#;

    #[test]
    fn every_applicable_budget_with_its_window() {
        let config = BudgetConfig::parse(CONFIG, "budgets.toml").unwrap();
        // Saturday 2024-03-30, the day before Berlin springs forward.
        let now = at("2024-03-30T15:00:00+01:00");
        let plans = window_checks(&config, &config.identity().scopes(), now).unwrap();
        let summary: Vec<_> = plans
            .iter()
            .map(|plan| {
                (
                    plan.window.scope_kind.as_str(),
                    plan.window.scope_id.as_str(),
                    plan.window.kind.as_str(),
                    plan.window.hard,
                    plan.window.limit.micros(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("user", "alice", "day", true, 5_000_000),
                ("user", "alice", "month", true, 40_000_000),
                ("team", "platform", "week", true, 100_000_000),
                ("project", "apollo", "month", false, 200_000_000),
            ]
        );
        let day = &plans[0];
        assert_eq!(day.window.start_ms, at("2024-03-30T00:00:00+01:00"));
        assert_eq!(day.window.end_ms, at("2024-03-31T00:00:00+01:00"));
        assert_eq!(day.thresholds, [50, 80, 100]);
        assert_eq!(plans[1].thresholds, [75, 90]);
        assert_eq!(plans[1].window.start_ms, at("2024-03-01T00:00:00+01:00"));
        assert_eq!(plans[1].window.end_ms, at("2024-04-01T00:00:00+02:00"));
        // Weeks start on Sunday in this file.
        assert_eq!(plans[2].window.start_ms, at("2024-03-24T00:00:00+01:00"));
        assert_eq!(plans[2].window.end_ms, at("2024-03-31T00:00:00+01:00"));
        assert_eq!(plans[3].bounds(), plans[1].bounds());
        for plan in &plans {
            assert!(plan.bounds().contains(now));
        }
    }

    #[test]
    fn the_chosen_project_decides_which_project_budget_applies() {
        let config = BudgetConfig::parse(CONFIG, "budgets.toml").unwrap();
        let now = at("2024-06-10T12:00:00Z");
        let scopes = config.identity().scopes().with_project(Some("zeus".into()));
        let plans = window_checks(&config, &scopes, now).unwrap();
        let projects: Vec<_> = plans
            .iter()
            .filter(|plan| plan.window.scope_kind == ScopeKind::Project)
            .map(|plan| (plan.window.scope_id.as_str(), plan.window.hard))
            .collect();
        assert_eq!(projects, [("zeus", true)]);

        let no_project = config.identity().scopes().with_project(None);
        let plans = window_checks(&config, &no_project, now).unwrap();
        assert!(plans
            .iter()
            .all(|plan| plan.window.scope_kind != ScopeKind::Project));
        assert_eq!(plans.len(), 3);
    }

    #[test]
    fn other_people_get_nothing_and_bad_instants_fail() {
        let config = BudgetConfig::parse(CONFIG, "budgets.toml").unwrap();
        let stranger = Scopes {
            user_id: "bob".into(),
            ..Scopes::default()
        };
        assert!(window_checks(&config, &stranger, 0).unwrap().is_empty());
        assert_eq!(
            window_checks(&config, &config.identity().scopes(), i64::MAX),
            Err(QuotaError::InstantOutOfRange { at_ms: i64::MAX })
        );
    }
}
