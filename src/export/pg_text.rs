//! PostgreSQL's text output of values: what `psql`, `COPY … TO STDOUT` and a CSV export show
//! for each Arrow type, byte for byte as PostgreSQL 16 prints the corresponding SQL type
//! (`t`/`f`, shortest floats with `e+16` exponents and `Infinity`, numerics at their scale,
//! timestamps without trailing zeros, `timestamptz` in the session's time zone).

use std::fmt::Write;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, DurationMicrosecondType, Float32Type, Float64Type,
    Int8Type, Int16Type, Int32Type, Int64Type, IntervalMonthDayNanoType, IntervalUnit,
    Time64MicrosecondType, TimeUnit, TimestampMicrosecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// Writes the text of one non-null cell of a column (the row index is the argument).
pub type CellWriter<'a> = Box<dyn Fn(usize, &mut String) + Send + 'a>;

/// A writer of `array`'s values in PostgreSQL's text output; `zone` is the session's
/// `TimeZone`, used for time-zone-aware timestamps.
pub fn cell_writer<'a>(array: &'a ArrayRef, zone: Tz) -> Result<CellWriter<'a>, ArrowError> {
    macro_rules! display {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Box::new(move |i, out: &mut String| {
                out.push_str(itoa::Buffer::new().format(a.value(i)));
            })
        }};
    }
    Ok(match array.data_type() {
        DataType::Boolean => {
            let a = array.as_boolean();
            Box::new(move |i, out| out.push(if a.value(i) { 't' } else { 'f' }))
        }
        DataType::Int8 => display!(Int8Type),
        DataType::Int16 => display!(Int16Type),
        DataType::Int32 => display!(Int32Type),
        DataType::Int64 => display!(Int64Type),
        DataType::UInt8 => display!(UInt8Type),
        DataType::UInt16 => display!(UInt16Type),
        DataType::UInt32 => display!(UInt32Type),
        DataType::UInt64 => display!(UInt64Type),
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            Box::new(move |i, out| write_float(f64::from(a.value(i)), 6, out))
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            Box::new(move |i, out| write_float(a.value(i), 15, out))
        }
        DataType::Decimal128(_, scale) => {
            let a = array.as_primitive::<Decimal128Type>();
            match u32::try_from(*scale) {
                Ok(scale) if scale <= MAX_DECIMAL128_SCALE => {
                    Box::new(move |i, out| write_decimal(a.value(i), scale, out))
                }
                // A negative scale (a multiple of a power of ten): Arrow's own text.
                _ => Box::new(move |i, out| out.push_str(&a.value_as_string(i))),
            }
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Box::new(move |i, out| out.push_str(a.value(i)))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Box::new(move |i, out| out.push_str(a.value(i)))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Box::new(move |i, out| out.push_str(a.value(i)))
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let a = cast(array, &DataType::Binary)?;
            Box::new(move |i, out| {
                out.push_str("\\x");
                for b in a.as_binary::<i32>().value(i) {
                    let _ = write!(out, "{b:02x}");
                }
            })
        }
        DataType::Date32 | DataType::Date64 => {
            let a = cast(array, &DataType::Date32)?;
            Box::new(move |i, out| {
                let days = a.as_primitive::<Date32Type>().value(i);
                write_date(days, out);
            })
        }
        DataType::Time32(_) | DataType::Time64(_) => {
            let a = cast(array, &DataType::Time64(TimeUnit::Microsecond))?;
            Box::new(move |i, out| {
                let us = a.as_primitive::<Time64MicrosecondType>().value(i);
                write_clock(us, out);
            })
        }
        DataType::Timestamp(_, tz) => {
            let with_zone = tz.is_some();
            let a = cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            )?;
            Box::new(move |i, out| {
                let us = a.as_primitive::<TimestampMicrosecondType>().value(i);
                if with_zone {
                    write_timestamptz(us, zone, out);
                } else {
                    write_timestamp(us, out);
                }
            })
        }
        DataType::Duration(_) => {
            let a = cast(array, &DataType::Duration(TimeUnit::Microsecond))?;
            Box::new(move |i, out| {
                let us = a.as_primitive::<DurationMicrosecondType>().value(i);
                write_interval(0, 0, us, out);
            })
        }
        DataType::Interval(_) => {
            let a = cast(array, &DataType::Interval(IntervalUnit::MonthDayNano))?;
            Box::new(move |i, out| {
                let v = a.as_primitive::<IntervalMonthDayNanoType>().value(i);
                write_interval(v.months, v.days, v.nanoseconds / 1000, out);
            })
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets = list.value_offsets();
            list_writer(list.values(), zone, move |i| (offsets[i], offsets[i + 1]))?
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let offsets = list.value_offsets();
            list_writer(list.values(), zone, move |i| (offsets[i], offsets[i + 1]))?
        }
        _ => {
            // Structs and the rare rest: Arrow's display (the formatter is not
            // `Send`, so it is made per value).
            ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
            Box::new(move |i, out| {
                if let Ok(f) = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()) {
                    let _ = write!(out, "{}", f.value(i));
                }
            })
        }
    })
}

