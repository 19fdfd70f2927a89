//! The budget file: time zone, week start, alert thresholds, whose budgets, and the budgets.
//!
//! A company's quota sync or managed policy writes it (default name `budgets.toml`); the format
//! is described for people in `docs/budgets.md`, with a commented example in
//! `crates/tokenwise-quota/budgets.example.toml`:
//!
//! ```toml
//! time_zone = "Europe/Berlin"        # IANA name; required
//! week_start = "monday"              # monday … sunday; default monday
//! alert_thresholds = [50, 80, 100]   # percent of a limit; default [50, 80, 100]
//! auto_approve_below_usd = "0.01"    # optional: cloud requests whose maximum cost is below
//!                                    # this are sent without a confirmation click
//! offline_allowance_usd = "0.50"     # optional: cloud spend allowed while the company's
//!                                    # quota server cannot be reached (default 0: none)
//!
//! [identity]                         # whose budgets these are; required
//! user_id = "alice"                  # required
//! team_id = "platform"               # optional
//! project_id = "apollo"              # optional: the project when none is chosen
//!
//! [[budget]]
//! scope = "user"                     # user | team | project
//! id = "alice"
//! window = "day"                     # day | week | month
//! limit_usd = "5.00"                 # or limit_micros = 5000000
//! mode = "hard"                      # hard (refuse) | soft (warn); default hard
//! thresholds = [50, 90, 100]         # optional; default alert_thresholds
//! ```
//!
//! # Rules
//!
//! [`BudgetConfig::parse`] checks them all; the first breach is a
//! [`QuotaError::InvalidConfig`] naming the file, the line and the problem, e.g.
//! `budgets.toml, line 1: unknown time zone "Europe/Berln" (did you mean "Europe/Berlin"?) …`.
//!
//! 1. The file is TOML of the shape above. Unknown keys (typos) and missing required keys are
//!    errors, never silently ignored.
//! 2. `time_zone` is an IANA name in the tz database compiled into the app, spelled exactly
//!    (`Europe/Berlin`, `America/New_York`, `UTC`).
//! 3. Thresholds (`alert_thresholds` and a budget's `thresholds`) are whole percents from 1 to
//!    1000 (above 100 % alerts on overspend of a soft window), each at most once; they are kept
//!    in ascending order. An empty list means no alerts.
//! 4. Ids (`user_id`, `team_id`, `project_id`, a budget's `id`) are 1 to 128 characters,
//!    without control characters or surrounding spaces.
//! 5. A budget has exactly one limit: `limit_micros`, a non-negative integer of micro-dollars
//!    (10⁻⁶ USD), or `limit_usd`, a decimal **string** of dollars such as `"5.00"` (at most 6
//!    decimals, parsed exactly without floats; see [`crate::usd`]) or a whole number of
//!    dollars (`limit_usd = 5`). A float (`limit_usd = 5.5`) is refused: it may not be exact.
//!    A limit of 0 allows no cloud spend in that window.
//! 6. `mode` is `"hard"` (a request that does not fit is refused) or `"soft"` (it goes ahead
//!    with a warning); it defaults to `"hard"`, so a forgotten key fails closed.
//! 7. The file holds one employee's budgets: a `user` budget must name `identity.user_id`, and
//!    a `team` budget `identity.team_id` (which must then be set), so a typo in an id cannot
//!    silently leave a budget unapplied. `project` budgets may name any project: the project is
//!    chosen per request.
//! 8. At most one budget per scope, id and window.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use tokenwise_core::config_file::line_of;
use tokenwise_core::Money;
use toml::Spanned;

use crate::calendar::{Calendar, WeekStart, WindowKind};
use crate::error::QuotaError;
use crate::scope::{ScopeKind, Scopes};
use crate::usd::parse_usd;
use crate::zone::parse_zone;

/// Alert thresholds when the file names none: 50, 80 and 100 % of a limit.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

/// Highest allowed threshold, in percent.
pub const MAX_THRESHOLD_PCT: u32 = 1000;

