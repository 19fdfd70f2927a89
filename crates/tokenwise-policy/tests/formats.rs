//! The macOS and Windows policy formats, on fixtures: plists and configuration profiles,
//! registry value tables and `.reg` files, the generated ADMX/ADML templates, and the
//! examples in `docs/examples/` that docs/it-admin.md tells IT to start from.

use std::path::{Path, PathBuf};

use serde_json::json;
use tokenwise_policy::macos::{self, ManagedPreferences};
use tokenwise_policy::windows::{self, RegData, RegKeyValues};
use tokenwise_policy::{admx, read_any_file, EffectivePolicy, Level, PolicySources};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// What the examples set, as JSON.
fn example_values() -> serde_json::Value {
    json!({
        "cloud_enabled": true,
        "allowed_tiers": ["local", "mid"],
        "provider_base_urls": {"openai": "https://llm-gateway.example.com/v1"},
        "auto_approve_below_usd": "0.05",
        "max_request_usd": "0.50",
        "quota_server_url": "https://quota.example.com",
        "sync_interval_seconds": 300,
        "history_retention_days": 90,
    })
}

fn merged_values(path: &Path) -> (serde_json::Value, EffectivePolicy) {
    let (layers, problems) = read_any_file(path);
    assert!(problems.is_empty(), "{}: {problems:?}", path.display());
    let effective = EffectivePolicy::merge(&layers, problems);
    (serde_json::to_value(&effective.policy).unwrap(), effective)
}

#[test]
fn every_example_file_sets_the_same_policy() {
    for example in [
        "docs/examples/10-company.json",
        "docs/examples/tokenwise.mobileconfig",
        "docs/examples/tokenwise.reg",
    ] {
        let (values, effective) = merged_values(&repo(example));
        assert_eq!(values, example_values(), "{example}");
        let days = effective.setting("history_retention_days").unwrap();
        if example.ends_with(".reg") {
            // The .reg puts retention under Recommended: a suggestion, not a lock.
            assert_eq!((days.level, days.locked), (Level::Recommended, false));
            assert!(days.location.contains(r"Tokenwise\Recommended"), "{days:?}");
        } else {
            assert!(days.locked, "{example}");
        }
    }
}

const XML_PLIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>cloud_enabled</key><false/>
  <key>allowed_providers</key><array><string>gateway</string></array>
  <key>sync_interval_seconds</key><integer>60</integer>
  <key>PayloadUUID</key><string>ignored</string>
</dict></plist>"#;

#[test]
fn managed_preferences_in_xml_and_binary_plists_map_to_the_policy() {
    let layer = macos::policy_from_plist(Level::Managed, "x.plist", XML_PLIST.as_bytes()).unwrap();
    assert_eq!(
        serde_json::to_value(&layer.policy).unwrap(),
        json!({"cloud_enabled": false, "allowed_providers": ["gateway"], "sync_interval_seconds": 60})
    );
    // The binary form macOS itself writes to /Library/Managed Preferences.
    let value = plist::Value::from_reader(std::io::Cursor::new(XML_PLIST.as_bytes())).unwrap();
    let mut binary = Vec::new();
    value.to_writer_binary(&mut binary).unwrap();
    assert!(binary.starts_with(b"bplist00"));
    let from_binary = macos::policy_from_plist(Level::Managed, "b.plist", &binary).unwrap();
    assert_eq!(from_binary.policy, layer.policy);
}

