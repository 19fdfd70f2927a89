//! Budget windows: the calendar day, week and month containing an instant, in the budget's
//! time zone.
//!
//! A [`Calendar`] is an IANA time zone plus the first day of the week ([`WeekStart`]). Given an
//! instant (milliseconds since the Unix epoch, passed in: nothing here reads a clock),
//! [`Calendar::window`] returns the half-open interval `[start_ms, end_ms)` of the
//! [`WindowKind::Day`], [`WindowKind::Week`] or [`WindowKind::Month`] that contains it. Windows
//! of one kind tile time without gaps or overlaps: a window's `end_ms` is the next one's
//! `start_ms`, and that is also its reset time.
//!
//! # Where a window starts
//!
//! Every window starts at the **start of a local day**: the first instant at which the local
//! clock shows that date. Usually that is local midnight, and a window's length follows the
//! clock changes inside it:
//!
//! * a day with a spring-forward change is 23 hours long (Europe/Berlin on 2024-03-31), one
//!   with a fall-back change 25 hours (2024-10-27); Australia/Lord_Howe's 30-minute changes
//!   make days of 23.5 and 24.5 hours;
//! * when a change happens at midnight and **skips** it (America/Santiago, America/Havana,
//!   formerly America/Sao_Paulo: 00:00 becomes 01:00), the day starts at the first instant
//!   that exists on it, the moment of the change (local 01:00);
//! * when a change **repeats** midnight (America/Havana in November: 01:00 becomes 00:00
//!   again), the day starts at the first of the two midnights. A day runs to the next day's
//!   start, so a repeated hour stays in the day that was running when the clock was turned
//!   back (America/Santiago in April: 00:00 becomes 23:00, a 25-hour Saturday);
//! * a date that does not exist at all (Pacific/Apia skipped 2011-12-30) is an empty day: the
//!   days before and after it meet, and a week or month containing it is a day shorter.
//!
//! Weeks start on the configured weekday; months on the 1st, whatever their length (28, 29,
//! 30 or 31 days; leap years by the Gregorian rule). Years need no special case.
//!
//! The tz database is the one compiled into chrono-tz ([`crate::zone::TZDB_VERSION`]). Its
//! transition tables run to 2099; later instants use each zone's last offset.

use chrono::{DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::{GapInfo, Tz};
use serde::{Deserialize, Serialize};

use crate::error::QuotaError;
use crate::zone::parse_zone;

/// The first day of a budget week (`"monday"` … `"sunday"` in TOML and JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeekStart {
    #[default]
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl WeekStart {
    /// Every weekday, Monday first.
    pub const ALL: [WeekStart; 7] = [
        WeekStart::Monday,
        WeekStart::Tuesday,
        WeekStart::Wednesday,
        WeekStart::Thursday,
        WeekStart::Friday,
        WeekStart::Saturday,
        WeekStart::Sunday,
    ];

    /// `monday` … `sunday`.
    pub fn as_str(self) -> &'static str {
        match self {
            WeekStart::Monday => "monday",
            WeekStart::Tuesday => "tuesday",
            WeekStart::Wednesday => "wednesday",
            WeekStart::Thursday => "thursday",
            WeekStart::Friday => "friday",
            WeekStart::Saturday => "saturday",
            WeekStart::Sunday => "sunday",
        }
    }

    /// Days from Monday: 0 for Monday … 6 for Sunday.
    fn days_from_monday(self) -> u32 {
        self as u32
    }
}

pub use tokenwise_core::WindowKind;

/// One calendar window: `[start_ms, end_ms)` in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub kind: WindowKind,
    /// Inclusive: the first instant of the window.
    pub start_ms: i64,
    /// Exclusive: the first instant of the next window, when this one resets.
    pub end_ms: i64,
}

impl Window {
    /// Whether `at_ms` lies in `[start_ms, end_ms)`.
    pub fn contains(&self, at_ms: i64) -> bool {
        self.start_ms <= at_ms && at_ms < self.end_ms
    }

    /// `end_ms - start_ms`.
    pub fn duration_ms(&self) -> i64 {
        self.end_ms - self.start_ms
    }
}

/// A time zone and a first day of the week: what calendar windows are aligned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    zone: Tz,
    week_start: WeekStart,
}

impl Default for Calendar {
    /// UTC, weeks starting on Monday.
    fn default() -> Calendar {
        Calendar::utc()
    }
}

impl Calendar {
    /// The calendar of an IANA time zone (e.g. "Europe/Berlin"; exact spelling and case).
    pub fn new(zone: &str, week_start: WeekStart) -> Result<Calendar, QuotaError> {
        Ok(Calendar {
            zone: parse_zone(zone)?,
            week_start,
        })
    }

    pub(crate) fn from_zone(zone: Tz, week_start: WeekStart) -> Calendar {
        Calendar { zone, week_start }
    }