/// Longest allowed id, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// Whose budgets a configuration holds: the employee, their team, their default project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    pub team_id: Option<String>,
    /// The project a request is charged to when none is chosen for it.
    pub project_id: Option<String>,
}

impl Identity {
    /// The scopes of a request charged to the default project (see [`Scopes::with_project`]).
    pub fn scopes(&self) -> Scopes {
        Scopes {
            user_id: self.user_id.clone(),
            team_id: self.team_id.clone(),
            project_id: self.project_id.clone(),
        }
    }
}

/// One budget: a limit on one scope's spend in one kind of window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub scope: ScopeKind,
    pub scope_id: String,
    pub window: WindowKind,
    pub limit: Money,
    /// Hard budgets refuse a request that does not fit; soft ones warn.
    pub hard: bool,
    /// Alert thresholds for this budget (ascending); `None` uses the configuration's
    /// [`BudgetConfig::alert_thresholds`].
    pub thresholds: Option<Vec<u32>>,
}

/// A validated budget configuration (see the module docs for the rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetConfig {
    source: String,
    calendar: Calendar,
    alert_thresholds: Vec<u32>,
    identity: Identity,
    budgets: Vec<Budget>,
    auto_approve_below: Option<Money>,
    offline_allowance: Option<Money>,
}

