//! Parsing one input field into a typed value for its column, with the checks the column
//! declares (enum values, number/currency format, numeric range). A field that fails gets a
//! reason a person can act on: which column, what was found, what was expected.

use std::borrow::Cow;

use arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use chrono::NaiveDate;

use crate::schema::{Check, ColumnDef, ColumnType, DECIMAL_SCALE};

/// A parsed field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// No value.
    Null,
    /// Text (borrowed from the input where possible).
    Text(Cow<'a, str>),
    /// An integer.
    Int(i64),
    /// A decimal, scaled by 10^[`DECIMAL_SCALE`].
    Decimal(i128),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// Days since the Unix epoch.
    Date(i32),
    /// A boolean.
    Bool(bool),
}

/// Parses `raw` for `column`. Empty means null; `Err` carries the reason. A value from the
/// column's list of values borrows the list's spelling.
pub fn parse<'a>(column: &'a ColumnDef, raw: &'a str) -> Result<Value<'a>, String> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    let name = &column.name;
    let value = match column.ty {
        ColumnType::Text => Value::Text(parse_text(column, raw)?),
        ColumnType::Int | ColumnType::Bigint => {
            let v: i64 = raw
                .trim()
                .parse()
                .map_err(|_| format!("{name}: \"{raw}\" is not a whole number"))?;
            let (lo, hi) = match column.ty {
                ColumnType::Int => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            let lo = column.min.unwrap_or(lo).max(lo);
            let hi = column.max.unwrap_or(hi).min(hi);
            if v < lo || v > hi {
                return Err(range_error(name, raw, lo, hi, column));
            }
            Value::Int(v)
        }
        ColumnType::Decimal => {
            let v = parse_decimal(raw.trim())
                .ok_or_else(|| format!("{name}: \"{raw}\" is not a decimal with at most {DECIMAL_SCALE} decimal places"))?;
            if let Some(min) = column.min
                && v < i128::from(min) * SCALE {
                    return Err(format!("{name}: {raw} is below the minimum {min}"));
                }
            Value::Decimal(v)
        }
        ColumnType::Timestamptz => Value::Timestamp(parse_timestamp(raw).ok_or_else(|| {
            format!(
                "{name}: \"{raw}\" is not a timestamp (ISO 8601 with offset, or YYYY-MM-DD HH:MM:SS in UTC)"
            )
        })?),
        ColumnType::Date => {
            let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| format!("{name}: \"{raw}\" is not a date (YYYY-MM-DD)"))?;
            Value::Date(days_since_epoch(d))
        }
        ColumnType::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "1" | "yes" => Value::Bool(true),
            "f" | "false" | "0" | "no" => Value::Bool(false),
            _ => return Err(format!("{name}: \"{raw}\" is not a boolean")),
        },
    };
    Ok(value)
}

fn range_error(name: &str, raw: &str, lo: i64, hi: i64, column: &ColumnDef) -> String {
    match (column.min, column.max) {
        (Some(0), None) => format!("{name}: {raw} is negative"),
        (Some(min), None) => format!("{name}: {raw} is below the minimum {min}"),
        _ => format!("{name}: {raw} is outside {lo}..={hi}"),
    }
}

/// 10^[`DECIMAL_SCALE`].
pub const SCALE: i128 = 1_000_000;

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Days since 1970-01-01.
pub fn days_since_epoch(d: NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - EPOCH_DAYS_FROM_CE
}

/// Microseconds since the epoch for an ISO 8601 timestamp; one without an offset is UTC.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    // A bare date is a day, not an instant: refuse it rather than guess midnight.
    if raw.len() < 16 {
        return None;
    }
    if let Some(us) = parse_plain_timestamp(raw.as_bytes()) {
        return Some(us);
    }
    string_to_timestamp_nanos(raw)
        .ok()
        .map(|n| n.div_euclid(1000))
}

/// The common shapes `YYYY-MM-DDTHH:MM:SS[Z]` and `YYYY-MM-DD HH:MM:SS` (UTC), read without
/// the general parser; `None` for anything else (invalid dates, leap seconds, years near the
/// ends of its range),
/// which the general parser then decides, so the two agree on every input.
fn parse_plain_timestamp(b: &[u8]) -> Option<i64> {
    let shape_ok = match b.len() {
        19 => true,
        20 => b[19] == b'Z',
        _ => false,
    };
    if !shape_ok
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // The general parser counts in i64 nanoseconds (years 1677 to 2262): stay well inside.
    if hour > 23 || minute > 59 || second > 59 || !(1678..=2261).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let seconds =
        i64::from(days_since_epoch(date)) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds * 1_000_000)
}

/// Parses a plain decimal (`-12.5`, `0.0123`) exactly into units of 10^-6. More than six
/// significant decimal places is refused, not rounded: ingest never alters a value.
pub fn parse_decimal(s: &str) -> Option<i128> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) || int.len() > 12 {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > DECIMAL_SCALE as usize {
        return None;
    }
    let mut v: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        v = v * 10 + i128::from(b - b'0');
    }
    v *= 10i128.pow(DECIMAL_SCALE as u32 - frac.len() as u32);
    Some(if neg { -v } else { v })
}