    /// UTC, weeks starting on Monday.
    pub fn utc() -> Calendar {
        Calendar {
            zone: Tz::UTC,
            week_start: WeekStart::Monday,
        }
    }

    /// The IANA name of the zone, e.g. "Europe/Berlin".
    pub fn zone_name(&self) -> &'static str {
        self.zone.name()
    }

    pub fn week_start(&self) -> WeekStart {
        self.week_start
    }

    /// The window of `kind` containing `at_ms` (see the module docs for where windows start).
    pub fn window(&self, kind: WindowKind, at_ms: i64) -> Result<Window, QuotaError> {
        let out_of_range = || QuotaError::InstantOutOfRange { at_ms };
        let (date, day_start, day_end) = self.day(at_ms).ok_or_else(out_of_range)?;
        let (start_ms, end_ms) = match kind {
            WindowKind::Day => (day_start, day_end),
            WindowKind::Week => {
                let back = (date.weekday().num_days_from_monday() + 7
                    - self.week_start.days_from_monday())
                    % 7;
                let first = date
                    .checked_sub_days(Days::new(u64::from(back)))
                    .ok_or_else(out_of_range)?;
                let next = first
                    .checked_add_days(Days::new(7))
                    .ok_or_else(out_of_range)?;
                self.span(first, next).ok_or_else(out_of_range)?
            }
            WindowKind::Month => {
                let first = date.with_day(1).ok_or_else(out_of_range)?;
                let next = first
                    .checked_add_months(Months::new(1))
                    .ok_or_else(out_of_range)?;
                self.span(first, next).ok_or_else(out_of_range)?
            }
        };
        Ok(Window {
            kind,
            start_ms,
            end_ms,
        })
    }

    /// The window after `window` (of the same kind): the one starting at its `end_ms`.
    pub fn next(&self, window: &Window) -> Result<Window, QuotaError> {
        self.window(window.kind, window.end_ms)
    }

    /// The day, week and month containing `at_ms`, in that order.
    pub fn windows(&self, at_ms: i64) -> Result<[Window; 3], QuotaError> {
        Ok([
            self.window(WindowKind::Day, at_ms)?,
            self.window(WindowKind::Week, at_ms)?,
            self.window(WindowKind::Month, at_ms)?,
        ])
    }

    /// The local date whose day contains `at_ms`, with that day's `[start, end)`.
    ///
    /// Usually the date the local clock shows at `at_ms`. Where a clock change moves the local
    /// date backwards (a fall-back across midnight), the instants after the first midnight
    /// belong to the new day, so the date is corrected until the day contains `at_ms`: days
    /// tile time.
    fn day(&self, at_ms: i64) -> Option<(NaiveDate, i64, i64)> {
        let mut date = DateTime::from_timestamp_millis(at_ms)?
            .with_timezone(&self.zone)
            .date_naive();
        // Converges in one or two steps for any real tz data.
        for _ in 0..8 {
            let start = self.day_start(date)?;
            if at_ms < start {
                date = date.pred_opt()?;
                continue;
            }
            let end = self.day_start(date.succ_opt()?)?;
            if at_ms >= end {
                date = date.succ_opt()?;
                continue;
            }
            return Some((date, start, end));
        }
        None
    }

    /// `[start of first, start of next)`.
    fn span(&self, first: NaiveDate, next: NaiveDate) -> Option<(i64, i64)> {
        Some((self.day_start(first)?, self.day_start(next)?))
    }

    /// The first instant at which the local clock shows `date` (see the module docs).
    fn day_start(&self, date: NaiveDate) -> Option<i64> {
        let midnight = date.and_time(NaiveTime::MIN);
        match self.zone.from_local_datetime(&midnight) {
            LocalResult::Single(instant) => Some(instant.timestamp_millis()),
            LocalResult::Ambiguous(first, second) => {
                Some(first.timestamp_millis().min(second.timestamp_millis()))
            }
            // Midnight is skipped: the day starts where the gap ends.
            LocalResult::None => {
                match GapInfo::new(&midnight, &self.zone).and_then(|gap| gap.end) {
                    Some(end) => Some(end.timestamp_millis()),
                    None => self.first_valid_after(date),
                }
            }
        }
    }

    /// Fallback for a gap chrono-tz cannot describe: the earliest instant of the first local
    /// quarter hour of `date` (or, for a skipped date, after it) that exists.
    fn first_valid_after(&self, date: NaiveDate) -> Option<i64> {
        let midnight = date.and_time(NaiveTime::MIN);
        (1..=4 * 48).find_map(|quarter| {
            let local = midnight.checked_add_signed(chrono::TimeDelta::minutes(15 * quarter))?;
            self.zone
                .from_local_datetime(&local)
                .earliest()
                .map(|instant| instant.timestamp_millis())
        })
    }
}

#[cfg(test)]
mod tests;
