use super::*;

/// The documented example must stay valid.
const EXAMPLE: &str = include_str!("../../budgets.example.toml");

const MINIMAL: &str = r#"time_zone = "Europe/Berlin"

[identity]
user_id = "alice"
"#;

fn parse(text: &str) -> Result<BudgetConfig, QuotaError> {
    BudgetConfig::parse(text, "budgets.toml")
}

/// The message of the error `text` gives.
#[track_caller]
fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

/// MINIMAL plus one budget table with the given body.
fn with_budget(body: &str) -> String {
    format!("{MINIMAL}\n[[budget]]\n{body}\n")
}

#[test]
fn the_example_file_is_valid() {
    let config = BudgetConfig::parse(EXAMPLE, "budgets.example.toml").unwrap();
    assert_eq!(config.time_zone(), "Europe/Berlin");
    assert_eq!(config.week_start(), WeekStart::Monday);
    assert_eq!(config.alert_thresholds(), [50, 80, 100]);
    assert_eq!(config.identity().user_id, "alice");
    assert_eq!(config.identity().team_id.as_deref(), Some("platform"));
    assert!(!config.budgets().is_empty());
    assert_eq!(config.source(), "budgets.example.toml");
}

#[test]
fn defaults_fill_in() {
    let config = parse(&with_budget(
        "scope = \"user\"\nid = \"alice\"\nwindow = \"day\"\nlimit_usd = \"5.00\"",
    ))
    .unwrap();
    assert_eq!(config.week_start(), WeekStart::Monday);
    assert_eq!(config.alert_thresholds(), DEFAULT_THRESHOLDS);
    assert_eq!(config.identity().team_id, None);
    let budget = &config.budgets()[0];
    assert_eq!(
        budget,
        &Budget {
            scope: ScopeKind::User,
            scope_id: "alice".into(),
            window: WindowKind::Day,
            limit: Money::from_micros(5_000_000),
            hard: true,
            thresholds: None,
        }
    );
    assert_eq!(config.thresholds_for(budget), [50, 80, 100]);
    // No budgets at all is a valid file: nothing is limited.
    assert!(parse(MINIMAL).unwrap().budgets().is_empty());
}

#[test]
fn every_key_is_read() {
    let text = r#"
time_zone = "America/New_York"
week_start = "sunday"
alert_thresholds = [100, 25, 75]

[identity]
user_id = "alice"
team_id = "platform"
project_id = "apollo"

[[budget]]
scope = "team"
id = "platform"
window = "week"
limit_micros = 250000000
mode = "soft"
thresholds = [90, 110]

[[budget]]
scope = "project"
id = "zeus"
window = "month"
limit_usd = 12

[[budget]]
scope = "user"
id = "alice"
window = "month"
limit_usd = "0.000001"
mode = "hard"
thresholds = []
"#;
    let config = parse(text).unwrap();
    assert_eq!(config.time_zone(), "America/New_York");
    assert_eq!(config.week_start(), WeekStart::Sunday);
    assert_eq!(config.alert_thresholds(), [25, 75, 100]);
    assert_eq!(config.identity().project_id.as_deref(), Some("apollo"));
    let [team, project, user] = config.budgets() else {
        panic!("three budgets")
    };
    assert_eq!(team.limit, Money::from_micros(250_000_000));
    assert!(!team.hard);
    assert_eq!(team.thresholds.as_deref(), Some(&[90, 110][..]));
    assert_eq!(project.limit, Money::from_dollars(12));
    assert!(project.hard);
    assert_eq!(config.thresholds_for(project), [25, 75, 100]);
    assert_eq!(user.limit, Money::from_micros(1));
    assert_eq!(config.thresholds_for(user), Vec::<u32>::new());
}

#[test]
fn an_unknown_time_zone_names_the_line_and_a_suggestion() {
    let text = MINIMAL.replace("Europe/Berlin", "Europe/Berln");
    assert_eq!(
        error(&text),
        "budgets.toml, line 1: unknown time zone \"Europe/Berln\" (did you mean \
         \"Europe/Berlin\"?); use an IANA time zone name such as \"Europe/Berlin\", \
         \"America/New_York\" or \"UTC\""
    );
    let text = format!(
        "# Budgets\n\n{}",
        MINIMAL.replace("Europe/Berlin", "Mars/Base")
    );
    let message = error(&text);
    assert!(
        message.starts_with("budgets.toml, line 3: unknown time zone \"Mars/Base\"; use"),
        "{message}"
    );
}

