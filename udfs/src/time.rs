//! Calendar rules of the tenant functions: wall-clock time and calendar dates of an instant in
//! an IANA time zone (SPEC 2.5 `timezone`, mission anchor D9), and sales-cycle numbers (SPEC
//! 3, call-log target logic).
//!
//! Instants are microseconds since 1970-01-01T00:00:00Z, as stored in `timestamptz` columns
//! (`Timestamp(Microsecond, Some("UTC"))`). Zones follow the IANA database through
//! `chrono-tz`, daylight saving time included: in `Europe/Amsterdam`, `2026-07-01T10:00:00Z`
//! is 12:00 (CEST), not 11:00 (a fixed UTC+01:00 would say 11:00).
//!
//! This module also holds the argument plumbing for instants, which the shared `args` module
//! has no `Kind` for: any timestamp, any text (parsed as by a cast to `timestamptz`, an
//! offset-less string read as UTC) or NULL is coerced to `Timestamp(Microsecond, Some("UTC"))`. A timestamp without a time zone is read as UTC, the
//! way every timestamp of the data model is stored (DataFusion types `TIMESTAMPTZ '…'` without
//! a zone unless the session sets `datafusion.execution.time_zone`).

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err};

/// Time zone of the instants given to the time functions (and of every `timestamptz` column).
pub const UTC: &str = "UTC";

/// 1970-01-01 as days from 0001-01-01 (chrono's `num_days_from_ce` of the Unix epoch).
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Parses an IANA time zone name (`Europe/Amsterdam`, `America/New_York`, `UTC`); names are
/// case-sensitive, as in the IANA database.
pub fn zone(name: &str) -> Option<Tz> {
    name.parse().ok()
}

/// The wall-clock date and time in `tz` of the instant `micros` (microseconds since the Unix
/// epoch, UTC), or `None` outside chrono's range (about ±262,000 years).
pub fn local_datetime(tz: Tz, micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|utc| utc.with_timezone(&tz).naive_local())
}

/// [`local_datetime`] as microseconds since 1970-01-01T00:00:00 (of the local calendar), the
/// value of a `Timestamp(Microsecond, None)`.
pub fn local_micros(tz: Tz, micros: i64) -> Option<i64> {
    local_datetime(tz, micros).map(|local| local.and_utc().timestamp_micros())
}

/// Days from 1970-01-01 to `date`: negative before it.
pub fn days_since_epoch(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)
}

/// The sales cycle of a calendar day (days since 1970-01-01): cycles are runs of
/// `cycle_days` calendar days counted from 1970-01-01, which begins cycle 0; days before it
/// are in negative cycles (floor division).
pub fn cycle_of_day(days: i64, cycle_days: NonZeroU32) -> i64 {
    days.div_euclid(i64::from(cycle_days.get()))
}

/// The sales cycle in `tz` of the instant `micros`: the cycle of its local calendar date.
pub fn sales_cycle(tz: Tz, cycle_days: NonZeroU32, micros: i64) -> Option<i64> {
    local_datetime(tz, micros).map(|local| cycle_of_day(days_since_epoch(local.date()), cycle_days))
}

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// Seconds in an hour and in a day.
const HOUR_SECONDS: i64 = 3_600;
const DAY_SECONDS: i64 = 86_400;

/// The UTC offset of `tz` at `seconds` since the Unix epoch, in seconds; `None` outside
/// chrono's range.
fn offset_seconds(tz: Tz, seconds: i64) -> Option<i64> {
    let utc = DateTime::from_timestamp(seconds, 0)?.naive_utc();
    Some(i64::from(
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
    ))
}

