//! Reading a date and time out of text by a PostgreSQL template pattern (the pieces `to_char`
//! writes by, [`crate::query::to_char`]), as PostgreSQL's `to_timestamp` and `to_date` read:
//! blanks before a field are skipped; a separator in the pattern matches one separator in the
//! text (after any blanks) or nothing; a letter or digit of quoted text skips one character; a
//! number reads up to its width when another field follows at once, else all its digits; names
//! of months and days match in any case; a year of fewer than four digits read by `YYY`, `YY` or
//! `Y` is the one nearest 2020; text after the last field is ignored.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::query::to_char::pattern::{Field, Piece};

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// What the text gave.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields {
    year: Option<(i32, u8)>,
    month: Option<u32>,
    day: Option<u32>,
    day_of_year: Option<u32>,
    hour: Option<u32>,
    twelve_hour: bool,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    micros: Option<u32>,
    /// The offset written in the text (`TZH`, `TZM`), seconds east of UTC.
    pub offset: Option<i32>,
}

/// Reads `text` by `pieces`; the error says what does not fit.
pub fn read(pieces: &[Piece], text: &str) -> Result<Fields, String> {
    let mut fields = Fields::default();
    let mut rest = text;
    let mut tz_negative = false;
    for (i, piece) in pieces.iter().enumerate() {
        let next_is_field = matches!(pieces.get(i + 1), Some(Piece::Field { .. }));
        match piece {
            Piece::Literal(literal) => {
                for c in literal.chars() {
                    rest = match c {
                        c if c.is_whitespace() => rest.trim_start(),
                        c if c.is_alphanumeric() => skip_char(rest),
                        _ => {
                            let after = rest.trim_start();
                            match after.chars().next() {
                                Some(s) if !s.is_alphanumeric() => &after[s.len_utf8()..],
                                _ => rest,
                            }
                        }
                    };
                }
            }
            Piece::Field { field, .. } => {
                rest = rest.trim_start();
                let digits = |width: usize| if next_is_field { width } else { usize::MAX };
                match field {
                    Field::Year(n) => {
                        let (v, read) = number(&mut rest, digits(usize::from(*n)), "year")?;
                        let n = if *n == 4 {
                            4
                        } else {
                            read.min(usize::from(*n)) as u8
                        };
                        fields.year = Some((i32::try_from(v).map_err(|_| range(text))?, n));
                    }
                    Field::Month => fields.month = Some(small(&mut rest, digits(2), "month")?),
                    Field::DayOfMonth => fields.day = Some(small(&mut rest, digits(2), "day")?),
                    Field::DayOfYear => {
                        fields.day_of_year = Some(small(&mut rest, digits(3), "day of year")?)
                    }
                    Field::Hour24 => fields.hour = Some(small(&mut rest, digits(2), "hour")?),
                    Field::Hour12 => {
                        fields.hour = Some(small(&mut rest, digits(2), "hour")?);
                        fields.twelve_hour = true;
                    }
                    Field::Minute => fields.minute = Some(small(&mut rest, digits(2), "minute")?),
                    Field::Second => fields.second = Some(small(&mut rest, digits(2), "second")?),
                    Field::Millis => fields.micros = Some(fraction(&mut rest, 3)?),
                    Field::Micros => fields.micros = Some(fraction(&mut rest, 6)?),
                    Field::Fraction(n) => {
                        fields.micros = Some(fraction(&mut rest, usize::from(*n))?)
                    }
                    Field::MonthName(_) | Field::MonthAbbr(_) => {
                        let month = name(&mut rest, &MONTHS).ok_or_else(|| {
                            format!("invalid value \"{}\" for \"MONTH\"", word(rest))
                        })?;
                        fields.month = Some(month + 1);
                    }
                    Field::DayName(_) | Field::DayAbbr(_) => {
                        name(&mut rest, &DAYS).ok_or_else(|| {
                            format!("invalid value \"{}\" for \"DAY\"", word(rest))
                        })?;
                    }
                    Field::Meridiem { .. } => {
                        let upper: String = rest.chars().take(4).collect();
                        let upper = upper.to_ascii_uppercase();
                        let (pm, len) = [
                            ("AM", false, 2),
                            ("PM", true, 2),
                            ("A.M.", false, 4),
                            ("P.M.", true, 4),
                        ]
                        .iter()
                        .rev()
                        .find(|(m, ..)| upper.starts_with(m))
                        .map(|(_, pm, len)| (*pm, *len))
                        .ok_or_else(|| format!("invalid value \"{}\" for \"AM\"", word(rest)))?;
                        fields.pm = Some(pm);
                        fields.twelve_hour = true;
                        rest = &rest[len..];
                    }
                    Field::ZoneHours => {
                        tz_negative = rest.starts_with('-');
                        rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
                        let hours = small(&mut rest, digits(2), "time zone hours")?;
                        let sign = if tz_negative { -1 } else { 1 };
                        fields.offset =
                            Some(sign * i32::try_from(hours * 3600).map_err(|_| range(text))?);
                    }
                    Field::ZoneMinutes => {
                        let minutes = small(&mut rest, digits(2), "time zone minutes")?;
                        let sign = if tz_negative { -1 } else { 1 };
                        let minutes =
                            sign * i32::try_from(minutes * 60).map_err(|_| range(text))?;
                        fields.offset = Some(fields.offset.unwrap_or(0) + minutes);
                    }
                    other => {
                        return Err(format!(
                            "the pattern field {other:?} is not read by to_timestamp"
                        ));
                    }
                }
            }
        }
    }
    Ok(fields)
}