/// A writer of lists as PostgreSQL writes arrays: `{1,2}`, `{a,"b c",NULL}`, `{{1},{2}}`;
/// `range` gives a row's span of `values`.
fn list_writer<'a, O>(
    values: &'a ArrayRef,
    zone: Tz,
    range: impl Fn(usize) -> (O, O) + Send + 'a,
) -> Result<CellWriter<'a>, ArrowError>
where
    O: TryInto<usize>,
{
    let element = cell_writer(values, zone)?;
    let nested = matches!(
        values.data_type(),
        DataType::List(_) | DataType::LargeList(_)
    );
    let nulls = values.logical_nulls();
    Ok(Box::new(move |i, out| {
        let (start, end) = range(i);
        let (start, end) = (start.try_into().unwrap_or(0), end.try_into().unwrap_or(0));
        let mut cell = String::new();
        out.push('{');
        for j in start..end {
            if j > start {
                out.push(',');
            }
            if nulls.as_ref().is_some_and(|n| n.is_null(j)) {
                out.push_str("NULL");
                continue;
            }
            cell.clear();
            element(j, &mut cell);
            if nested || !needs_quotes(&cell) {
                out.push_str(&cell);
            } else {
                out.push('"');
                for c in cell.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
        out.push('}');
    }))
}

/// Whether an array element must be quoted: empty, `NULL`, or holding a delimiter, brace,
/// quote, backslash or white space.
fn needs_quotes(element: &str) -> bool {
    element.is_empty()
        || element.eq_ignore_ascii_case("NULL")
        || element
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace())
}

/// A column's cell writers for one batch, built once per batch.
pub fn cell_writers(columns: &[ArrayRef], zone: Tz) -> Result<Vec<CellWriter<'_>>, ArrowError> {
    columns.iter().map(|c| cell_writer(c, zone)).collect()
}

/// Shortest text that reads back as the same float, as PostgreSQL (12+) writes it: plain
/// digits for decimal exponents from -4 to below `digits`, else `d.ddde+XX`.
fn write_float(v: f64, digits: i32, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    let sci = if digits == 6 {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if v == 0.0 || (-4..digits).contains(&exponent) {
        if digits == 6 {
            let _ = write!(out, "{}", v as f32);
        } else {
            let _ = write!(out, "{v}");
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}e{sign}{:02}", exponent.abs());
    }
}

/// Microseconds in a day.
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Days from 1970-01-01 to 0000-01-01 and to 10000-01-01: the dates written by integer
/// arithmetic alone (four-digit years); the rest go through chrono.
const FOUR_DIGIT_YEARS: std::ops::Range<i64> = -719_528..2_932_897;

fn write_date(days: i32, out: &mut String) {
    let days = i64::from(days);
    if FOUR_DIGIT_YEARS.contains(&days) {
        write_civil_date(days, out);
    } else {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        write_ymd(epoch + chrono::Duration::days(days), out);
    }
}

/// `YYYY-MM-DD` of a day of [`FOUR_DIGIT_YEARS`] (days since 1970-01-01), by Howard
/// Hinnant's `civil_from_days`: no calendar object per value.
fn write_civil_date(days: i64, out: &mut String) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let year = year as u32;
    push_2(year / 100, out);
    push_2(year % 100, out);
    out.push('-');
    push_2(month as u32, out);
    out.push('-');
    push_2(day as u32, out);
}