/// The offset of `tz` throughout the UTC day `day` (days since 1970-01-01), when it is the same
/// at each whole hour of the day and at its last second; `None` on a day the offset changes
/// (or outside chrono's range).
///
/// An offset that changed and changed back between two whole hours would go unseen: in the
/// IANA data `chrono-tz` 0.10.4 carries, two changes of a zone's offset are at least 167 hours
/// apart (Brazil, October 2000), so a day checked hourly is uniform.
fn uniform_offset(tz: Tz, day: i64) -> Option<i64> {
    let start = day.checked_mul(DAY_SECONDS)?;
    let offset = offset_seconds(tz, start)?;
    let probes = (1..24).map(|h| start + h * HOUR_SECONDS);
    let end = start + DAY_SECONDS - 1;
    probes
        .chain([end])
        .all(|s| offset_seconds(tz, s) == Some(offset))
        .then_some(offset)
}

/// Wall-clock time of instants in one zone, for a column of them: the zone's offset is
/// looked up once per UTC day (see [`uniform_offset`]) while consecutive instants fall on the
/// same day, which is how `cdrs` is stored (one `call_date` per file); on a day the offset
/// changes, each instant is converted by [`local_micros`]. The answers are those of
/// [`local_micros`] and [`sales_cycle`].
#[derive(Debug, Clone, Copy)]
pub struct ZoneClock {
    tz: Tz,
    /// The UTC day of the last instant and the zone's offset on it in seconds, if uniform.
    day: Option<(i64, Option<i64>)>,
}

impl ZoneClock {
    /// A clock for `tz`.
    pub fn new(tz: Tz) -> Self {
        Self { tz, day: None }
    }

    /// [`local_micros`]`(tz, micros)`.
    #[inline]
    pub fn local_micros(&mut self, micros: i64) -> Option<i64> {
        let day = micros.div_euclid(DAY_MICROS);
        let offset = match self.day {
            Some((cached, offset)) if cached == day => offset,
            _ => {
                let offset = uniform_offset(self.tz, day);
                self.day = Some((day, offset));
                offset
            }
        };
        match offset {
            Some(offset) => micros.checked_add(offset * 1_000_000),
            None => local_micros(self.tz, micros),
        }
    }

    /// [`sales_cycle`]`(tz, cycle_days, micros)`.
    #[inline]
    pub fn sales_cycle(&mut self, cycle_days: NonZeroU32, micros: i64) -> Option<i64> {
        let local = self.local_micros(micros)?;
        Some(cycle_of_day(local.div_euclid(DAY_MICROS), cycle_days))
    }
}

/// The Arrow type instants are coerced to: `Timestamp(Microsecond, Some("UTC"))`.
pub(crate) fn instant_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(UTC)))
}

/// The type an argument of type `ty` is coerced to when an instant is expected (any
/// timestamp, any text, NULL), or `None` when it cannot be one.
pub(crate) fn instant_target(ty: &DataType) -> Option<DataType> {
    match ty {
        DataType::Timestamp(..)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Null => Some(instant_type()),
        _ => None,
    }
}

/// Instant argument accessor: a scalar is a one-element array read for every row, like the
/// accessors of the `args` module.
pub(crate) struct Instants {
    array: TimestampMicrosecondArray,
    step: usize,
}

impl Instants {
    /// Reads `array` at `row * step` (step 0 for a broadcast scalar), casting it to
    /// microseconds when the planner did not (a caller that bypasses coercion); unparsable
    /// text is an error, not NULL.
    pub(crate) fn of(array: ArrayRef, step: usize) -> Result<Self> {
        let array = match array.data_type() {
            // The zone of a timestamp is display metadata: the values are UTC already.
            DataType::Timestamp(TimeUnit::Microsecond, _) => array,
            DataType::Timestamp(..)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Null => {
                let options = CastOptions {
                    safe: false,
                    ..CastOptions::default()
                };
                cast_with_options(&array, &instant_type(), &options)?
            }
            other => return exec_err!("expected a timestamp, got {other}"),
        };
        Ok(Self {
            array: array.as_primitive::<TimestampMicrosecondType>().clone(),
            step,
        })
    }