#[test]
fn toml_and_shape_errors_name_the_line() {
    // Syntax.
    let message = error("time_zone = \"UTC\"\n[identity\nuser_id = \"a\"\n");
    assert!(message.starts_with("budgets.toml, line 2: "), "{message}");
    // A typo in a key.
    let message = error(&with_budget(
        "scope = \"user\"\nid = \"alice\"\nwindow = \"day\"\nlimt_usd = \"5\"",
    ));
    assert!(
        message.starts_with("budgets.toml, line 10: unknown field `limt_usd`"),
        "{message}"
    );
    // A value outside an enumeration.
    let message = error(&format!("week_start = \"mondy\"\n{MINIMAL}"));
    assert!(message.starts_with("budgets.toml, line 1: "), "{message}");
    assert!(
        message.contains("mondy") && message.contains("monday"),
        "{message}"
    );
    let message = error(&with_budget(
        "scope = \"org\"\nid = \"alice\"\nwindow = \"day\"\nlimit_usd = \"5\"",
    ));
    assert!(message.starts_with("budgets.toml, line 7: "), "{message}");
    assert!(message.contains("org"), "{message}");
    assert_eq!(
        error(&format!("alert_thresholds = [50, -80]\n{MINIMAL}")),
        "budgets.toml, line 1: invalid value: integer `-80`, expected a whole number from 0 up"
    );
    assert_eq!(
        error(&with_budget(
            "scope = \"user\"\nid = \"alice\"\nwindow = \"day\"\nlimit_micros = 1.5",
        )),
        "budgets.toml, line 10: invalid type: floating point `1.5`, expected a whole number"
    );
    // Missing pieces: at the top level for the whole file, in a table at the table.
    assert_eq!(
        error("time_zone = \"UTC\"\n"),
        "budgets.toml: missing field `identity`; add it (the format is described in \
         docs/budgets.md)"
    );
    let message = error("[identity]\nuser_id = \"alice\"\n");
    assert!(
        message.starts_with("budgets.toml: missing field `time_zone`"),
        "{message}"
    );
    let message = error(&with_budget(
        "scope = \"user\"\nid = \"alice\"\nlimit_usd = \"5\"",
    ));
    assert!(
        message.starts_with("budgets.toml, line 6: missing field `window`"),
        "{message}"
    );
}

#[test]
fn limits_are_checked_where_they_are_written() {
    let budget = |limit: &str| {
        with_budget(&format!(
            "scope = \"user\"\nid = \"alice\"\nwindow = \"day\"\n{limit}"
        ))
    };
    // The [[budget]] header is line 6; the limit line 10.
    assert_eq!(
        error(&budget("mode = \"soft\"")),
        "budgets.toml, line 6: this budget has no limit; add limit_usd = \"5.00\" (dollars, \
         as a string) or limit_micros = 5000000 (micro-dollars)"
    );
    assert_eq!(
        error(&budget("limit_micros = 1\nlimit_usd = \"1\"")),
        "budgets.toml, line 11: this budget has both limit_micros and limit_usd; keep one"
    );
    assert_eq!(
        error(&budget("limit_micros = -1")),
        "budgets.toml, line 10: limit_micros is -1; a limit is 0 or more"
    );
    assert_eq!(
        error(&budget("limit_usd = 5.5")),
        "budgets.toml, line 10: limit_usd = 5.5 is a floating-point number, which may not be \
         exact; write it as a string: limit_usd = \"5.5\""
    );
    assert_eq!(
        error(&budget("limit_usd = 5.0")),
        "budgets.toml, line 10: limit_usd = 5.0 is a floating-point number, which may not be \
         exact; write it as a string: limit_usd = \"5.0\""
    );
    assert_eq!(
        error(&budget("limit_usd = \"5,00\"")),
        "budgets.toml, line 10: limit_usd: \"5,00\" is not a valid dollar amount: write digits \
         with an optional decimal point, e.g. \"5.00\" or \"0.25\" (no sign, exponent, \
         separators or currency symbol)"
    );
    assert_eq!(
        error(&budget("limit_usd = \"0.0000001\"")),
        "budgets.toml, line 10: limit_usd: \"0.0000001\" is not a valid dollar amount: it has \
         more than 6 decimal places; the smallest unit is one micro-dollar (0.000001)"
    );
    assert_eq!(
        error(&budget("limit_usd = -3")),
        "budgets.toml, line 10: limit_usd is -3; a limit is 0 or more"
    );
    assert_eq!(
        error(&budget("limit_usd = 9223372036855")),
        "budgets.toml, line 10: limit_usd = 9223372036855 is too large"
    );
    assert_eq!(
        error(&budget("limit_usd = true")),
        "budgets.toml, line 10: limit_usd is a boolean; write dollars as a string, e.g. \
         limit_usd = \"5.00\""
    );
    // Zero is a valid limit: no cloud spend in that window.
    let config = parse(&budget("limit_usd = \"0\"")).unwrap();
    assert_eq!(config.budgets()[0].limit, Money::ZERO);
}