impl BudgetConfig {
    /// Parses and validates a budget file; `file_name` names it in errors.
    pub fn parse(text: &str, file_name: &str) -> Result<BudgetConfig, QuotaError> {
        let fail = |span: Option<Range<usize>>, problem: String| QuotaError::InvalidConfig {
            file: file_name.to_string(),
            line: span.map(|span| line_of(text, span.start)),
            problem,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|error| {
            let problem = toml_problem(&error);
            // A key missing at the top level is reported for the whole file: no line.
            let span = error
                .span()
                .filter(|span| !(span.start == 0 && problem.starts_with("missing field")));
            fail(span, problem)
        })?;

        let zone = parse_zone(raw.time_zone.get_ref())
            .map_err(|error| fail(Some(raw.time_zone.span()), error.to_string()))?;
        let calendar = Calendar::from_zone(zone, raw.week_start.unwrap_or_default());

        let line = |spanned_start: usize| Some(line_of(text, spanned_start));
        let identity_raw = raw.identity.into_inner();
        let lines = Lines {
            alert_thresholds: raw
                .alert_thresholds
                .as_ref()
                .and_then(|spanned| line(spanned.span().start)),
            user_id: line(identity_raw.user_id.span().start),
            team_id: identity_raw
                .team_id
                .as_ref()
                .and_then(|spanned| line(spanned.span().start)),
            project_id: identity_raw
                .project_id
                .as_ref()
                .and_then(|spanned| line(spanned.span().start)),
            budgets: raw
                .budgets
                .iter()
                .map(|spanned| {
                    let budget = spanned.get_ref();
                    BudgetLines {
                        table: line(spanned.span().start),
                        id: line(budget.id.span().start),
                        thresholds: budget
                            .thresholds
                            .as_ref()
                            .and_then(|thresholds| line(thresholds.span().start)),
                    }
                })
                .collect(),
        };
        let identity = Identity {
            user_id: identity_raw.user_id.into_inner(),
            team_id: identity_raw.team_id.map(Spanned::into_inner),
            project_id: identity_raw.project_id.map(Spanned::into_inner),
        };
        let mut budgets = Vec::with_capacity(raw.budgets.len());
        for spanned in raw.budgets {
            let table = spanned.span();
            let raw_budget = spanned.into_inner();
            let limit = raw_budget
                .limit()
                .map_err(|(span, problem)| fail(Some(span.unwrap_or(table)), problem))?;
            budgets.push(Budget {
                scope: raw_budget.scope,
                scope_id: raw_budget.id.into_inner(),
                window: raw_budget.window,
                limit,
                hard: raw_budget.mode.unwrap_or_default() == Mode::Hard,
                thresholds: raw_budget.thresholds.map(Spanned::into_inner),
            });
        }
        let alert_thresholds = raw
            .alert_thresholds
            .map(Spanned::into_inner)
            .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec());
        let auto_approve_below = match &raw.auto_approve_below_usd {
            None => None,
            Some(text) => Some(parse_usd(text.get_ref()).map_err(|error| {
                fail(
                    Some(text.span()),
                    format!("auto_approve_below_usd: {error}"),
                )
            })?),
        };
        let offline_allowance = match &raw.offline_allowance_usd {
            None => None,
            Some(text) => Some(parse_usd(text.get_ref()).map_err(|error| {
                fail(Some(text.span()), format!("offline_allowance_usd: {error}"))
            })?),
        };
        let mut config = BudgetConfig::validate(
            file_name,
            calendar,
            alert_thresholds,
            identity,
            budgets,
            &lines,
        )?;
        config.auto_approve_below = auto_approve_below;
        config.offline_allowance = offline_allowance;
        Ok(config)
    }

    /// How much cloud spend is allowed while the company's quota server cannot be reached,
    /// until it has heard of it (`offline_allowance_usd`); `None` (the default): none.
    pub fn offline_allowance(&self) -> Option<Money> {
        self.offline_allowance
    }

    /// Cloud requests whose maximum cost is strictly below this are sent without asking
    /// (`auto_approve_below_usd`); `None` (the default): every cloud request asks.
    pub fn auto_approve_below(&self) -> Option<Money> {
        self.auto_approve_below
    }

    /// The same configuration with an auto-approve limit.
    pub fn with_auto_approve_below(mut self, limit: Option<Money>) -> BudgetConfig {
        self.auto_approve_below = limit;
        self
    }

    /// A configuration built in code (e.g. from the quota server's snapshot), checked by the
    /// same rules 3, 4, 5 (non-negative limit), 7 and 8 as a file; `source` names it in errors.
    pub fn new(
        source: &str,
        calendar: Calendar,
        alert_thresholds: Vec<u32>,
        identity: Identity,
        budgets: Vec<Budget>,
    ) -> Result<BudgetConfig, QuotaError> {
        BudgetConfig::validate(
            source,
            calendar,
            alert_thresholds,
            identity,
            budgets,
            &Lines::default(),
        )
    }

    /// The file or other source the configuration came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The time zone and week start windows are aligned to.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The IANA name of the time zone, e.g. "Europe/Berlin".
    pub fn time_zone(&self) -> &'static str {
        self.calendar.zone_name()
    }

    pub fn week_start(&self) -> WeekStart {
        self.calendar.week_start()
    }

    /// Default alert thresholds in percent, ascending.
    pub fn alert_thresholds(&self) -> &[u32] {
        &self.alert_thresholds
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The budgets, in the order given.
    pub fn budgets(&self) -> &[Budget] {
        &self.budgets
    }

    /// The thresholds that apply to `budget`: its own, or the default ones.
    pub fn thresholds_for<'a>(&'a self, budget: &'a Budget) -> &'a [u32] {
        budget
            .thresholds
            .as_deref()
            .unwrap_or(&self.alert_thresholds)
    }

    fn validate(
        source: &str,
        calendar: Calendar,
        alert_thresholds: Vec<u32>,
        identity: Identity,
        mut budgets: Vec<Budget>,
        lines: &Lines,
    ) -> Result<BudgetConfig, QuotaError> {
        let fail = |line: Option<u32>, problem: String| QuotaError::InvalidConfig {
            file: source.to_string(),
            line,
            problem,
        };
        let alert_thresholds = normalize_thresholds(alert_thresholds, "alert_thresholds")
            .map_err(|problem| fail(lines.alert_thresholds, problem))?;

        check_id(&identity.user_id, "identity.user_id").map_err(|p| fail(lines.user_id, p))?;
        if let Some(team) = &identity.team_id {
            check_id(team, "identity.team_id").map_err(|p| fail(lines.team_id, p))?;
        }
        if let Some(project) = &identity.project_id {
            check_id(project, "identity.project_id").map_err(|p| fail(lines.project_id, p))?;
        }

        let mut seen: HashMap<(ScopeKind, &str, WindowKind), usize> = HashMap::new();
        for (index, budget) in budgets.iter_mut().enumerate() {
            let at = lines.budgets.get(index).copied().unwrap_or_default();
            let what = format!(
                "the {} budget of {} \"{}\"",
                budget.window, budget.scope, budget.scope_id
            );
            check_id(&budget.scope_id, "a budget's id").map_err(|p| fail(at.id, p))?;
            if budget.limit.is_negative() {
                return Err(fail(
                    at.table,
                    format!(
                        "{what} has a negative limit ({} micro-dollars); a limit is 0 or more",
                        budget.limit.micros()
                    ),
                ));
            }
            if let Some(thresholds) = budget.thresholds.take() {
                let thresholds = normalize_thresholds(thresholds, "thresholds")
                    .map_err(|problem| fail(at.thresholds.or(at.table), problem))?;
                budget.thresholds = Some(thresholds);
            }
            match budget.scope {
                ScopeKind::User if budget.scope_id != identity.user_id => {
                    return Err(fail(
                        at.id,
                        format!(
                            "a user budget for \"{}\", but this file's identity is user \"{}\"; \
                             a budget file holds one employee's budgets: fix the budget's id or \
                             identity.user_id",
                            budget.scope_id, identity.user_id
                        ),
                    ));
                }
                ScopeKind::Team => match &identity.team_id {
                    None => {
                        return Err(fail(
                            at.id,
                            format!(
                                "a team budget for \"{}\", but [identity] has no team_id; add \
                                 team_id = \"{}\" to [identity] or remove the budget",
                                budget.scope_id, budget.scope_id
                            ),
                        ))
                    }
                    Some(team) if *team != budget.scope_id => {
                        return Err(fail(
                            at.id,
                            format!(
                                "a team budget for \"{}\", but this file's identity is in team \
                                 \"{team}\"; fix the budget's id or identity.team_id",
                                budget.scope_id
                            ),
                        ))
                    }
                    Some(_) => {}
                },
                _ => {}
            }
        }
        for (index, budget) in budgets.iter().enumerate() {
            let key = (budget.scope, budget.scope_id.as_str(), budget.window);
            if let Some(first) = seen.insert(key, index) {
                let at = lines.budgets.get(index).copied().unwrap_or_default();
                let first_line = lines.budgets.get(first).and_then(|first| first.table);
                let where_first = match first_line {
                    Some(line) => format!(" (the first is on line {line})"),
                    None => String::new(),
                };
                return Err(fail(
                    at.table,
                    format!(
                        "a second {} budget for {} \"{}\"{where_first}; keep one",
                        budget.window, budget.scope, budget.scope_id
                    ),
                ));
            }
        }
        Ok(BudgetConfig {
            source: source.to_string(),
            calendar,
            alert_thresholds,
            identity,
            budgets,
            auto_approve_below: None,
            offline_allowance: None,
        })
    }
}