fn parse_text<'a>(column: &'a ColumnDef, raw: &'a str) -> Result<Cow<'a, str>, String> {
    let name = &column.name;
    if !column.values.is_empty() {
        return column
            .values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(raw.trim()))
            .map(|v| Cow::Borrowed(v.as_str()))
            .ok_or_else(|| {
                format!(
                    "{name}: unknown value \"{raw}\" (expected one of {})",
                    column.values.join(", ")
                )
            });
    }
    match column.check {
        Some(Check::Number) if !is_number(raw) => Err(format!(
            "{name}: \"{raw}\" is not a phone number, extension or SIP URI"
        )),
        Some(Check::Digits) if !raw.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{name}: \"{raw}\" must be digits only"))
        }
        Some(Check::Currency)
            if !(raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase())) =>
        {
            Err(format!(
                "{name}: \"{raw}\" is not an ISO 4217 currency code (e.g. EUR)"
            ))
        }
        _ => Ok(Cow::Borrowed(raw)),
    }
}

/// Caller-id placeholders carriers send instead of a number.
const WITHHELD: [&str; 5] = [
    "anonymous",
    "restricted",
    "private",
    "unknown",
    "unavailable",
];

/// A number as dialled (`+31 20 123 4567`, `0612345678`, `201`, `*43#`), a SIP or tel URI, or
/// a withheld-caller placeholder. Letters, other punctuation and blanks are refused.
pub fn is_number(s: &str) -> bool {
    // A URI or a placeholder starts with a letter: a leading digit or `+` is a dialled number,
    // checked without lower-casing a copy.
    if s.starts_with(|c: char| c.is_ascii_digit() || c == '+') {
        return dialled(s);
    }
    let lower = s.to_ascii_lowercase();
    if ["sip:", "sips:", "tel:"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return s.len() > 4 && !s.contains(char::is_whitespace);
    }
    if WITHHELD.contains(&lower.as_str()) {
        return true;
    }
    dialled(s)
}

/// Digits with dialling punctuation, after an optional `+`, with at least one digit.
fn dialled(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    body.bytes().any(|b| b.is_ascii_digit())
        && body.bytes().all(|b| {
            b.is_ascii_digit() || matches!(b, b'*' | b'#' | b' ' | b'-' | b'(' | b')' | b'.')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    fn col(name: &str) -> &'static ColumnDef {
        schema::table("cdrs").unwrap().column(name).unwrap()
    }

    #[test]
    fn decimals_are_exact_and_never_rounded() {
        assert_eq!(parse_decimal("0.0123"), Some(12_300));
        assert_eq!(parse_decimal("-1.5"), Some(-1_500_000));
        assert_eq!(parse_decimal("2"), Some(2_000_000));
        assert_eq!(parse_decimal(".5"), Some(500_000));
        assert_eq!(parse_decimal("0.1234560"), Some(123_456));
        assert_eq!(parse_decimal("0.1234567"), None);
        assert_eq!(parse_decimal("1e3"), None);
        assert_eq!(parse_decimal("."), None);
    }

    #[test]
    fn timestamps_with_and_without_offset() {
        let utc = parse_timestamp("2020-01-01 11:22:33").unwrap();
        assert_eq!(parse_timestamp("2020-01-01T11:22:33Z"), Some(utc));
        assert_eq!(parse_timestamp("2020-01-01T12:22:33+01:00"), Some(utc));
        assert_eq!(utc, 1_577_877_753_000_000);
        assert_eq!(parse_timestamp("2020-13-01 11:22:33"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2020-01-01"), None);
    }

    /// The fast path for the common shapes gives what the general parser gives, and leaves
    /// everything else to it.
    #[test]
    fn plain_timestamps_agree_with_the_general_parser() {
        let general = |s: &str| {
            string_to_timestamp_nanos(s)
                .ok()
                .map(|n| n.div_euclid(1000))
        };
        let cases = [
            "2026-11-02T10:00:00Z",
            "2026-11-02 10:00:00",
            "2026-11-02T10:00:00",
            "1969-12-31T23:59:59Z",
            "0001-01-01 00:00:00",
            "9999-12-31T23:59:59Z",
            "2024-02-29 12:00:00",
            "2023-02-29 12:00:00",
            "2026-11-31 10:00:00",
            "2026-13-01 10:00:00",
            "2026-00-10 10:00:00",
            "2026-11-02 24:00:00",
            "2026-11-02 23:60:00",
            "2016-12-31T23:59:60Z",
            "2026-11-02 1a:00:00",
            "2026/11/02 10:00:00",
            "2026-11-02 10:00:00X",
            "1677-01-01 00:00:00",
            "2262-12-31 00:00:00",
            "1678-01-01 00:00:00",
            "2261-12-31T23:59:59Z",
        ];
        for case in cases {
            if let Some(fast) = parse_plain_timestamp(case.as_bytes()) {
                assert_eq!(Some(fast), general(case), "{case}");
            }
            assert_eq!(parse_timestamp(case), general(case), "{case}");
        }
        assert!(parse_plain_timestamp(b"2026-11-02T10:00:00Z").is_some());
        assert!(parse_plain_timestamp(b"2026-11-31 10:00:00").is_none());
    }

    #[test]
    fn columns_check_their_values() {
        assert_eq!(
            parse(col("direction"), "Inbound").unwrap(),
            Value::Text("inbound".into())
        );
        let err = parse(col("direction"), "sideways").unwrap_err();
        assert!(err.contains("unknown value \"sideways\""), "{err}");
        assert!(
            parse(col("duration_s"), "-3")
                .unwrap_err()
                .contains("negative")
        );
        assert!(parse(col("source"), "call me").is_err());
        assert!(parse(col("source"), "+31 20 123 4567").is_ok());
        assert!(parse(col("destination"), "sip:4412@pbx.example.net").is_ok());
        assert!(parse(col("source"), "Anonymous").is_ok());
        assert!(parse(col("currency"), "usd").is_err());
        assert_eq!(parse(col("agent"), "").unwrap(), Value::Null);
    }
}