impl Fields {
    /// The wall-clock time the fields give (a missing year is 1 BC, a missing month or day
    /// the first); `text` names the input in the error of a value out of range.
    pub fn local(&self, text: &str) -> Result<NaiveDateTime, String> {
        // PostgreSQL's adjust_partial_year_to_2020.
        let year = match self.year {
            None => 0,
            Some((y, n)) if n < 4 && y < 70 => 2000 + y,
            Some((y, n)) if n < 4 && y < 100 => 1900 + y,
            Some((y, n)) if n < 4 && y < 520 => 2000 + y,
            Some((y, n)) if n < 4 && y < 1000 => 1000 + y,
            Some((y, _)) => y,
        };
        let date = match self.day_of_year {
            Some(day) if self.month.is_none() && self.day.is_none() => {
                NaiveDate::from_yo_opt(year, day)
            }
            _ => NaiveDate::from_ymd_opt(year, self.month.unwrap_or(1), self.day.unwrap_or(1)),
        }
        .ok_or_else(|| range(text))?;
        let mut hour = self.hour.unwrap_or(0);
        if self.twelve_hour {
            if !(1..=12).contains(&hour) {
                return Err(format!("hour \"{hour}\" is invalid for the 12-hour clock"));
            }
            hour = match (hour, self.pm.unwrap_or(false)) {
                (12, false) => 0,
                (12, true) => 12,
                (h, pm) => h + if pm { 12 } else { 0 },
            };
        }
        let time = NaiveTime::from_hms_micro_opt(
            hour,
            self.minute.unwrap_or(0),
            self.second.unwrap_or(0),
            self.micros.unwrap_or(0),
        )
        .ok_or_else(|| range(text))?;
        Ok(date.and_time(time))
    }
}

/// PostgreSQL's error for a field out of range.
fn range(text: &str) -> String {
    format!("date/time field value out of range: \"{text}\"")
}

fn skip_char(rest: &str) -> &str {
    rest.chars().next().map_or(rest, |c| &rest[c.len_utf8()..])
}

/// The input's next word, for an error.
fn word(rest: &str) -> &str {
    rest.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
}

/// Up to `width` digits as a number, and how many were read; `what` names the field.
fn number(rest: &mut &str, width: usize, what: &str) -> Result<(i64, usize), String> {
    let end = rest
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() && *i < width)
        .count();
    if end == 0 {
        return Err(format!("invalid value \"{}\" for {what}", word(rest)));
    }
    let value = rest[..end]
        .parse()
        .map_err(|_| format!("value for {what} is out of range"))?;
    *rest = &rest[end..];
    Ok((value, end))
}