/// Sorted thresholds, or why they are not valid.
fn normalize_thresholds(mut thresholds: Vec<u32>, key: &str) -> Result<Vec<u32>, String> {
    if let Some(bad) = thresholds
        .iter()
        .find(|&&pct| pct == 0 || pct > MAX_THRESHOLD_PCT)
    {
        return Err(format!(
            "{key}: {bad} % is out of range; thresholds are whole percents from 1 to \
             {MAX_THRESHOLD_PCT}"
        ));
    }
    thresholds.sort_unstable();
    if let Some(pair) = thresholds.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!(
            "{key}: {} % is listed twice; list each threshold once",
            pair[0]
        ));
    }
    Ok(thresholds)
}

/// Why an id is not usable, if it is not.
fn check_id(id: &str, what: &str) -> Result<(), String> {
    let chars = id.chars().count();
    if chars == 0 || id.trim().is_empty() {
        return Err(format!(
            "{what} is empty; give the id the quota server uses"
        ));
    }
    if chars > MAX_ID_CHARS {
        return Err(format!(
            "{what} is {chars} characters long; ids have at most {MAX_ID_CHARS}"
        ));
    }
    if id.trim() != id {
        return Err(format!(
            "{what} \"{id}\" starts or ends with spaces; remove them"
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(format!(
            "{what} {id:?} contains a control character; remove it"
        ));
    }
    Ok(())
}

/// The message of a TOML (or shape) error, on one line, in words rather than Rust types.
fn toml_problem(error: &toml::de::Error) -> String {
    let message = error
        .message()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("expected u32", "expected a whole number from 0 up")
        .replace("expected i64", "expected a whole number");
    if message.starts_with("missing field") {
        format!("{message}; add it (the format is described in docs/budgets.md)")
    } else {
        message
    }
}

/// Where things were written, for messages (all `None` for a configuration built in code).
#[derive(Debug, Default)]
struct Lines {
    alert_thresholds: Option<u32>,
    user_id: Option<u32>,
    team_id: Option<u32>,
    project_id: Option<u32>,
    budgets: Vec<BudgetLines>,
}

#[derive(Debug, Default, Clone, Copy)]
struct BudgetLines {
    table: Option<u32>,
    id: Option<u32>,
    thresholds: Option<u32>,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    time_zone: Spanned<String>,
    week_start: Option<WeekStart>,
    alert_thresholds: Option<Spanned<Vec<u32>>>,
    auto_approve_below_usd: Option<Spanned<String>>,
    offline_allowance_usd: Option<Spanned<String>>,
    identity: Spanned<RawIdentity>,
    #[serde(default, rename = "budget")]
    budgets: Vec<Spanned<RawBudget>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    user_id: Spanned<String>,
    team_id: Option<Spanned<String>>,
    project_id: Option<Spanned<String>>,
}

#[derive(Deserialize, Default, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Hard,
    Soft,
}

/// One `[[budget]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    scope: ScopeKind,
    id: Spanned<String>,
    window: WindowKind,
    limit_micros: Option<Spanned<i64>>,
    limit_usd: Option<Spanned<toml::Value>>,
    mode: Option<Mode>,
    thresholds: Option<Spanned<Vec<u32>>>,
}

