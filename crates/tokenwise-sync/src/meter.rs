//! The snapshot's windows as the app's [`BudgetStatus`]: levels, percentages and tightness
//! come from `tokenwise-quota`, the same rules as a budget file's windows.

use tokenwise_core::{BudgetWindow, Money, ScopeKind, WindowKind};
use tokenwise_quota::{BudgetStatus, WindowPlan};

use crate::protocol::WindowView;

/// The company's windows as budget statuses; a window of a kind this app does not know (a
/// newer server) is left out rather than guessed at.
pub fn statuses(windows: &[WindowView]) -> Vec<BudgetStatus> {
    windows.iter().filter_map(status).collect()
}

fn status(view: &WindowView) -> Option<BudgetStatus> {
    let scope_kind = match view.scope_kind.as_str() {
        "user" => ScopeKind::User,
        "team" => ScopeKind::Team,
        "project" => ScopeKind::Project,
        _ => return None,
    };
    let plan = WindowPlan {
        window: BudgetWindow {
            scope_kind,
            scope_id: view.scope_id.clone(),
            kind: WindowKind::parse(&view.window)?,
            start_ms: view.start_ms,
            end_ms: view.resets_at_ms,
            limit: Money::from_micros(view.limit_micros.max(0)),
            hard: view.hard,
        },
        thresholds: view.thresholds.clone(),
    };
    Some(BudgetStatus::new(
        &plan,
        Money::from_micros(view.spent_micros.max(0)),
        Money::from_micros(view.reserved_micros.max(0)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenwise_quota::BudgetLevel;

    fn view(kind: &str, window: &str, limit: i64, spent: i64, reserved: i64) -> WindowView {
        WindowView {
            scope_kind: kind.into(),
            scope_id: "eng".into(),
            window: window.into(),
            start_ms: 0,
            resets_at_ms: 86_400_000,
            limit_micros: limit,
            spent_micros: spent,
            reserved_micros: reserved,
            hard: true,
            thresholds: vec![50, 80, 100],
            time_zone: "UTC".into(),
        }
    }

    #[test]
    fn a_company_window_reads_like_a_budget_file_window() {
        let statuses = statuses(&[view("team", "day", 1_000_000, 700_000, 150_000)]);
        let team = &statuses[0];
        assert_eq!(team.scope_kind, ScopeKind::Team);
        assert_eq!(team.window_kind, WindowKind::Day);
        assert_eq!(team.remaining, Money::from_micros(150_000));
        assert_eq!(team.percent_used, 85);
        assert_eq!(team.level, BudgetLevel::Critical);
        assert_eq!(team.resets_at_ms, 86_400_000);
    }

    #[test]
    fn unknown_kinds_are_left_out_not_guessed() {
        let statuses = statuses(&[
            view("department", "day", 1, 0, 0),
            view("team", "fortnight", 1, 0, 0),
            view("user", "month", 5_000_000, 0, 0),
        ]);
        assert_eq!(statuses.len(), 1);
        assert_eq!(statuses[0].scope_kind, ScopeKind::User);
    }
}