#[test]
fn thresholds_are_checked() {
    assert_eq!(
        error(&format!("alert_thresholds = [50, 0]\n{MINIMAL}")),
        "budgets.toml, line 1: alert_thresholds: 0 % is out of range; thresholds are whole \
         percents from 1 to 1000"
    );
    assert_eq!(
        error(&format!("alert_thresholds = [80, 50, 80]\n{MINIMAL}")),
        "budgets.toml, line 1: alert_thresholds: 80 % is listed twice; list each threshold once"
    );
    let text = with_budget(
        "scope = \"user\"\nid = \"alice\"\nwindow = \"day\"\nlimit_usd = \"1\"\nthresholds = [1001]",
    );
    assert_eq!(
        error(&text),
        "budgets.toml, line 11: thresholds: 1001 % is out of range; thresholds are whole \
         percents from 1 to 1000"
    );
}

#[test]
fn budgets_must_belong_to_the_identity() {
    let user = with_budget("scope = \"user\"\nid = \"alcie\"\nwindow = \"day\"\nlimit_usd = \"1\"");
    assert_eq!(
        error(&user),
        "budgets.toml, line 8: a user budget for \"alcie\", but this file's identity is user \
         \"alice\"; a budget file holds one employee's budgets: fix the budget's id or \
         identity.user_id"
    );
    let team =
        with_budget("scope = \"team\"\nid = \"platform\"\nwindow = \"week\"\nlimit_usd = \"1\"");
    assert_eq!(
        error(&team),
        "budgets.toml, line 8: a team budget for \"platform\", but [identity] has no team_id; \
         add team_id = \"platform\" to [identity] or remove the budget"
    );
    let other_team = team.replace(
        "user_id = \"alice\"",
        "user_id = \"alice\"\nteam_id = \"sales\"",
    );
    assert_eq!(
        error(&other_team),
        "budgets.toml, line 9: a team budget for \"platform\", but this file's identity is in \
         team \"sales\"; fix the budget's id or identity.team_id"
    );
    // Any project may have a budget.
    let project =
        with_budget("scope = \"project\"\nid = \"zeus\"\nwindow = \"month\"\nlimit_usd = \"1\"");
    assert_eq!(parse(&project).unwrap().budgets()[0].scope_id, "zeus");
}

#[test]
fn one_budget_per_scope_and_window() {
    let text = format!(
        "{MINIMAL}\n[[budget]]\nscope = \"user\"\nid = \"alice\"\nwindow = \"day\"\n\
         limit_usd = \"1\"\n\n[[budget]]\nscope = \"user\"\nid = \"alice\"\nwindow = \"week\"\n\
         limit_usd = \"5\"\n\n[[budget]]\nscope = \"user\"\nid = \"alice\"\nwindow = \"day\"\n\
         limit_usd = \"2\"\n"
    );
    assert_eq!(
        error(&text),
        "budgets.toml, line 18: a second day budget for user \"alice\" (the first is on line \
         6); keep one"
    );
}