/// A number that fits a `u32`.
fn small(rest: &mut &str, width: usize, what: &str) -> Result<u32, String> {
    let (value, _) = number(rest, width, what)?;
    u32::try_from(value).map_err(|_| format!("value for {what} is out of range"))
}

/// Up to `width` digits of a fraction of a second, as microseconds.
fn fraction(rest: &mut &str, width: usize) -> Result<u32, String> {
    let (value, read) = number(rest, width, "fraction of a second")?;
    let scale = 10i64.pow(u32::try_from(6usize.saturating_sub(read)).unwrap_or(0));
    u32::try_from(value * scale).map_err(|_| "fraction of a second out of range".to_owned())
}

/// The index of the name in `names` the input starts with (full, else its first three letters),
/// in any case; the input moves past it.
fn name(rest: &mut &str, names: &[&str]) -> Option<u32> {
    // The longest name is 9 letters.
    let lower: String = rest.chars().take(9).collect::<String>().to_lowercase();
    for (i, full) in names.iter().enumerate() {
        let len = if lower.starts_with(full) {
            full.len()
        } else if lower.starts_with(&full[..3]) {
            3
        } else {
            continue;
        };
        *rest = &rest[len..];
        return u32::try_from(i).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::to_char::pattern::parse;

    fn local(text: &str, pattern: &str) -> Result<String, String> {
        let fields = read(&parse(pattern), text)?;
        Ok(fields
            .local(text)?
            .format("%Y-%m-%d %H:%M:%S%.f")
            .to_string())
    }

    #[test]
    fn reads_as_postgresql() {
        // Values from PostgreSQL 15.
        let cases = [
            (
                "2026-11-23 14:05:09",
                "YYYY-MM-DD HH24:MI:SS",
                "2026-11-23 14:05:09",
            ),
            ("23.11.2026", "DD.MM.YYYY", "2026-11-23 00:00:00"),
            ("2026/11/23", "YYYY-MM-DD", "2026-11-23 00:00:00"),
            ("20261123", "YYYYMMDD", "2026-11-23 00:00:00"),
            (
                "23 nov 2026 2:05 pm",
                "DD Mon YYYY HH12:MI AM",
                "2026-11-23 14:05:00",
            ),
            (
                "Monday, 23 November 2026",
                "Day, DD Month YYYY",
                "2026-11-23 00:00:00",
            ),
            ("2026-11-23x", "YYYY-MM-DD", "2026-11-23 00:00:00"),
            ("  2026 -  11-23", "YYYY-MM-DD", "2026-11-23 00:00:00"),
            ("26-11-23", "YY-MM-DD", "2026-11-23 00:00:00"),
            ("95-11-23", "YY-MM-DD", "1995-11-23 00:00:00"),
            (
                "2026-11-23 14:05:09.123456",
                "YYYY-MM-DD HH24:MI:SS.US",
                "2026-11-23 14:05:09.123456",
            ),
            (
                "2026-11-23 14:05:09.5",
                "YYYY-MM-DD HH24:MI:SS.MS",
                "2026-11-23 14:05:09.500",
            ),
            ("12:30 AM", "HH12:MI AM", "0000-01-01 00:30:00"),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(
                local(text, pattern).as_deref(),
                Ok(expected),
                "{text} / {pattern}"
            );
        }
    }

    #[test]
    fn offsets_and_errors() {
        let fields = read(
            &parse("YYYY-MM-DD HH24:MI TZH:TZM"),
            "2026-11-23 14:05 -05:30",
        );
        assert_eq!(fields.map(|f| f.offset), Ok(Some(-(5 * 3600 + 30 * 60))));
        assert!(local("2026-13-01", "YYYY-MM-DD").is_err());
        assert!(local("2026-02-30", "YYYY-MM-DD").is_err());
        assert!(local("2026-11-23 25:00", "YYYY-MM-DD HH24:MI").is_err());
        assert!(local("2026-11-23 14:05 PM", "YYYY-MM-DD HH24:MI AM").is_err());
        assert!(local("x", "YYYY").is_err());
        assert!(local("2026 Q4", "YYYY \"Q\"Q").is_err());
    }
}