#[test]
fn broken_plists_are_problems_that_name_the_key() {
    let wrap = |body: &str| format!("<?xml version=\"1.0\"?><plist version=\"1.0\">{body}</plist>");
    let cases = [
        (
            "not a plist",
            "{\"cloud_enabled\": true}".to_string(),
            "property list",
        ),
        (
            "cut off",
            wrap("<dict><key>cloud_enabled</key>"),
            "property list",
        ),
        ("array on top", wrap("<array/>"), "<dict>"),
        (
            "a date",
            wrap("<dict><key>max_request_usd</key><date>2026-01-01T00:00:00Z</date></dict>"),
            "max_request_usd",
        ),
        (
            "unknown key",
            wrap("<dict><key>cloud_enabeld</key><true/></dict>"),
            "cloud_enabeld",
        ),
        (
            "wrong type",
            wrap("<dict><key>cloud_enabled</key><string>yes</string></dict>"),
            "invalid type",
        ),
        (
            "float money",
            wrap("<dict><key>max_request_usd</key><real>0.5</real></dict>"),
            "invalid type",
        ),
        (
            "bad value",
            wrap("<dict><key>sync_interval_seconds</key><integer>5</integer></dict>"),
            "sync_interval_seconds",
        ),
        (
            "negative",
            wrap("<dict><key>history_retention_days</key><integer>-3</integer></dict>"),
            "history_retention_days",
        ),
    ];
    for (what, text, needle) in cases {
        let problem =
            macos::policy_from_plist(Level::Managed, "p.plist", text.as_bytes()).expect_err(what);
        assert!(problem.message.contains(needle), "{what}: {problem}");
        assert_eq!(problem.location, "p.plist", "{what}");
    }
}

#[test]
fn the_machine_profile_beats_the_users_and_a_broken_one_closes_the_cloud() {
    let root = tempfile::tempdir().unwrap();
    let file = format!("{}.plist", macos::BUNDLE_ID);
    std::fs::create_dir_all(root.path().join("alice")).unwrap();
    let plist = |body: &str| {
        format!("<?xml version=\"1.0\"?><plist version=\"1.0\"><dict>{body}</dict></plist>")
    };
    std::fs::write(
        root.path().join("alice").join(&file),
        plist("<key>max_request_usd</key><string>2.00</string><key>history_enabled</key><false/>"),
    )
    .unwrap();
    std::fs::write(
        root.path().join(&file),
        plist("<key>max_request_usd</key><string>0.25</string>"),
    )
    .unwrap();
    let sources = PolicySources::ManagedPreferences(ManagedPreferences {
        root: root.path().to_path_buf(),
        user: Some("alice".into()),
    });
    let effective = tokenwise_policy::read_effective(&sources);
    assert!(effective.problems.is_empty(), "{:?}", effective.problems);
    assert_eq!(effective.policy.max_request_usd.as_deref(), Some("0.25"));
    assert_eq!(effective.policy.history_enabled, Some(false));
    let max = effective.setting("max_request_usd").unwrap();
    assert!(max.locked && !max.location.contains("alice"), "{max:?}");
    assert!(sources.describe().contains(macos::BUNDLE_ID));

    // Another user's folder is not read; a path in the user name reads nothing else.
    let other = PolicySources::ManagedPreferences(ManagedPreferences {
        root: root.path().to_path_buf(),
        user: Some("../alice".into()),
    });
    assert_eq!(
        tokenwise_policy::read_effective(&other)
            .policy
            .history_enabled,
        None
    );

    std::fs::write(root.path().join(&file), "garbage").unwrap();
    let broken = tokenwise_policy::read_effective(&sources);
    assert_eq!(broken.problems.len(), 1);
    assert!(broken.cloud_blocked().unwrap().contains(&file));
    // The user's own file still applies.
    assert_eq!(broken.policy.history_enabled, Some(false));
}

#[test]
fn profiles_that_cannot_be_used_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let signed = write("signed.mobileconfig", &[0x30, 0x82, 0x01, 0x00, 0x06]);
    let other_app = write(
        "other.mobileconfig",
        br#"<?xml version="1.0"?><plist version="1.0"><dict><key>PayloadContent</key><array><dict><key>PayloadType</key><string>com.google.Chrome</string></dict></array></dict></plist>"#,
    );
    let bad_key = write(
        "bad.mobileconfig",
        br#"<?xml version="1.0"?><plist version="1.0"><dict><key>PayloadContent</key><array><dict><key>PayloadType</key><string>com.tokenwise.desktop</string><key>allowed_tiers</key><string>mid</string></dict></array></dict></plist>"#,
    );
    for (path, needle) in [
        (signed, "signed"),
        (other_app, "com.tokenwise.desktop"),
        (bad_key, "payload 1"),
    ] {
        let (layers, problems) = read_any_file(&path);
        assert!(layers.is_empty(), "{}", path.display());
        let text = problems.iter().map(ToString::to_string).collect::<String>();
        assert!(text.contains(needle), "{}: {text}", path.display());
    }
    let (_, problems) = read_any_file(&write("policy.yaml", b"cloud_enabled: true"));
    assert!(problems[0]
        .message
        .contains(".json, .plist, .mobileconfig or .reg"));
}

