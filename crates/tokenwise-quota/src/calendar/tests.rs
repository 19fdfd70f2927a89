//! Windows at fixed instants: DST changes (23, 25, 23.5 and 24.5-hour days), skipped and
//! repeated midnights, a skipped date, week starts, leap days, month and year ends.
//!
//! Expected bounds are written as local times with their offsets, e.g.
//! `2024-04-01T00:00:00+02:00`, so each line can be checked against a wall calendar.

use super::*;
use chrono::Offset;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Milliseconds since the epoch of an RFC 3339 time.
fn at(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

fn calendar(zone: &str, week_start: WeekStart) -> Calendar {
    Calendar::new(zone, week_start).unwrap()
}

/// Asserts that every instant in `instants` lies in the window `[start, end)` of `kind`.
#[track_caller]
fn expect(calendar: &Calendar, kind: WindowKind, instants: &[&str], start: &str, end: &str) {
    for instant in instants {
        let window = calendar.window(kind, at(instant)).unwrap();
        assert_eq!(
            (window.start_ms, window.end_ms),
            (at(start), at(end)),
            "{} {kind} of {instant}: expected [{start}, {end})",
            calendar.zone_name()
        );
        assert_eq!(window.kind, kind);
        assert!(window.contains(at(instant)));
    }
}

#[track_caller]
fn day_length(calendar: &Calendar, instant: &str) -> i64 {
    calendar
        .window(WindowKind::Day, at(instant))
        .unwrap()
        .duration_ms()
}

#[test]
fn berlin_spring_forward_day_has_23_hours() {
    let berlin = calendar("Europe/Berlin", WeekStart::Monday);
    expect(
        &berlin,
        WindowKind::Day,
        &[
            "2024-03-31T00:00:00+01:00",
            "2024-03-31T01:59:59.999+01:00",
            "2024-03-31T03:00:00+02:00",
            "2024-03-31T23:59:59.999+02:00",
        ],
        "2024-03-31T00:00:00+01:00",
        "2024-04-01T00:00:00+02:00",
    );
    assert_eq!(day_length(&berlin, "2024-03-31T12:00:00+02:00"), 23 * HOUR);
    // The neighbours are ordinary days, and they meet the short one exactly.
    expect(
        &berlin,
        WindowKind::Day,
        &["2024-03-30T23:59:59.999+01:00"],
        "2024-03-30T00:00:00+01:00",
        "2024-03-31T00:00:00+01:00",
    );
    expect(
        &berlin,
        WindowKind::Day,
        &["2024-04-01T00:00:00+02:00"],
        "2024-04-01T00:00:00+02:00",
        "2024-04-02T00:00:00+02:00",
    );
    // March is 31 days less the lost hour.
    let march = berlin
        .window(WindowKind::Month, at("2024-03-31T12:00:00+02:00"))
        .unwrap();
    assert_eq!(march.duration_ms(), 31 * DAY - HOUR);
}

#[test]
fn berlin_fall_back_day_has_25_hours() {
    let berlin = calendar("Europe/Berlin", WeekStart::Monday);
    expect(
        &berlin,
        WindowKind::Day,
        &[
            "2024-10-27T00:00:00+02:00",
            // 02:30 happens twice; both belong to the same day.
            "2024-10-27T02:30:00+02:00",
            "2024-10-27T02:30:00+01:00",
            "2024-10-27T23:59:59.999+01:00",
        ],
        "2024-10-27T00:00:00+02:00",
        "2024-10-28T00:00:00+01:00",
    );
    assert_eq!(day_length(&berlin, "2024-10-27T12:00:00+01:00"), 25 * HOUR);
    let october = berlin
        .window(WindowKind::Month, at("2024-10-15T12:00:00+02:00"))
        .unwrap();
    assert_eq!(october.duration_ms(), 31 * DAY + HOUR);
    // The week (Monday start) holding the change is 7 days and an hour.
    expect(
        &berlin,
        WindowKind::Week,
        &["2024-10-27T02:30:00+01:00", "2024-10-21T00:00:00+02:00"],
        "2024-10-21T00:00:00+02:00",
        "2024-10-28T00:00:00+01:00",
    );
}

#[test]
fn new_york_changes_at_two_in_the_morning() {
    let new_york = calendar("America/New_York", WeekStart::Sunday);
    expect(
        &new_york,
        WindowKind::Day,
        &["2024-03-10T01:59:59-05:00", "2024-03-10T03:00:00-04:00"],
        "2024-03-10T00:00:00-05:00",
        "2024-03-11T00:00:00-04:00",
    );
    assert_eq!(
        day_length(&new_york, "2024-03-10T12:00:00-04:00"),
        23 * HOUR
    );
    expect(
        &new_york,
        WindowKind::Day,
        &["2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00"],
        "2024-11-03T00:00:00-04:00",
        "2024-11-04T00:00:00-05:00",
    );
    assert_eq!(
        day_length(&new_york, "2024-11-03T12:00:00-05:00"),
        25 * HOUR
    );
    // Sunday-start week beginning on the short day.
    expect(
        &new_york,
        WindowKind::Week,
        &["2024-03-10T00:00:00-05:00", "2024-03-16T23:59:59.999-04:00"],
        "2024-03-10T00:00:00-05:00",
        "2024-03-17T00:00:00-04:00",
    );
}

#[test]
fn lord_howe_changes_by_half_an_hour() {
    let lord_howe = calendar("Australia/Lord_Howe", WeekStart::Monday);
    // DST ends on the first Sunday of April: 02:00 (+11:00) becomes 01:30 (+10:30).
    expect(
        &lord_howe,
        WindowKind::Day,
        &[
            "2024-04-07T00:00:00+11:00",
            "2024-04-07T01:45:00+11:00",
            "2024-04-07T01:45:00+10:30",
            "2024-04-07T23:59:59.999+10:30",
        ],
        "2024-04-07T00:00:00+11:00",
        "2024-04-08T00:00:00+10:30",
    );
    assert_eq!(
        day_length(&lord_howe, "2024-04-07T12:00:00+10:30"),
        24 * HOUR + HOUR / 2
    );
    // DST starts on the first Sunday of October: 02:00 (+10:30) becomes 02:30 (+11:00).
    expect(
        &lord_howe,
        WindowKind::Day,
        &["2024-10-06T01:59:59+10:30", "2024-10-06T02:30:00+11:00"],
        "2024-10-06T00:00:00+10:30",
        "2024-10-07T00:00:00+11:00",
    );
    assert_eq!(
        day_length(&lord_howe, "2024-10-06T12:00:00+11:00"),
        23 * HOUR + HOUR / 2
    );
}

#[test]
fn santiago_skips_midnight_so_the_day_starts_at_one() {
    let santiago = calendar("America/Santiago", WeekStart::Monday);
    // 2024-09-08 00:00 (-04:00) does not exist: the clock jumps to 01:00 (-03:00).
    expect(
        &santiago,
        WindowKind::Day,
        &["2024-09-08T01:00:00-03:00", "2024-09-08T23:59:59.999-03:00"],
        "2024-09-08T01:00:00-03:00",
        "2024-09-09T00:00:00-03:00",
    );
    assert_eq!(
        day_length(&santiago, "2024-09-08T12:00:00-03:00"),
        23 * HOUR
    );
    expect(
        &santiago,
        WindowKind::Day,
        &["2024-09-07T23:59:59.999-04:00"],
        "2024-09-07T00:00:00-04:00",
        "2024-09-08T01:00:00-03:00",
    );
    // The Monday week ends, and the Sunday week starts, at that first instant.
    expect(
        &santiago,
        WindowKind::Week,
        &["2024-09-07T12:00:00-04:00"],
        "2024-09-02T00:00:00-04:00",
        "2024-09-09T00:00:00-03:00",
    );
    let sunday_weeks = calendar("America/Santiago", WeekStart::Sunday);
    expect(
        &sunday_weeks,
        WindowKind::Week,
        &["2024-09-08T01:00:00-03:00", "2024-09-14T23:00:00-03:00"],
        "2024-09-08T01:00:00-03:00",
        "2024-09-15T00:00:00-03:00",
    );
    expect(
        &sunday_weeks,
        WindowKind::Week,
        &["2024-09-07T23:59:59.999-04:00"],
        "2024-09-01T00:00:00-04:00",
        "2024-09-08T01:00:00-03:00",
    );
    // In April 00:00 (-03:00) becomes 23:00 (-04:00) the day before: a 25-hour Saturday.
    expect(
        &santiago,
        WindowKind::Day,
        &["2024-04-06T23:30:00-03:00", "2024-04-06T23:30:00-04:00"],
        "2024-04-06T00:00:00-03:00",
        "2024-04-07T00:00:00-04:00",
    );
    assert_eq!(
        day_length(&santiago, "2024-04-06T12:00:00-03:00"),
        25 * HOUR
    );
}

#[test]
fn havana_skips_midnight_in_march_and_repeats_it_in_november() {
    let havana = calendar("America/Havana", WeekStart::Monday);
    expect(
        &havana,
        WindowKind::Day,
        &["2024-03-10T01:00:00-04:00", "2024-03-10T12:00:00-04:00"],
        "2024-03-10T01:00:00-04:00",
        "2024-03-11T00:00:00-04:00",
    );
    assert_eq!(day_length(&havana, "2024-03-10T12:00:00-04:00"), 23 * HOUR);
    // 01:00 (-04:00) becomes 00:00 (-05:00): midnight happens twice; the day starts at the
    // first one and holds both.
    expect(
        &havana,
        WindowKind::Day,
        &[
            "2024-11-03T00:00:00-04:00",
            "2024-11-03T00:30:00-04:00",
            "2024-11-03T00:00:00-05:00",
            "2024-11-03T00:30:00-05:00",
        ],
        "2024-11-03T00:00:00-04:00",
        "2024-11-04T00:00:00-05:00",
    );
    assert_eq!(day_length(&havana, "2024-11-03T12:00:00-05:00"), 25 * HOUR);
    expect(
        &havana,
        WindowKind::Day,
        &["2024-11-02T23:59:59.999-04:00"],
        "2024-11-02T00:00:00-04:00",
        "2024-11-03T00:00:00-04:00",
    );
}

#[test]
fn sao_paulo_historically_skipped_and_repeated_midnight() {
    let sao_paulo = calendar("America/Sao_Paulo", WeekStart::Monday);
    // 2018-11-04: 00:00 (-03:00) became 01:00 (-02:00).
    expect(
        &sao_paulo,
        WindowKind::Day,
        &["2018-11-04T01:00:00-02:00", "2018-11-04T23:00:00-02:00"],
        "2018-11-04T01:00:00-02:00",
        "2018-11-05T00:00:00-02:00",
    );
    // 2018-02-18: 00:00 (-02:00) became 23:00 (-03:00) of the 17th.
    expect(
        &sao_paulo,
        WindowKind::Day,
        &["2018-02-17T23:30:00-02:00", "2018-02-17T23:30:00-03:00"],
        "2018-02-17T00:00:00-02:00",
        "2018-02-18T00:00:00-03:00",
    );
}

#[test]
fn apia_skipped_a_whole_date() {
    // Samoa crossed the date line: 2011-12-29 24:00 (-10:00) was 2011-12-31 00:00 (+14:00).
    let apia = calendar("Pacific/Apia", WeekStart::Monday);
    expect(
        &apia,
        WindowKind::Day,
        &["2011-12-29T23:59:59.999-10:00"],
        "2011-12-29T00:00:00-10:00",
        "2011-12-31T00:00:00+14:00",
    );
    expect(
        &apia,
        WindowKind::Day,
        &["2011-12-31T00:00:00+14:00"],
        "2011-12-31T00:00:00+14:00",
        "2012-01-01T00:00:00+14:00",
    );
    // The week and the month lost a day.
    let week = apia
        .window(WindowKind::Week, at("2011-12-31T00:00:00+14:00"))
        .unwrap();
    assert_eq!(week.start_ms, at("2011-12-26T00:00:00-10:00"));
    assert_eq!(week.end_ms, at("2012-01-02T00:00:00+14:00"));
    assert_eq!(week.duration_ms(), 6 * DAY);
    let december = apia
        .window(WindowKind::Month, at("2011-12-31T12:00:00+14:00"))
        .unwrap();
    assert_eq!(december.start_ms, at("2011-12-01T00:00:00-10:00"));
    assert_eq!(december.end_ms, at("2012-01-01T00:00:00+14:00"));
    assert_eq!(december.duration_ms(), 30 * DAY);
    // A week starting on the missing Friday starts when Saturday does.
    let friday_weeks = calendar("Pacific/Apia", WeekStart::Friday);
    expect(
        &friday_weeks,
        WindowKind::Week,
        &["2011-12-31T00:00:00+14:00", "2012-01-05T23:00:00+14:00"],
        "2011-12-31T00:00:00+14:00",
        "2012-01-06T00:00:00+14:00",
    );
}

#[test]
fn weeks_start_on_the_configured_day() {
    // Sunday 2024-03-31 in Berlin, the spring-forward day.
    let monday = calendar("Europe/Berlin", WeekStart::Monday);
    expect(
        &monday,
        WindowKind::Week,
        &["2024-03-31T12:00:00+02:00", "2024-03-25T00:00:00+01:00"],
        "2024-03-25T00:00:00+01:00",
        "2024-04-01T00:00:00+02:00",
    );
    let sunday = calendar("Europe/Berlin", WeekStart::Sunday);
    expect(
        &sunday,
        WindowKind::Week,
        &["2024-03-31T12:00:00+02:00", "2024-04-06T23:59:59.999+02:00"],
        "2024-03-31T00:00:00+01:00",
        "2024-04-07T00:00:00+02:00",
    );
    expect(
        &sunday,
        WindowKind::Week,
        &["2024-03-30T23:59:59.999+01:00"],
        "2024-03-24T00:00:00+01:00",
        "2024-03-31T00:00:00+01:00",
    );
    // Wednesday 2024-05-15, UTC: each start day gives the latest such day on or before it.
    let wednesday = at("2024-05-15T12:00:00Z");
    let expected_first_day = [13, 14, 15, 9, 10, 11, 12];
    for (week_start, first) in WeekStart::ALL.into_iter().zip(expected_first_day) {
        let week = calendar("UTC", week_start)
            .window(WindowKind::Week, wednesday)
            .unwrap();
        assert_eq!(
            week.start_ms,
            at(&format!("2024-05-{first:02}T00:00:00Z")),
            "{week_start:?}"
        );
        assert_eq!(week.duration_ms(), 7 * DAY);
    }
}

#[test]
fn months_have_their_own_lengths_and_leap_days() {
    let utc = Calendar::utc();
    let days = |year: i32, month: u32| {
        let instant = at(&format!("{year}-{month:02}-10T12:00:00Z"));
        utc.window(WindowKind::Month, instant)
            .unwrap()
            .duration_ms()
            / DAY
    };
    let lengths_2024: Vec<i64> = (1..=12).map(|month| days(2024, month)).collect();
    assert_eq!(
        lengths_2024,
        [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    );
    let lengths_2025: Vec<i64> = (1..=12).map(|month| days(2025, month)).collect();
    assert_eq!(
        lengths_2025,
        [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    );
    assert_eq!(days(2000, 2), 29);
    assert_eq!(days(1900, 2), 28);
    assert_eq!(days(2100, 2), 28);

    let berlin = calendar("Europe/Berlin", WeekStart::Monday);
    expect(
        &berlin,
        WindowKind::Day,
        &["2024-02-29T00:00:00+01:00", "2024-02-29T23:59:59.999+01:00"],
        "2024-02-29T00:00:00+01:00",
        "2024-03-01T00:00:00+01:00",
    );
    expect(
        &berlin,
        WindowKind::Month,
        &["2024-02-29T23:59:59.999+01:00", "2024-02-01T00:00:00+01:00"],
        "2024-02-01T00:00:00+01:00",
        "2024-03-01T00:00:00+01:00",
    );
    expect(
        &berlin,
        WindowKind::Month,
        &["2024-03-01T00:00:00+01:00"],
        "2024-03-01T00:00:00+01:00",
        "2024-04-01T00:00:00+02:00",
    );
}

#[test]
fn december_31_turns_into_january_1() {
    let berlin = calendar("Europe/Berlin", WeekStart::Monday);
    let last = "2024-12-31T23:59:59.999+01:00";
    let first = "2025-01-01T00:00:00+01:00";
    expect(
        &berlin,
        WindowKind::Day,
        &[last],
        "2024-12-31T00:00:00+01:00",
        "2025-01-01T00:00:00+01:00",
    );
    expect(
        &berlin,
        WindowKind::Day,
        &[first],
        "2025-01-01T00:00:00+01:00",
        "2025-01-02T00:00:00+01:00",
    );
    expect(
        &berlin,
        WindowKind::Month,
        &[last],
        "2024-12-01T00:00:00+01:00",
        "2025-01-01T00:00:00+01:00",
    );
    expect(
        &berlin,
        WindowKind::Month,
        &[first],
        "2025-01-01T00:00:00+01:00",
        "2025-02-01T00:00:00+01:00",
    );
    // The week runs across the new year.
    expect(
        &berlin,
        WindowKind::Week,
        &[last, first],
        "2024-12-30T00:00:00+01:00",
        "2025-01-06T00:00:00+01:00",
    );
    // In UTC, at 23:30 UTC on Dec 31 Berlin is already in the new year.
    let utc = Calendar::utc();
    expect(
        &utc,
        WindowKind::Month,
        &["2024-12-31T23:30:00Z"],
        "2024-12-01T00:00:00Z",
        "2025-01-01T00:00:00Z",
    );
    expect(
        &berlin,
        WindowKind::Month,
        &["2024-12-31T23:30:00Z"],
        "2025-01-01T00:00:00+01:00",
        "2025-02-01T00:00:00+01:00",
    );
}

#[test]
fn windows_and_next_agree() {
    let berlin = calendar("Europe/Berlin", WeekStart::Monday);
    let instant = at("2024-03-30T12:00:00+01:00");
    let [day, week, month] = berlin.windows(instant).unwrap();
    assert_eq!(day.kind, WindowKind::Day);
    assert_eq!(week.kind, WindowKind::Week);
    assert_eq!(month.kind, WindowKind::Month);
    let next_day = berlin.next(&day).unwrap();
    assert_eq!(next_day.start_ms, day.end_ms);
    assert_eq!(next_day.duration_ms(), 23 * HOUR);
    let next_month = berlin.next(&month).unwrap();
    assert_eq!(next_month.start_ms, at("2024-04-01T00:00:00+02:00"));
    assert_eq!(next_month.end_ms, at("2024-05-01T00:00:00+02:00"));
}

#[test]
fn instants_before_1970_and_far_ahead_work() {
    let utc = Calendar::utc();
    expect(
        &utc,
        WindowKind::Day,
        &["1969-12-31T23:59:59.999Z"],
        "1969-12-31T00:00:00Z",
        "1970-01-01T00:00:00Z",
    );
    let berlin = calendar("Europe/Berlin", WeekStart::Monday);
    expect(
        &berlin,
        WindowKind::Day,
        &["2150-07-01T12:00:00+01:00"],
        "2150-07-01T00:00:00+01:00",
        "2150-07-02T00:00:00+01:00",
    );
}

#[test]
fn instants_beyond_the_calendar_are_errors() {
    let utc = Calendar::utc();
    for instant in [i64::MAX, i64::MIN] {
        for kind in WindowKind::ALL {
            assert_eq!(
                utc.window(kind, instant),
                Err(QuotaError::InstantOutOfRange { at_ms: instant })
            );
        }
    }
}

#[test]
fn unknown_zones_are_refused() {
    assert!(matches!(
        Calendar::new("Europe/Berln", WeekStart::Monday),
        Err(QuotaError::UnknownTimeZone { .. })
    ));
    assert_eq!(Calendar::default().zone_name(), "UTC");
}

/// Every 37 minutes over three years in zones with odd offsets and changes: each window
/// contains the instant, windows of a kind tile time, and each starts where a local day does.
#[test]
fn windows_tile_time_in_every_zone() {
    let zones = [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Santiago",
        "America/Havana",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Pacific/Chatham",
        "America/St_Johns",
        "Pacific/Apia",
    ];
    let from = at("2023-06-01T00:00:00Z");
    let to = at("2026-06-01T00:00:00Z");
    let step = 37 * 60_000;
    for zone in zones {
        for week_start in [WeekStart::Monday, WeekStart::Sunday] {
            let calendar = calendar(zone, week_start);
            let tz = calendar.zone;
            let mut previous: Option<[Window; 3]> = None;
            let mut instant = from;
            while instant < to {
                let windows = calendar.windows(instant).unwrap();
                for (index, window) in windows.iter().enumerate() {
                    assert!(window.contains(instant), "{zone} {window:?} {instant}");
                    if let Some(previous) = previous {
                        let before = previous[index];
                        assert!(
                            before == *window || before.end_ms == window.start_ms,
                            "{zone}: {before:?} then {window:?}"
                        );
                    }
                    // A window starts at local midnight, or where a clock change skipped it.
                    let start = DateTime::from_timestamp_millis(window.start_ms)
                        .unwrap()
                        .with_timezone(&tz);
                    let just_before = DateTime::from_timestamp_millis(window.start_ms - 1)
                        .unwrap()
                        .with_timezone(&tz);
                    let at_midnight = start.time() == NaiveTime::MIN;
                    let after_change = start.offset().fix() != just_before.offset().fix();
                    assert!(
                        at_midnight || after_change,
                        "{zone}: {window:?} starts at {start}"
                    );
                    let hours = window.duration_ms() as f64 / HOUR as f64;
                    let range = match window.kind {
                        WindowKind::Day => 22.0..=26.0,
                        WindowKind::Week => 166.0..=170.0,
                        WindowKind::Month => 671.0..=745.0,
                    };
                    assert!(range.contains(&hours), "{zone}: {window:?} lasts {hours} h");
                }
                previous = Some(windows);
                instant += step;
            }
        }
    }
}