impl RawBudget {
    /// The limit from `limit_micros` or `limit_usd`, or where and why it is wrong (no span:
    /// the table's).
    fn limit(&self) -> Result<Money, (Option<Range<usize>>, String)> {
        match (&self.limit_micros, &self.limit_usd) {
            (None, None) => Err((
                None,
                "this budget has no limit; add limit_usd = \"5.00\" (dollars, as a string) or \
                 limit_micros = 5000000 (micro-dollars)"
                    .into(),
            )),
            (Some(_), Some(usd)) => Err((
                Some(usd.span()),
                "this budget has both limit_micros and limit_usd; keep one".into(),
            )),
            (Some(micros), None) => {
                let value = *micros.get_ref();
                if value < 0 {
                    return Err((
                        Some(micros.span()),
                        format!("limit_micros is {value}; a limit is 0 or more"),
                    ));
                }
                Ok(Money::from_micros(value))
            }
            (None, Some(usd)) => {
                let at = Some(usd.span());
                match usd.get_ref() {
                    toml::Value::String(text) => {
                        parse_usd(text).map_err(|error| (at, format!("limit_usd: {error}")))
                    }
                    toml::Value::Integer(dollars) if *dollars >= 0 => dollars
                        .checked_mul(tokenwise_core::money::MICROS_PER_DOLLAR)
                        .map(Money::from_micros)
                        .ok_or((at, format!("limit_usd = {dollars} is too large"))),
                    toml::Value::Integer(dollars) => {
                        Err((at, format!("limit_usd is {dollars}; a limit is 0 or more")))
                    }
                    toml::Value::Float(dollars) => Err((
                        at,
                        format!(
                            "limit_usd = {dollars:?} is a floating-point number, which may \
                             not be exact; write it as a string: limit_usd = \"{dollars:?}\""
                        ),
                    )),
                    other => Err((
                        at,
                        format!(
                            "limit_usd is a {}; write dollars as a string, e.g. limit_usd = \
                             \"5.00\"",
                            other.type_str()
                        ),
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