/// `YYYY-MM-DD`. Digits are pushed directly: chrono's `format` parses its pattern again for
/// every value, which was a quarter of a 10M-row CSV export's CPU (three timestamps a row).
fn write_ymd(date: NaiveDate, out: &mut String) {
    match u32::try_from(date.year()) {
        Ok(year) if year <= 9999 => {
            push_2(year / 100, out);
            push_2(year % 100, out);
        }
        // Outside 0–9999 as chrono's `%Y` writes it (PostgreSQL would write `… BC`).
        _ => {
            let _ = write!(out, "{}", date.format("%Y"));
        }
    }
    out.push('-');
    push_2(date.month(), out);
    out.push('-');
    push_2(date.day(), out);
}

/// Two digits, zero-padded (`n` below 100).
fn push_2(n: u32, out: &mut String) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// `HH:MM:SS` (hours past 24 when longer) and the fraction without trailing zeros.
fn write_clock(micros_of_day: i64, out: &mut String) {
    let secs = micros_of_day.div_euclid(1_000_000);
    let frac = micros_of_day.rem_euclid(1_000_000);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    write_fraction(frac, out);
}

/// `.` and the microseconds (below one second) without trailing zeros; nothing for 0.
fn write_fraction(micros: i64, out: &mut String) {
    if micros == 0 {
        return;
    }
    let mut digits = [b'0'; 6];
    let mut rest = micros.rem_euclid(1_000_000);
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let end = digits.iter().rposition(|d| *d != b'0').map_or(0, |p| p + 1);
    out.push('.');
    out.extend(digits[..end].iter().map(|d| char::from(*d)));
}

fn write_naive(t: NaiveDateTime, out: &mut String) {
    write_ymd(t.date(), out);
    out.push(' ');
    push_2(t.hour(), out);
    out.push(':');
    push_2(t.minute(), out);
    out.push(':');
    push_2(t.second(), out);
    write_fraction(i64::from(t.nanosecond() / 1000), out);
}

fn write_timestamp(us: i64, out: &mut String) {
    write_local(us, out);
}

/// A wall-clock time given as microseconds since 1970-01-01 00:00 (`YYYY-MM-DD
/// HH:MM:SS[.ffffff]`); false, writing nothing, outside the times chrono can represent.
fn write_local(us: i64, out: &mut String) -> bool {
    let days = us.div_euclid(MICROS_PER_DAY);
    if !FOUR_DIGIT_YEARS.contains(&days) {
        let Some(t) = DateTime::from_timestamp_micros(us) else {
            return false;
        };
        write_naive(t.naive_utc(), out);
        return true;
    }
    let of_day = us.rem_euclid(MICROS_PER_DAY);
    write_civil_date(days, out);
    let secs = (of_day / 1_000_000) as u32;
    out.push(' ');
    push_2(secs / 3600, out);
    out.push(':');
    push_2(secs / 60 % 60, out);
    out.push(':');
    push_2(secs % 60, out);
    write_fraction(of_day % 1_000_000, out);
    true
}

/// `2026-11-01 11:00:00+01`: local time in `zone` and its offset (`+05:30` when the offset
/// has minutes), as PostgreSQL prints `timestamptz`.
fn write_timestamptz(us: i64, zone: Tz, out: &mut String) {
    let offset = if zone == Tz::UTC {
        0
    } else {
        let Some(utc) = DateTime::from_timestamp_micros(us) else {
            return;
        };
        zone.offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc()
    };
    if !write_local(us.saturating_add(i64::from(offset) * 1_000_000), out) {
        return;
    }
    out.push(if offset < 0 { '-' } else { '+' });
    let offset = offset.unsigned_abs();
    push_2(offset / 3600, out);
    if offset % 3600 != 0 {
        out.push(':');
        push_2(offset / 60 % 60, out);
    }
    if offset % 60 != 0 {
        out.push(':');
        push_2(offset % 60, out);
    }
}

/// The largest scale of a `Decimal128` (its 10^scale fits in a `u128`).
const MAX_DECIMAL128_SCALE: u32 = 38;