fn values(path: &str, values: Vec<(&str, RegData)>) -> RegKeyValues {
    RegKeyValues {
        path: path.into(),
        values: values
            .into_iter()
            .map(|(n, d)| (n.to_string(), d))
            .collect(),
    }
}

#[test]
fn registry_values_map_to_the_policy() {
    let keys = [
        values(
            "",
            vec![
                ("", RegData::Sz("default value, ignored".into())),
                ("cloud_enabled", RegData::Dword(1)),
                ("max_request_usd", RegData::Sz("1.00".into())),
                (
                    "allowed_providers",
                    RegData::MultiSz(vec!["gw".into(), "anthropic".into()]),
                ),
            ],
        ),
        // Numbered as a list policy writes them; 10 comes after 2.
        values(
            "allowed_tiers",
            vec![
                ("10", RegData::Sz("frontier".into())),
                ("1", RegData::Sz("local".into())),
                ("2", RegData::Sz("mid".into())),
            ],
        ),
        values(
            "provider_base_urls",
            vec![("gw", RegData::Sz("https://gw.example.com/v1".into()))],
        ),
    ];
    let layer = windows::policy_from_registry(Level::Managed, r"HKLM\x", &keys).unwrap();
    assert_eq!(
        serde_json::to_value(&layer.policy).unwrap(),
        json!({
            "cloud_enabled": true,
            "max_request_usd": "1.00",
            "allowed_providers": ["gw", "anthropic"],
            "allowed_tiers": ["local", "mid", "frontier"],
            "provider_base_urls": {"gw": "https://gw.example.com/v1"},
        })
    );
}

#[test]
fn wrong_registry_values_name_the_value() {
    let cases = [
        (
            values("", vec![("cloud_enabled", RegData::Dword(2))]),
            "cloud_enabled",
        ),
        (
            values("", vec![("cloud_enabled", RegData::Sz("1".into()))]),
            "REG_DWORD",
        ),
        (
            values("", vec![("max_request_usd", RegData::Dword(1))]),
            "REG_SZ",
        ),
        (
            values(
                "",
                vec![("sync_interval_seconds", RegData::Sz("60".into()))],
            ),
            "REG_DWORD",
        ),
        (
            values("", vec![("sync_interval_seconds", RegData::Dword(1))]),
            "15 to 3600",
        ),
        (
            values("", vec![("cloud_enabeld", RegData::Dword(1))]),
            "cloud_enabeld",
        ),
        (
            values("", vec![("provider_base_urls", RegData::Sz("x".into()))]),
            "subkey",
        ),
        (
            values(
                "",
                vec![("max_request_usd", RegData::Other("REG_BINARY".into()))],
            ),
            "REG_SZ",
        ),
        (
            values("allowed_tiers", vec![("first", RegData::Sz("mid".into()))]),
            "1, 2, 3",
        ),
        (
            values("allowed_tiers", vec![("1", RegData::Dword(1))]),
            r"allowed_tiers\1",
        ),
        (values("cloud_enabled", vec![]), "not a subkey"),
        (values("Other", vec![]), "Other"),
        (
            values(
                "provider_base_urls",
                vec![("x", RegData::Sz("http://evil.example.com".into()))],
            ),
            "unencrypted",
        ),
    ];
    for (keys, needle) in cases {
        let problem =
            windows::policy_from_registry(Level::Managed, r"HKLM\P", std::slice::from_ref(&keys))
                .expect_err(needle);
        assert!(problem.message.contains(needle), "{keys:?}: {problem}");
        assert_eq!(problem.location, r"HKLM\P");
    }
}

