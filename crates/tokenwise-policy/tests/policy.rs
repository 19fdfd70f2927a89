//! Policy folders on disk: precedence, drop-in order, ceilings, locks, broken files.

use std::path::Path;

use tokenwise_core::Money;
use tokenwise_policy::{
    read_effective, schema_json, EffectivePolicy, Level, Policy, PolicyDirs, PolicySources,
};

fn effective_of(dirs: &PolicyDirs) -> EffectivePolicy {
    read_effective(&PolicySources::Folders(dirs.clone()))
}

fn new_dirs() -> (tempfile::TempDir, PolicyDirs) {
    let root = tempfile::tempdir().unwrap();
    let dirs = PolicyDirs {
        root: root.path().to_path_buf(),
    };
    (root, dirs)
}

fn write(dirs: &PolicyDirs, level: Level, name: &str, text: &str) {
    let dir = dirs.dir(level);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn managed_beats_recommended_and_a_later_file_beats_an_earlier_one() {
    let (_root, dirs) = new_dirs();
    write(
        &dirs,
        Level::Recommended,
        "10.json",
        r#"{"cloud_enabled": true, "history_retention_days": 30, "allowed_tiers": ["local"]}"#,
    );
    write(
        &dirs,
        Level::Managed,
        "10-company.json",
        r#"{"cloud_enabled": true, "allowed_tiers": ["local", "mid", "frontier"]}"#,
    );
    write(
        &dirs,
        Level::Managed,
        "50-interns.json",
        r#"{"allowed_tiers": ["local", "mid"]}"#,
    );
    // Not JSON by name: ignored, like a README or an editor's backup.
    write(&dirs, Level::Managed, "README", "not policy");
    write(&dirs, Level::Managed, "60.json~", "{");

    let effective = effective_of(&dirs);
    assert!(effective.problems.is_empty(), "{:?}", effective.problems);
    let tiers = effective.setting("allowed_tiers").unwrap();
    assert!(tiers.locked);
    assert!(tiers.location.ends_with("50-interns.json"), "{tiers:?}");
    assert_eq!(
        effective.allowed_tiers().unwrap(),
        ["local".to_string(), "mid".to_string()]
    );
    let days = effective.setting("history_retention_days").unwrap();
    assert_eq!((days.level, days.locked), (Level::Recommended, false));
    assert_eq!(effective.policy.history_retention_days, Some(30));
    assert_eq!(effective.cloud_blocked(), None);
}

#[test]
fn a_recommended_tier_list_does_not_restrict() {
    let (_root, dirs) = new_dirs();
    write(
        &dirs,
        Level::Recommended,
        "a.json",
        r#"{"allowed_tiers": ["local"]}"#,
    );
    assert_eq!(effective_of(&dirs).allowed_tiers(), None);
}

#[test]
fn cost_settings_are_ceilings_under_managed_and_defaults_under_recommended() {
    let cents = Money::from_micros;
    let (_root, dirs) = new_dirs();
    write(
        &dirs,
        Level::Managed,
        "a.json",
        r#"{"auto_approve_below_usd": "0.05"}"#,
    );
    write(
        &dirs,
        Level::Recommended,
        "a.json",
        r#"{"offline_allowance_usd": "0.50"}"#,
    );
    let effective = effective_of(&dirs);
    let own_higher = effective.cost_setting("auto_approve_below_usd", Some(cents(200_000)));
    assert_eq!(
        own_higher,
        Some(cents(50_000)),
        "never looser than the policy"
    );
    let own_lower = effective.cost_setting("auto_approve_below_usd", Some(cents(10_000)));
    assert_eq!(
        own_lower,
        Some(cents(10_000)),
        "stricter is the user's right"
    );
    assert_eq!(
        effective.cost_setting("auto_approve_below_usd", None),
        Some(cents(50_000))
    );
    // Recommended: the user's own value wins either way; the suggestion fills in.
    assert_eq!(
        effective.cost_setting("offline_allowance_usd", Some(cents(900_000))),
        Some(cents(900_000))
    );
    assert_eq!(
        effective.cost_setting("offline_allowance_usd", None),
        Some(cents(500_000))
    );
    assert_eq!(effective.cost_setting("max_request_usd", None), None);
}

#[test]
fn a_broken_managed_file_is_named_with_line_and_column_and_closes_the_cloud() {
    let cases: [(&str, &str, usize); 6] = [
        ("syntax", "{\n  \"cloud_enabled\": true,\n  oops\n}", 3),
        ("unknown key", "{\n  \"cloud_enabeld\": true\n}", 2),
        ("wrong type", "{\n\n  \"cloud_enabled\": \"yes\"\n}", 3),
        ("bad money", "{\n  \"max_request_usd\": \"a lot\"\n}", 2),
        ("float money", "{\n  \"max_request_usd\": 0.5\n}", 2),
        (
            "insecure url",
            "{\"cloud_enabled\": true,\n \"quota_server_url\": \"http://quota.example.com\"}",
            2,
        ),
    ];
    for (what, text, line) in cases {
        let (_root, dirs) = new_dirs();
        write(
            &dirs,
            Level::Managed,
            "10-good.json",
            r#"{"history_enabled": true}"#,
        );
        write(&dirs, Level::Managed, "20-broken.json", text);
        let effective = effective_of(&dirs);
        let [problem] = effective.problems.as_slice() else {
            panic!("{what}: {:?}", effective.problems)
        };
        assert!(
            problem.location.ends_with("20-broken.json"),
            "{what}: {problem}"
        );
        assert_eq!(problem.line, line, "{what}: {problem}");
        assert!(problem.column > 0, "{what}: {problem}");
        let blocked = effective.cloud_blocked().expect(what);
        assert!(blocked.contains("20-broken.json"), "{what}: {blocked}");
        // The good file still applies.
        assert_eq!(effective.policy.history_enabled, Some(true), "{what}");
    }
}

#[test]
fn files_that_are_not_policy_text_are_problems_not_crashes() {
    let (_root, dirs) = new_dirs();
    let managed = dirs.dir(Level::Managed);
    std::fs::create_dir_all(managed.join("folder.json")).unwrap();
    std::fs::write(managed.join("binary.json"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
    std::fs::write(managed.join("empty.json"), "").unwrap();
    std::fs::write(managed.join("array.json"), "[1, 2]").unwrap();
    std::fs::write(
        managed.join("huge.json"),
        vec![b' '; tokenwise_policy::sources::MAX_POLICY_BYTES as usize + 1],
    )
    .unwrap();
    let effective = effective_of(&dirs);
    assert_eq!(effective.problems.len(), 5, "{:?}", effective.problems);
    assert!(effective.cloud_blocked().is_some());
    // A broken recommended file is reported but opens or closes nothing.
    let (_root, dirs) = new_dirs();
    write(&dirs, Level::Recommended, "x.json", "{");
    let effective = effective_of(&dirs);
    assert_eq!(effective.problems.len(), 1);
    assert_eq!(effective.cloud_blocked(), None);
}

#[test]
fn no_folders_no_policy_and_cloud_off_says_where() {
    let (_root, dirs) = new_dirs();
    let effective = effective_of(&dirs);
    assert_eq!(effective.policy, Policy::default());
    assert_eq!(effective.cloud_blocked(), None);
    write(
        &dirs,
        Level::Managed,
        "off.json",
        r#"{"cloud_enabled": false}"#,
    );
    let blocked = effective_of(&dirs).cloud_blocked().unwrap();
    assert!(blocked.contains("off.json"), "{blocked}");
    // Recommended "off" is only a suggestion.
    let (_root2, suggested) = new_dirs();
    write(
        &suggested,
        Level::Recommended,
        "off.json",
        r#"{"cloud_enabled": false}"#,
    );
    assert_eq!(effective_of(&suggested).cloud_blocked(), None);
}

#[test]
fn the_schema_describes_every_key_and_the_checked_in_copy_is_current() {
    let schema: serde_json::Value = serde_json::from_str(&schema_json()).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    let every_key = serde_json::to_value(Policy {
        cloud_enabled: Some(true),
        allowed_tiers: Some(vec![]),
        allowed_providers: Some(vec![]),
        provider_base_urls: Some(Default::default()),
        auto_approve_below_usd: Some(String::new()),
        max_request_usd: Some(String::new()),
        quota_server_url: Some(String::new()),
        sync_interval_seconds: Some(60),
        offline_allowance_usd: Some(String::new()),
        local_models_allowed: Some(vec![]),
        model_catalog_file: Some(String::new()),
        learn_from_choices: Some(true),
        quick_summarize_enabled: Some(true),
        quick_summarize_shortcut: Some(String::new()),
        history_enabled: Some(true),
        history_retention_days: Some(1),
    })
    .unwrap();
    for key in every_key.as_object().unwrap().keys() {
        let description = properties[key]["description"].as_str().unwrap_or("");
        assert!(description.len() > 20, "{key} has no description");
    }
    assert_eq!(schema["additionalProperties"], false);
    let checked_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy.schema.json");
    let on_disk = std::fs::read_to_string(&checked_in).unwrap_or_default();
    if on_disk.trim() != schema_json().trim() {
        std::fs::write(&checked_in, schema_json() + "\n").unwrap();
        panic!("docs/policy.schema.json was stale and has been rewritten: commit it");
    }
}