    /// The instant of row `row` in microseconds since the Unix epoch, `None` for NULL.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<i64> {
        let i = row * self.step;
        self.array.is_valid(i).then(|| self.array.value(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_micros()
    }

    fn local(tz: Tz, text: &str) -> String {
        local_datetime(tz, utc(text))
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    }

    const AMS: Tz = chrono_tz::Europe::Amsterdam;
    const NYC: Tz = chrono_tz::America::New_York;

    #[test]
    fn wall_clock_follows_daylight_saving_time() {
        assert_eq!(local(AMS, "2026-11-01T23:30:00Z"), "2026-11-02T00:30:00");
        assert_eq!(local(AMS, "2026-07-01T10:00:00Z"), "2026-07-01T12:00:00");
        assert_eq!(local(AMS, "2026-01-15T10:00:00Z"), "2026-01-15T11:00:00");
        // Spring forward: 02:00-03:00 local does not exist.
        assert_eq!(local(AMS, "2026-03-29T00:59:59Z"), "2026-03-29T01:59:59");
        assert_eq!(local(AMS, "2026-03-29T01:00:00Z"), "2026-03-29T03:00:00");
        // Fall back: 02:00-03:00 local happens twice.
        assert_eq!(local(AMS, "2026-10-25T00:30:00Z"), "2026-10-25T02:30:00");
        assert_eq!(local(AMS, "2026-10-25T01:30:00Z"), "2026-10-25T02:30:00");
        assert_eq!(local(NYC, "2026-11-01T05:30:00Z"), "2026-11-01T01:30:00");
        assert_eq!(local(NYC, "2026-11-01T06:30:00Z"), "2026-11-01T01:30:00");
        assert_eq!(
            local(chrono_tz::UTC, "1969-12-31T23:59:59Z"),
            "1969-12-31T23:59:59"
        );
    }

    #[test]
    fn local_micros_keep_sub_seconds() {
        let at = utc("2026-07-01T10:00:00.123456Z");
        assert_eq!(
            local_micros(AMS, at),
            Some(at + 2 * 3_600 * 1_000_000),
            "CEST is UTC+2"
        );
        assert_eq!(local_micros(AMS, i64::MAX), None);
    }

    #[test]
    fn days_count_from_1970() {
        let day = |s: &str| days_since_epoch(s.parse().unwrap());
        assert_eq!(day("1970-01-01"), 0);
        assert_eq!(day("1969-12-31"), -1);
        assert_eq!(day("2026-11-02"), 20_759);
    }

    #[test]
    fn cycles_are_floor_divisions_of_local_days() {
        let one = NonZeroU32::MIN;
        let week = NonZeroU32::new(7).unwrap();
        assert_eq!(cycle_of_day(0, week), 0);
        assert_eq!(cycle_of_day(6, week), 0);
        assert_eq!(cycle_of_day(7, week), 1);
        assert_eq!(cycle_of_day(-1, week), -1);
        assert_eq!(cycle_of_day(-7, week), -1);
        assert_eq!(cycle_of_day(-8, week), -2);
        // 23:30 UTC on 2026-11-01 is 2026-11-02 in Amsterdam.
        assert_eq!(
            sales_cycle(AMS, one, utc("2026-11-01T23:30:00Z")),
            Some(20_759)
        );
        assert_eq!(
            sales_cycle(chrono_tz::UTC, one, utc("2026-11-01T23:30:00Z")),
            Some(20_758)
        );
        // 1970-01-01 is a Thursday: weekly cycles start on Thursdays, local midnight.
        assert_eq!(
            sales_cycle(NYC, week, utc("2026-11-05T04:59:59Z")),
            Some(2_965)
        );
        assert_eq!(
            sales_cycle(NYC, week, utc("2026-11-05T05:00:00Z")),
            Some(2_966)
        );
        assert_eq!(
            sales_cycle(AMS, week, utc("1969-12-31T22:59:59Z")),
            Some(-1)
        );
        assert_eq!(sales_cycle(AMS, week, utc("1969-12-31T23:00:00Z")), Some(0));
    }

    #[test]
    fn clock_agrees_with_chrono_across_offset_changes() {
        let one = NonZeroU32::MIN;
        let week = NonZeroU32::new(7).unwrap();
        let zones = [
            AMS,
            NYC,
            chrono_tz::UTC,
            chrono_tz::Asia::Kolkata,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::America::Santiago,
            chrono_tz::Pacific::Apia,
        ];
        let minute = 60 * 1_000_000;
        // Days around DST changes (Europe, the US, the southern hemisphere, a half-hour
        // DST shift in Lord Howe, Santiago's change at local midnight), Apia's skipped day,
        // ordinary days and the epoch, at every 7 minutes and 13 seconds, in order and
        // back and forth between days.
        let starts = [
            "2026-03-29T00:00:00Z",
            "2026-10-25T00:00:00Z",
            "2026-03-08T00:00:00Z",
            "2026-11-01T00:00:00Z",
            "2026-04-05T00:00:00Z",
            "2026-09-06T00:00:00Z",
            "2011-12-29T00:00:00Z",
            "2026-11-15T00:00:00Z",
            "1969-12-31T00:00:00Z",
        ];
        for tz in zones {
            let mut clock = ZoneClock::new(tz);
            let mut instants = Vec::new();
            for start in starts {
                let start = utc(start) - 12 * 60 * minute;
                instants.extend((0..600).map(|i| start + i * (7 * minute + 13_000_000)));
            }
            let back_and_forth: Vec<i64> = instants
                .iter()
                .zip(instants.iter().rev())
                .flat_map(|(a, b)| [*a, *b])
                .collect();
            for at in instants.iter().chain(&back_and_forth) {
                assert_eq!(clock.local_micros(*at), local_micros(tz, *at), "{tz} {at}");
                for days in [one, week] {
                    assert_eq!(
                        clock.sales_cycle(days, *at),
                        sales_cycle(tz, days, *at),
                        "{tz} {at}"
                    );
                }
            }
        }
        let mut clock = ZoneClock::new(AMS);
        assert_eq!(clock.local_micros(i64::MAX), None);
        assert_eq!(clock.local_micros(i64::MIN), None);
        assert!(uniform_offset(AMS, days_since_epoch("2026-10-25".parse().unwrap())).is_none());
        assert_eq!(
            uniform_offset(AMS, days_since_epoch("2026-10-26".parse().unwrap())),
            Some(3_600)
        );
    }

    #[test]
    fn zones_are_iana_names() {
        assert_eq!(zone("Europe/Amsterdam"), Some(AMS));
        assert_eq!(zone("UTC"), Some(chrono_tz::UTC));
        assert_eq!(zone("Mars/Olympus_Mons"), None);
        assert_eq!(zone("+01:00"), None);
        assert_eq!(zone(""), None);
    }

    #[test]
    fn instants_accept_any_timestamp_and_text() {
        use datafusion::common::ScalarValue;
        use datafusion::logical_expr::ColumnarValue;
        let instants = |arg: &ColumnarValue| -> Result<Instants> {
            crate::args::Rows::new(std::slice::from_ref(arg), 4)?.instants(0)
        };
        assert_eq!(
            instant_target(&DataType::Timestamp(TimeUnit::Nanosecond, None)),
            Some(instant_type())
        );
        assert_eq!(instant_target(&DataType::Int64), None);

        let at = utc("2026-11-01T23:30:00Z");
        let nanos = ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
            Some(at * 1_000),
            Some(Arc::from("+01:00")),
        ));
        assert_eq!(instants(&nanos).unwrap().get(3), Some(at));
        let text = ColumnarValue::Scalar(ScalarValue::from("2026-11-02T00:30:00+01:00"));
        assert_eq!(instants(&text).unwrap().get(0), Some(at));
        let null = ColumnarValue::Scalar(ScalarValue::Null);
        assert_eq!(instants(&null).unwrap().get(0), None);
        let junk = ColumnarValue::Scalar(ScalarValue::from("yesterday-ish"));
        assert!(instants(&junk).is_err());
    }
}
