//! `to_char(interval, pattern)` as PostgreSQL writes an interval (`interval_to_char`): its
//! months split into years and months, its days, and its time into hours (not wrapped at 24:
//! `to_char(interval '30 hours', 'HH24:MI')` is `30:00`), minutes, seconds and a fraction, each
//! field truncated toward zero and negative when the interval is. Talk time as `HH24:MI:SS`:
//! `to_char(sum(duration_s) * interval '1 second', 'HH24:MI:SS')`. Fields that mean nothing for
//! a span (month and day names, days of the week, eras, time zones) are an error, as in
//! PostgreSQL; so are those PostgreSQL writes from a made-up date (`W`, `WW`, `IW`, `J`, `RM`,
//! ISO years).

use super::pattern::{Case, Field, Piece, name, ordinal_number, write_each, year_digits};
use crate::query::udf::invalid;
use datafusion::common::Result;

/// An interval's fields, as PostgreSQL's `interval2itm` splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    years: i64,
    months: i64,
    days: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
    micros: i64,
}

impl Span {
    /// The fields of an interval of `months`, `days` and `nanos` (truncated to microseconds).
    pub fn of(months: i32, days: i32, nanos: i64) -> Span {
        let months = i64::from(months);
        let time = nanos / 1_000;
        Span {
            years: months / 12,
            months: months % 12,
            days: i64::from(days),
            hours: time / 3_600_000_000,
            minutes: time % 3_600_000_000 / 60_000_000,
            seconds: time % 60_000_000 / 1_000_000,
            micros: time % 1_000_000,
        }
    }
}

/// Writes `span` by `pieces` to `out`; an error for a field an interval has not.
pub fn write(pieces: &[Piece], span: &Span, out: &mut String) -> Result<()> {
    write_each(pieces, out, |field, fill_mode, ordinal, out| {
        write_field(field, fill_mode, ordinal, span, out)
    })
}

fn write_field(
    field: Field,
    fill_mode: bool,
    ordinal: Option<bool>,
    s: &Span,
    out: &mut String,
) -> Result<()> {
    let pad = |width: usize| if fill_mode { 0 } else { width };
    let numeric = |n: i64, width: usize| (n, pad(width));
    let (n, width) = match field {
        Field::YearWithComma => {
            out.push_str(&format!("{},{:03}", s.years / 1000, (s.years % 1000).abs()));
            return Ok(());
        }
        Field::Year(d) => {
            let (n, w) = year_digits(s.years, d);
            numeric(n, w)
        }
        Field::Month => numeric(s.months, 2),
        // Two characters with the sign, as C's `%02d`: `-3`.
        Field::DayOfMonth => numeric(s.days, if s.days < 0 { 1 } else { 2 }),
        Field::Century => numeric(s.years / 100, 2),
        // PostgreSQL approximates a span's day of the year with 30-day months.
        Field::DayOfYear => numeric((s.years * 12 + s.months) * 30 + s.days, 3),
        Field::Quarter => numeric(s.months / 3 + 1, 1),
        Field::Hour24 => numeric(s.hours, 2),
        Field::Hour12 => numeric(
            match s.hours % 12 {
                0 => 12,
                h => h,
            },
            2,
        ),
        Field::Minute => numeric(s.minutes, 2),
        Field::Second => numeric(s.seconds, 2),
        Field::Millis => numeric(s.micros / 1_000, 3),
        Field::Micros => numeric(s.micros, 6),
        Field::Fraction(digits) => numeric(
            s.micros / 10_i64.pow(6 - u32::from(digits)),
            usize::from(digits),
        ),
        Field::SecondsOfDay => numeric((s.hours * 60 + s.minutes) * 60 + s.seconds, 0),
        Field::Meridiem { upper, dots } => {
            let pm = s.hours % 24 >= 12;
            let text = match (pm, dots) {
                (false, false) => "AM",
                (true, false) => "PM",
                (false, true) => "A.M.",
                (true, true) => "P.M.",
            };
            name(out, text, if upper { Case::Upper } else { Case::Lower }, 0);
            return Ok(());
        }
        other => {
            return Err(invalid(format!(
                "invalid format specification for an interval value ({other:?}; intervals are not tied to specific calendar dates)"
            )));
        }
    };
    ordinal_number(out, n, width, ordinal);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::pattern::parse;
    use super::*;

    fn text(months: i32, days: i32, seconds: i64, pattern: &str) -> String {
        let mut out = String::new();
        write(
            &parse(pattern),
            &Span::of(months, days, seconds * 1_000_000_000),
            &mut out,
        )
        .unwrap();
        out
    }

    /// PostgreSQL 15's answers.
    #[test]
    fn writes_as_postgresql() {
        assert_eq!(text(0, 0, 5400, "HH24:MI:SS"), "01:30:00");
        assert_eq!(text(0, 0, 30 * 3600 + 61, "HH24:MI:SS"), "30:01:01");
        assert_eq!(text(0, 0, 13 * 3600, "HH12 AM"), "01 PM");
        assert_eq!(text(0, 0, 0, "HH:MI"), "12:00");
        assert_eq!(text(14, 3, 7200, "YYYY-MM-DD HH24"), "0001-02-03 02");
        assert_eq!(text(0, 0, -5400, "HH24:MI"), "-01:-30");
        assert_eq!(text(0, 0, 3725, "FMHH24:MI:SS"), "1:02:05");
        assert_eq!(text(0, 0, 3725, "SSSS"), "3725");
        assert_eq!(text(-14, -3, 0, "YYYY MM DD"), "-0001 -02 -3");
        assert_eq!(text(5, 0, 0, "Q DDD CC"), "2 150 00");
    }

    #[test]
    fn refuses_calendar_fields() {
        let e = write(&parse("Day"), &Span::of(0, 1, 0), &mut String::new()).unwrap_err();
        assert!(
            e.to_string()
                .contains("invalid format specification for an interval")
        );
    }
}