/// A decimal of `scale` fraction digits (0 ≤ `scale` ≤ 38) as PostgreSQL prints a `numeric` of
/// that scale: `-0.500000`, `12`. Written through `itoa`, without an allocation per value.
fn write_decimal(value: i128, scale: u32, out: &mut String) {
    if value < 0 {
        out.push('-');
    }
    let magnitude = value.unsigned_abs();
    let unit = 10u128.pow(scale);
    let mut digits = itoa::Buffer::new();
    out.push_str(digits.format(magnitude / unit));
    if scale > 0 {
        out.push('.');
        let fraction = digits.format(magnitude % unit);
        for _ in fraction.len()..scale as usize {
            out.push('0');
        }
        out.push_str(fraction);
    }
}

/// PostgreSQL's `postgres` interval style (`EncodeInterval`): `1 year 2 mons 3 days 04:05:06`,
/// `00:03:00`; a unit is plural unless its count is 1 (`-1 days`), and a positive part after a
/// negative one has a `+` (`-1 days +02:00:00`).
fn write_interval(months: i32, days: i32, micros: i64, out: &mut String) {
    let (years, months) = (months / 12, months % 12);
    let mut written = false;
    let mut after_negative = false;
    for (n, unit) in [(years, "year"), (months, "mon"), (days, "day")] {
        if n == 0 {
            continue;
        }
        let space = if written { " " } else { "" };
        let plus = if after_negative && n > 0 { "+" } else { "" };
        let plural = if n == 1 { "" } else { "s" };
        out.push_str(&format!("{space}{plus}{n} {unit}{plural}"));
        after_negative = n < 0;
        written = true;
    }
    if micros != 0 || !written {
        if written {
            out.push(' ');
        }
        if micros < 0 {
            out.push('-');
        } else if after_negative {
            out.push('+');
        }
        write_clock(micros.abs(), out);
    }
}