#[test]
fn ids_are_checked() {
    assert_eq!(
        error(&MINIMAL.replace("\"alice\"", "\" alice\"")),
        "budgets.toml, line 4: identity.user_id \" alice\" starts or ends with spaces; remove them"
    );
    assert_eq!(
        error(&MINIMAL.replace("\"alice\"", "\"   \"")),
        "budgets.toml, line 4: identity.user_id is empty; give the id the quota server uses"
    );
    let long = "x".repeat(MAX_ID_CHARS + 1);
    assert!(error(&MINIMAL.replace("alice", &long)).contains("129 characters long"));
    assert!(error(&MINIMAL.replace("alice", "al\\u0007ice")).contains("control character"));
    let text = MINIMAL.replace(
        "user_id = \"alice\"",
        "user_id = \"alice\"\nproject_id = \"\"",
    );
    assert_eq!(
        error(&text),
        "budgets.toml, line 5: identity.project_id is empty; give the id the quota server uses"
    );
}

#[test]
fn configurations_built_in_code_follow_the_same_rules() {
    let identity = Identity {
        user_id: "alice".into(),
        team_id: None,
        project_id: None,
    };
    let budget = Budget {
        scope: ScopeKind::User,
        scope_id: "alice".into(),
        window: WindowKind::Month,
        limit: Money::from_dollars(40),
        hard: true,
        thresholds: Some(vec![90, 50]),
    };
    let config = BudgetConfig::new(
        "quota server",
        Calendar::new("Europe/Berlin", WeekStart::Monday).unwrap(),
        vec![100, 50],
        identity.clone(),
        vec![budget.clone()],
    )
    .unwrap();
    assert_eq!(config.alert_thresholds(), [50, 100]);
    assert_eq!(
        config.budgets()[0].thresholds.as_deref(),
        Some(&[50, 90][..])
    );

    let negative = Budget {
        limit: Money::from_micros(-1),
        ..budget.clone()
    };
    let error = BudgetConfig::new(
        "quota server",
        Calendar::utc(),
        vec![],
        identity.clone(),
        vec![negative],
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "quota server: the month budget of user \"alice\" has a negative limit (-1 \
         micro-dollars); a limit is 0 or more"
    );
    assert_eq!(error.line(), None);
    let twice = BudgetConfig::new(
        "quota server",
        Calendar::utc(),
        vec![],
        identity,
        vec![budget.clone(), budget],
    )
    .unwrap_err();
    assert_eq!(
        twice.to_string(),
        "quota server: a second month budget for user \"alice\"; keep one"
    );
}

#[test]
fn auto_approve_is_optional_and_checked() {
    assert_eq!(parse(MINIMAL).unwrap().auto_approve_below(), None);
    let text = MINIMAL.replacen(
        "[identity]",
        "auto_approve_below_usd = \"0.01\"\n\n[identity]",
        1,
    );
    assert_eq!(
        parse(&text).unwrap().auto_approve_below(),
        Some(Money::from_micros(10_000))
    );
    let message = error(&MINIMAL.replacen(
        "[identity]",
        "auto_approve_below_usd = \"-1\"\n\n[identity]",
        1,
    ));
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("auto_approve_below_usd"), "{message}");
}

#[test]
fn offline_allowance_is_optional_and_checked() {
    assert_eq!(parse(MINIMAL).unwrap().offline_allowance(), None);
    let text = MINIMAL.replacen(
        "[identity]",
        "offline_allowance_usd = \"0.50\"\n\n[identity]",
        1,
    );
    assert_eq!(
        parse(&text).unwrap().offline_allowance(),
        Some(Money::from_micros(500_000))
    );
    for bad in ["\"lots\"", "\"-0.10\""] {
        let message = error(&MINIMAL.replacen(
            "[identity]",
            &format!("offline_allowance_usd = {bad}\n\n[identity]"),
            1,
        ));
        assert!(message.contains("line 3"), "{bad}: {message}");
        assert!(
            message.contains("offline_allowance_usd"),
            "{bad}: {message}"
        );
    }
    // A number instead of a decimal string is refused too (no float money).
    let message =
        error(&MINIMAL.replacen("[identity]", "offline_allowance_usd = 0.5\n\n[identity]", 1));
    assert!(message.contains("line 3"), "{message}");
}