#[test]
fn reg_files_in_utf16_from_regedit_read_like_utf8_and_the_machine_wins() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_CURRENT_USER\\SOFTWARE\\Policies\\Tokenwise]\r\n\
        \"max_request_usd\"=\"5.00\"\r\n\"history_enabled\"=dword:00000000\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Tokenwise]\r\n\
        \"max_request_usd\"=\"0.10\"\r\n\
        \"allowed_tiers\"=hex(7):6c,00,6f,00,63,00,61,00,6c,00,00,00,6d,00,69,00,\\\r\n  64,00,00,00,00,00\r\n";
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("a.reg", text.as_bytes().to_vec()), ("b.reg", utf16)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (values, effective) = merged_values(&path);
        assert_eq!(
            values,
            json!({"max_request_usd": "0.10", "history_enabled": false, "allowed_tiers": ["local", "mid"]}),
            "{name}"
        );
        assert!(effective
            .setting("max_request_usd")
            .unwrap()
            .location
            .contains("HKLM"));
        assert!(effective
            .setting("history_enabled")
            .unwrap()
            .location
            .contains("HKCU"));
    }
}

#[test]
fn broken_reg_files_name_the_line_and_column() {
    let header = "Windows Registry Editor Version 5.00\n";
    let key = "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Tokenwise]\n";
    let cases: Vec<(String, usize, &str)> = vec![
        ("REGEDIT5\n".into(), 1, "starts with"),
        (
            format!("{header}\"cloud_enabled\"=dword:1\n"),
            2,
            "before any [key]",
        ),
        (
            format!("{header}{key}\"cloud_enabled\"=dword:zz\n"),
            3,
            "hexadecimal",
        ),
        (
            format!("{header}{key}\"max_request_usd\"=\"0.5\n"),
            3,
            "closing quote",
        ),
        (
            format!("{header}{key}cloud_enabled=dword:1\n"),
            3,
            "\"name\"=data",
        ),
        (format!("{header}{key}\"cloud_enabled\"=-\n"), 3, "deleting"),
        (
            format!("{header}[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Tokenwise]\n"),
            2,
            "deleting",
        ),
        (
            format!("{header}[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Tokenwise\n"),
            2,
            "ends with ]",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (index, (text, line, needle)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("{index}.reg"));
        std::fs::write(&path, &text).unwrap();
        let (layers, problems) = read_any_file(&path);
        assert!(layers.is_empty(), "{text}");
        let [problem] = problems.as_slice() else {
            panic!("{text}: {problems:?}")
        };
        assert_eq!(problem.line, line, "{text}: {problem}");
        assert!(problem.column >= 1, "{text}: {problem}");
        assert!(problem.message.contains(needle), "{text}: {problem}");
    }
    // A .reg that touches other keys is refused: importing it would change more than policy.
    let path = dir.path().join("other.reg");
    std::fs::write(
        &path,
        format!("{header}[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows]\n\"x\"=dword:1\n"),
    )
    .unwrap();
    let (_, problems) = read_any_file(&path);
    assert!(problems[0].message.contains("not under"), "{problems:?}");
    // Not text at all.
    std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    assert!(read_any_file(&path).1[0].message.contains("not text"));
}

/// Every `<policy>` of the ADMX as Group Policy would write it with a sample value, read back
/// by the registry reader: the templates and the reader agree on every key.
#[test]
fn the_admx_writes_what_the_registry_reader_reads() {
    use quick_xml::events::Event;

    let text = admx::admx();
    let mut reader = quick_xml::Reader::from_str(&text);
    let attr = |e: &quick_xml::events::BytesStart, name: &str| {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.value.to_string())
    };
    // (policy name, key, valueName, [(element kind, element key or valueName)])
    type AdmxPolicy = (String, String, Option<String>, Vec<(String, String)>);
    let mut policies: Vec<AdmxPolicy> = Vec::new();
    loop {
        match reader.read_event().expect("the ADMX is well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let tag = e.name().as_ref().to_string();
                if tag == "policy" {
                    policies.push((
                        attr(&e, "name").unwrap(),
                        attr(&e, "key").unwrap(),
                        attr(&e, "valueName"),
                        Vec::new(),
                    ));
                } else if matches!(tag.as_str(), "decimal" | "text" | "list")
                    && attr(&e, "id").is_some()
                {
                    let target = attr(&e, "key").or_else(|| attr(&e, "valueName")).unwrap();
                    policies.last_mut().unwrap().3.push((tag, target));
                }
            }
            _ => {}
        }
    }
    assert_eq!(policies.len(), 2 * tokenwise_policy::keys::keys().len());
    for recommended in [false, true] {
        let mut keys: Vec<RegKeyValues> = vec![values("", vec![])];
        let base = if recommended {
            r"Software\Policies\Tokenwise\Recommended"
        } else {
            r"Software\Policies\Tokenwise"
        };
        for (name, key, value_name, elements) in policies
            .iter()
            .filter(|p| p.0.ends_with("_recommended") == recommended)
        {
            assert_eq!(key, base, "{name}");
            if let Some(value_name) = value_name {
                keys[0].values.push((value_name.clone(), RegData::Dword(1)));
            }
            for (kind, target) in elements {
                let sample = match (name.trim_end_matches("_recommended"), kind.as_str()) {
                    ("sync_interval_seconds", _) => RegData::Dword(120),
                    ("history_retention_days", _) => RegData::Dword(30),
                    ("quota_server_url", _) => RegData::Sz("https://q.example.com".into()),
                    (_, "text") => RegData::Sz("0.25".into()),
                    _ => RegData::Sz("https://gw.example.com".into()),
                };
                if kind == "list" {
                    let sub = target.strip_prefix(&format!(r"{base}\")).expect(target);
                    let entry = if sub == "provider_base_urls" {
                        "gw"
                    } else {
                        "1"
                    };
                    keys.push(values(sub, vec![(entry, sample)]));
                } else {
                    keys[0].values.push((target.clone(), sample));
                }
            }
        }
        let level = if recommended {
            Level::Recommended
        } else {
            Level::Managed
        };
        let layer = windows::policy_from_registry(level, "gpo", &keys).unwrap();
        let set = serde_json::to_value(&layer.policy).unwrap();
        assert_eq!(
            set.as_object().unwrap().len(),
            tokenwise_policy::keys::keys().len(),
            "{set}"
        );
        assert_eq!(
            set["provider_base_urls"],
            json!({"gw": "https://gw.example.com"})
        );
        assert_eq!(set["sync_interval_seconds"], json!(120));
    }
}

#[test]
fn the_adml_defines_every_string_and_presentation_and_the_checked_in_copies_are_current() {
    let admx_text = admx::admx();
    let adml_text = admx::adml();
    let mut defined = Vec::new();
    let mut reader = quick_xml::Reader::from_str(&adml_text);
    loop {
        match reader.read_event().expect("the ADML is well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) => {
                if let Some(id) = e.attributes().flatten().find(|a| a.key.as_ref() == "id") {
                    let tag = e.name().as_ref().to_string();
                    defined.push(format!("{tag}.{}", id.value));
                }
            }
            _ => {}
        }
    }
    for reference in admx_text.split("$(").skip(1) {
        let reference = reference.split(')').next().unwrap();
        assert!(
            defined.iter().any(|d| d == reference),
            "ADMX uses $({reference}), the ADML lacks it"
        );
    }
    for (path, text) in [
        ("docs/windows/tokenwise.admx", admx_text),
        ("docs/windows/en-US/tokenwise.adml", adml_text),
    ] {
        let file = repo(path);
        if std::fs::read_to_string(&file).unwrap_or_default() != text {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &text).unwrap();
            panic!("{path} was stale and has been rewritten: commit it");
        }
    }
}