/// The text of every cell of `array` (`None` for null), for tests and small results.
pub fn column_text(array: &ArrayRef, zone: Tz) -> Result<Vec<Option<String>>, ArrowError> {
    let writer = cell_writer(array, zone)?;
    let nulls = array.logical_nulls();
    Ok((0..array.len())
        .map(|i| {
            (!nulls.as_ref().is_some_and(|n| n.is_null(i))).then(|| {
                let mut s = String::new();
                writer(i, &mut s);
                s
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use arrow::array::{
        BooleanArray, Decimal128Array, DurationSecondArray, Float64Array, StringArray,
        TimestampMicrosecondArray,
    };

    fn text(array: ArrayRef, zone: Tz) -> Vec<Option<String>> {
        column_text(&array, zone).unwrap()
    }

    fn strings(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|s| s.map(str::to_owned)).collect()
    }

    #[test]
    fn floats_as_postgres_prints_them() {
        let a = Arc::new(Float64Array::from(vec![
            1.0,
            0.1,
            1e16,
            1e-7,
            123456.789,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -0.0,
            1e15,
            1e14,
            0.0001,
        ]));
        let want = [
            "1",
            "0.1",
            "1e+16",
            "1e-07",
            "123456.789",
            "Infinity",
            "-Infinity",
            "NaN",
            "-0",
            "1e+15",
            "100000000000000",
            "0.0001",
        ];
        let want: Vec<Option<String>> = want.iter().map(|s| Some(s.to_string())).collect();
        assert_eq!(text(a, Tz::UTC), want);
    }

    #[test]
    fn booleans_decimals_and_nulls() {
        let b = Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]));
        assert_eq!(text(b, Tz::UTC), strings(&[Some("t"), Some("f"), None]));
        let d = Decimal128Array::from(vec![Some(150), Some(-5), None])
            .with_precision_and_scale(18, 2)
            .unwrap();
        assert_eq!(
            text(Arc::new(d), Tz::UTC),
            strings(&[Some("1.50"), Some("-0.05"), None])
        );
        let s = Arc::new(StringArray::from(vec![Some(""), None]));
        assert_eq!(text(s, Tz::UTC), strings(&[Some(""), None]));
    }

    #[test]
    fn decimals_read_as_arrow_writes_them_at_every_scale() {
        let values = [
            0,
            1,
            -1,
            9,
            -10,
            123_456_789,
            -5_000_000,
            10i128.pow(37),
            -(10i128.pow(38) - 1),
            10i128.pow(38) - 1,
        ];
        for scale in [0, 1, 6, 18, 37, 38] {
            let d = Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(38, scale)
                .unwrap();
            let want: Vec<_> = (0..d.len()).map(|i| Some(d.value_as_string(i))).collect();
            assert_eq!(text(Arc::new(d), Tz::UTC), want, "scale {scale}");
        }
    }

    #[test]
    fn integer_calendar_agrees_with_chrono_on_every_four_digit_year() {
        // Every 7th day and a changing time of day from year 0 to 9999, and the edges.
        let days = (FOUR_DIGIT_YEARS.start..FOUR_DIGIT_YEARS.end)
            .step_by(7)
            .chain([FOUR_DIGIT_YEARS.start, FOUR_DIGIT_YEARS.end - 1, -1, 0, 1]);
        for (i, day) in days.enumerate() {
            let us = day * MICROS_PER_DAY + (i as i64 * 7_777_777_777) % MICROS_PER_DAY;
            let (mut fast, mut slow) = (String::new(), String::new());
            assert!(write_local(us, &mut fast));
            write_naive(
                DateTime::from_timestamp_micros(us).unwrap().naive_utc(),
                &mut slow,
            );
            assert_eq!(fast, slow, "{us} µs");
            let (mut fast, mut slow) = (String::new(), String::new());
            write_date(day as i32, &mut fast);
            write_ymd(
                DateTime::from_timestamp_micros(us).unwrap().date_naive(),
                &mut slow,
            );
            assert_eq!(fast, slow, "day {day}");
        }
    }

    #[test]
    fn timestamps_trim_zeros_and_follow_the_session_zone() {
        // 2026-03-29 00:30:00.5 UTC, the night Europe/Amsterdam moves to summer time.
        let us = 1_774_744_200_500_000;
        let naive = Arc::new(TimestampMicrosecondArray::from(vec![us, us - 500_000]));
        assert_eq!(
            text(naive, Tz::UTC),
            strings(&[Some("2026-03-29 00:30:00.5"), Some("2026-03-29 00:30:00")])
        );
        let aware = Arc::new(
            TimestampMicrosecondArray::from(vec![us - 500_000, us + 3_600_000_000])
                .with_timezone("UTC"),
        );
        assert_eq!(
            text(aware.clone(), Tz::UTC),
            strings(&[
                Some("2026-03-29 00:30:00+00"),
                Some("2026-03-29 01:30:00.5+00")
            ])
        );
        assert_eq!(
            text(aware, Tz::Europe__Amsterdam),
            strings(&[
                Some("2026-03-29 01:30:00+01"),
                Some("2026-03-29 03:30:00.5+02")
            ])
        );
        let india = Arc::new(TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC"));
        assert_eq!(
            text(india, Tz::Asia__Kolkata),
            strings(&[Some("1970-01-01 05:30:00+05:30")])
        );
    }

    #[test]
    fn durations_as_intervals() {
        let d = Arc::new(DurationSecondArray::from(vec![180, 90061, 0, -5]));
        assert_eq!(
            text(d, Tz::UTC),
            strings(&[
                Some("00:03:00"),
                Some("25:01:01"),
                Some("00:00:00"),
                Some("-00:00:05")
            ])
        );
    }
}

#[cfg(test)]
mod array_tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, ListBuilder, StringBuilder};
    use chrono_tz::Tz;

    use super::column_text;

    #[test]
    fn lists_as_postgresql_arrays() {
        let mut b = ListBuilder::new(StringBuilder::new());
        b.values().append_value("a");
        b.values().append_value("b c");
        b.values().append_null();
        b.values().append_value("");
        b.values().append_value("q\"\\");
        b.append(true);
        b.append(true);
        b.append(false);
        let a: ArrayRef = Arc::new(b.finish());
        assert_eq!(
            column_text(&a, Tz::UTC).expect("text"),
            vec![
                Some(r#"{a,"b c",NULL,"","q\"\\"}"#.to_owned()),
                Some("{}".to_owned()),
                None
            ]
        );
    }
}
