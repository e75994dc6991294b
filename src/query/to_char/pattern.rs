//! PostgreSQL's date/time template patterns (the table "Template Patterns for Date/Time
//! Formatting" of its manual): parsed once into [`Piece`]s, then written for each value.
//!
//! Keywords match longest first and case-sensitively, as PostgreSQL's table lists them (`YYYY`
//! and `yyyy` alike, `Month`/`MONTH`/`month` each with its own capitals); `FM` before a keyword
//! drops its padding, `TH`/`th` after a number appends its ordinal suffix, `FX` and `TM` are
//! accepted and do nothing here; text in double quotes is copied, a backslash before a double
//! quote makes it literal, and any other character is copied as it is.

use std::fmt::Write;

use chrono::{Datelike, NaiveDateTime, Timelike};

/// How a name is capitalised: `MONTH`, `Month` or `month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Upper,
    Title,
    Lower,
}

/// A field of a date and time, as a keyword names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `Y,YYY`.
    YearWithComma,
    /// `YYYY`, `YYY`, `YY`, `Y`: the year's last digits (all of them for 4).
    Year(u8),
    /// `IYYY`, `IYY`, `IY`, `I`: the ISO 8601 week-numbering year's.
    IsoYear(u8),
    /// `MONTH`, `Month`, `month`: the name, blank-padded to 9.
    MonthName(Case),
    /// `MON`, `Mon`, `mon`.
    MonthAbbr(Case),
    /// `MM`.
    Month,
    /// `DAY`, `Day`, `day`: the name, blank-padded to 9.
    DayName(Case),
    /// `DY`, `Dy`, `dy`.
    DayAbbr(Case),
    /// `DDD`.
    DayOfYear,
    /// `IDDD`: day of the ISO 8601 week-numbering year.
    IsoDayOfYear,
    /// `DD`.
    DayOfMonth,
    /// `D`: Sunday 1 to Saturday 7.
    DayOfWeek,
    /// `ID`: Monday 1 to Sunday 7.
    IsoDayOfWeek,
    /// `W`: week of the month, the first starting on its first day.
    WeekOfMonth,
    /// `WW`: week of the year, the first starting on 1 January.
    WeekOfYear,
    /// `IW`: ISO 8601 week.
    IsoWeek,
    /// `CC`: century.
    Century,
    /// `Q`: quarter.
    Quarter,
    /// `J`: Julian Day.
    Julian,
    /// `HH24`.
    Hour24,
    /// `HH`, `HH12`.
    Hour12,
    /// `MI`.
    Minute,
    /// `SS`.
    Second,
    /// `MS`: milliseconds.
    Millis,
    /// `US`: microseconds.
    Micros,
    /// `FF1`…`FF6`: the first digits of the fraction of a second.
    Fraction(u8),
    /// `SSSS`, `SSSSS`: seconds past midnight.
    SecondsOfDay,
    /// `AM`/`PM` (`upper`), with periods (`A.M.`) when `dots`.
    Meridiem { upper: bool, dots: bool },
    /// `AD`/`BC` likewise.
    Era { upper: bool, dots: bool },
    /// `RM`, `rm`: the month in Roman numerals, blank-padded to 4.
    Roman { upper: bool },
    /// `TZ`, `tz`: the zone's abbreviation.
    ZoneAbbr { upper: bool },
    /// `TZH`: the offset's signed hours.
    ZoneHours,
    /// `TZM`: the offset's minutes.
    ZoneMinutes,
    /// `OF`: the offset, `+01` or `+05:30`.
    Offset,
}

/// A part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text copied as it is.
    Literal(String),
    /// A field, without padding when `fill_mode` (`FM`), with an ordinal suffix when
    /// `ordinal` (`TH` upper, `th` lower).
    Field {
        field: Field,
        fill_mode: bool,
        ordinal: Option<bool>,
    },
}

/// The keywords, each with its field; longer ones before the shorter ones they begin with.
const KEYWORDS: &[(&str, Field)] = &[
    ("Y,YYY", Field::YearWithComma),
    ("y,yyy", Field::YearWithComma),
    ("YYYY", Field::Year(4)),
    ("yyyy", Field::Year(4)),
    ("YYY", Field::Year(3)),
    ("yyy", Field::Year(3)),
    ("YY", Field::Year(2)),
    ("yy", Field::Year(2)),
    ("Y", Field::Year(1)),
    ("y", Field::Year(1)),
    ("IYYY", Field::IsoYear(4)),
    ("iyyy", Field::IsoYear(4)),
    ("IYY", Field::IsoYear(3)),
    ("iyy", Field::IsoYear(3)),
    ("IDDD", Field::IsoDayOfYear),
    ("iddd", Field::IsoDayOfYear),
    ("ID", Field::IsoDayOfWeek),
    ("id", Field::IsoDayOfWeek),
    ("IW", Field::IsoWeek),
    ("iw", Field::IsoWeek),
    ("IY", Field::IsoYear(2)),
    ("iy", Field::IsoYear(2)),
    ("I", Field::IsoYear(1)),
    ("i", Field::IsoYear(1)),
    ("MONTH", Field::MonthName(Case::Upper)),
    ("Month", Field::MonthName(Case::Title)),
    ("month", Field::MonthName(Case::Lower)),
    ("MON", Field::MonthAbbr(Case::Upper)),
    ("Mon", Field::MonthAbbr(Case::Title)),
    ("mon", Field::MonthAbbr(Case::Lower)),
    ("MM", Field::Month),
    ("mm", Field::Month),
    ("MI", Field::Minute),
    ("mi", Field::Minute),
    ("MS", Field::Millis),
    ("ms", Field::Millis),
    ("DAY", Field::DayName(Case::Upper)),
    ("Day", Field::DayName(Case::Title)),
    ("day", Field::DayName(Case::Lower)),
    ("DY", Field::DayAbbr(Case::Upper)),
    ("Dy", Field::DayAbbr(Case::Title)),
    ("dy", Field::DayAbbr(Case::Lower)),
    ("DDD", Field::DayOfYear),
    ("ddd", Field::DayOfYear),
    ("DD", Field::DayOfMonth),
    ("dd", Field::DayOfMonth),
    ("D", Field::DayOfWeek),
    ("d", Field::DayOfWeek),
    ("WW", Field::WeekOfYear),
    ("ww", Field::WeekOfYear),
    ("W", Field::WeekOfMonth),
    ("w", Field::WeekOfMonth),
    ("CC", Field::Century),
    ("cc", Field::Century),
    ("Q", Field::Quarter),
    ("q", Field::Quarter),
    ("J", Field::Julian),
    ("j", Field::Julian),
    ("HH24", Field::Hour24),
    ("hh24", Field::Hour24),
    ("HH12", Field::Hour12),
    ("hh12", Field::Hour12),
    ("HH", Field::Hour12),
    ("hh", Field::Hour12),
    ("SSSSS", Field::SecondsOfDay),
    ("sssss", Field::SecondsOfDay),
    ("SSSS", Field::SecondsOfDay),
    ("ssss", Field::SecondsOfDay),
    ("SS", Field::Second),
    ("ss", Field::Second),
    ("US", Field::Micros),
    ("us", Field::Micros),
    ("FF1", Field::Fraction(1)),
    ("FF2", Field::Fraction(2)),
    ("FF3", Field::Fraction(3)),
    ("FF4", Field::Fraction(4)),
    ("FF5", Field::Fraction(5)),
    ("FF6", Field::Fraction(6)),
    ("ff1", Field::Fraction(1)),
    ("ff2", Field::Fraction(2)),
    ("ff3", Field::Fraction(3)),
    ("ff4", Field::Fraction(4)),
    ("ff5", Field::Fraction(5)),
    ("ff6", Field::Fraction(6)),
    (
        "A.M.",
        Field::Meridiem {
            upper: true,
            dots: true,
        },
    ),
    (
        "a.m.",
        Field::Meridiem {
            upper: false,
            dots: true,
        },
    ),
    (
        "P.M.",
        Field::Meridiem {
            upper: true,
            dots: true,
        },
    ),
    (
        "p.m.",
        Field::Meridiem {
            upper: false,
            dots: true,
        },
    ),
    (
        "AM",
        Field::Meridiem {
            upper: true,
            dots: false,
        },
    ),
    (
        "am",
        Field::Meridiem {
            upper: false,
            dots: false,
        },
    ),
    (
        "PM",
        Field::Meridiem {
            upper: true,
            dots: false,
        },
    ),
    (
        "pm",
        Field::Meridiem {
            upper: false,
            dots: false,
        },
    ),
    (
        "A.D.",
        Field::Era {
            upper: true,
            dots: true,
        },
    ),
    (
        "a.d.",
        Field::Era {
            upper: false,
            dots: true,
        },
    ),
    (
        "B.C.",
        Field::Era {
            upper: true,
            dots: true,
        },
    ),
    (
        "b.c.",
        Field::Era {
            upper: false,
            dots: true,
        },
    ),
    (
        "AD",
        Field::Era {
            upper: true,
            dots: false,
        },
    ),
    (
        "ad",
        Field::Era {
            upper: false,
            dots: false,
        },
    ),
    (
        "BC",
        Field::Era {
            upper: true,
            dots: false,
        },
    ),
    (
        "bc",
        Field::Era {
            upper: false,
            dots: false,
        },
    ),
    ("RM", Field::Roman { upper: true }),
    ("rm", Field::Roman { upper: false }),
    ("TZH", Field::ZoneHours),
    ("tzh", Field::ZoneHours),
    ("TZM", Field::ZoneMinutes),
    ("tzm", Field::ZoneMinutes),
    ("TZ", Field::ZoneAbbr { upper: true }),
    ("tz", Field::ZoneAbbr { upper: false }),
    ("OF", Field::Offset),
    ("of", Field::Offset),
];

/// Modifiers before a keyword that change nothing here (`FX` fixed format, `TM` translation).
const IGNORED_PREFIXES: &[&str] = &["FX", "fx", "TM", "tm"];

/// Parses `pattern` into its pieces.
pub fn parse(pattern: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            // Quoted text up to the next unescaped quote (or the end).
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            literal.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => literal.push(c),
                }
            }
            rest = &quoted[end.min(quoted.len())..];
            continue;
        }
        if let Some(escaped) = rest.strip_prefix("\\\"") {
            literal.push('"');
            rest = escaped;
            continue;
        }
        if let Some(after) = IGNORED_PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
            rest = after;
            continue;
        }
        let (fill_mode, after_fm) = match rest.strip_prefix("FM").or(rest.strip_prefix("fm")) {
            Some(after) => (true, after),
            None => (false, rest),
        };
        match KEYWORDS
            .iter()
            .find(|(keyword, _)| after_fm.starts_with(keyword))
        {
            Some((keyword, field)) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                rest = &after_fm[keyword.len()..];
                let ordinal = if let Some(after) = rest.strip_prefix("TH") {
                    rest = after;
                    Some(true)
                } else if let Some(after) = rest.strip_prefix("th") {
                    rest = after;
                    Some(false)
                } else {
                    None
                };
                pieces.push(Piece::Field {
                    field: *field,
                    fill_mode,
                    ordinal,
                });
            }
            None => {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    literal.push(c);
                }
                rest = chars.as_str();
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

/// A value to write: its wall-clock date and time, and for an instant its zone's offset in
/// seconds east of UTC and abbreviation.
pub struct Value<'a> {
    /// Date and time, local to the zone when there is one.
    pub local: NaiveDateTime,
    /// Offset and abbreviation of the zone, for an instant.
    pub zone: Option<(i32, &'a str)>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const ROMAN: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

/// Julian Day of 0000-12-31 (chrono's day 0 from the common era).
const JULIAN_DAY_OF_CE_0: i64 = 1_721_425;

/// Writes `value` by `pieces` to `out`.
pub fn write(pieces: &[Piece], value: &Value<'_>, out: &mut String) {
    let _ = write_each(pieces, out, |field, fill_mode, ordinal, out| {
        write_field(field, fill_mode, ordinal, value, out);
        Ok::<(), std::convert::Infallible>(())
    });
}

/// Copies the literal pieces to `out` and has `field` write each field piece (its field, fill
/// mode and ordinal suffix); stops at `field`'s first error.
pub(super) fn write_each<E>(
    pieces: &[Piece],
    out: &mut String,
    mut field: impl FnMut(Field, bool, Option<bool>, &mut String) -> Result<(), E>,
) -> Result<(), E> {
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Field {
                field: f,
                fill_mode,
                ordinal,
            } => field(*f, *fill_mode, *ordinal, out)?,
        }
    }
    Ok(())
}

/// A number of at least `width` digits (`width` 0 in fill mode: no padding).
fn number(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        let _ = write!(out, "-{:0width$}", -n);
    } else {
        let _ = write!(out, "{n:0width$}");
    }
}

/// A name in `case`, blank-padded to `pad` characters.
pub(super) fn name(out: &mut String, text: &str, case: Case, pad: usize) {
    let start = out.len();
    match case {
        Case::Upper => out.push_str(&text.to_uppercase()),
        Case::Title => out.push_str(text),
        Case::Lower => out.push_str(&text.to_lowercase()),
    }
    let written = out.len() - start;
    out.extend(std::iter::repeat_n(' ', pad.saturating_sub(written)));
}

/// The English ordinal suffix of `n`.
fn suffix(n: i64) -> &'static str {
    match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    }
}

/// The last `digits` digits of `year` (all of them for 4 and more).
pub(super) fn year_digits(year: i64, digits: u8) -> (i64, usize) {
    match digits {
        1 => (year % 10, 1),
        2 => (year % 100, 2),
        3 => (year % 1000, 3),
        _ => (year, 4),
    }
}

fn write_field(
    field: Field,
    fill_mode: bool,
    ordinal: Option<bool>,
    value: &Value<'_>,
    out: &mut String,
) {
    let t = &value.local;
    let pad = |width: usize| if fill_mode { 0 } else { width };
    let iso = t.iso_week();
    let micros = i64::from(t.nanosecond() / 1_000);
    let numeric = |n: i64, width: usize| (n, pad(width));
    let (n, width) = match field {
        Field::YearWithComma => {
            let year = i64::from(t.year());
            let _ = write!(out, "{},{:03}", year / 1000, year % 1000);
            return;
        }
        Field::Year(d) => {
            let (n, w) = year_digits(i64::from(t.year()), d);
            numeric(n, w)
        }
        Field::IsoYear(d) => {
            let (n, w) = year_digits(i64::from(iso.year()), d);
            numeric(n, w)
        }
        Field::MonthName(case) => {
            let month = MONTHS[t.month0() as usize];
            return name(out, month, case, pad(9));
        }
        Field::MonthAbbr(case) => return name(out, &MONTHS[t.month0() as usize][..3], case, 0),
        Field::Month => numeric(i64::from(t.month()), 2),
        Field::DayName(case) => {
            let day = DAYS[t.weekday().num_days_from_sunday() as usize];
            return name(out, day, case, pad(9));
        }
        Field::DayAbbr(case) => {
            let day = DAYS[t.weekday().num_days_from_sunday() as usize];
            return name(out, &day[..3], case, 0);
        }
        Field::DayOfYear => numeric(i64::from(t.ordinal()), 3),
        Field::IsoDayOfYear => numeric(
            i64::from((iso.week() - 1) * 7 + t.weekday().number_from_monday()),
            3,
        ),
        Field::DayOfMonth => numeric(i64::from(t.day()), 2),
        Field::DayOfWeek => numeric(i64::from(t.weekday().num_days_from_sunday() + 1), 1),
        Field::IsoDayOfWeek => numeric(i64::from(t.weekday().number_from_monday()), 1),
        Field::WeekOfMonth => numeric(i64::from((t.day() - 1) / 7 + 1), 1),
        Field::WeekOfYear => numeric(i64::from((t.ordinal() - 1) / 7 + 1), 2),
        Field::IsoWeek => numeric(i64::from(iso.week()), 2),
        Field::Century => {
            let year = i64::from(t.year());
            let century = if year > 0 {
                (year + 99) / 100
            } else {
                (year - 99) / 100
            };
            numeric(century, 2)
        }
        Field::Quarter => numeric(i64::from(t.month0() / 3 + 1), 1),
        Field::Julian => numeric(i64::from(t.num_days_from_ce()) + JULIAN_DAY_OF_CE_0, 0),
        Field::Hour24 => numeric(i64::from(t.hour()), 2),
        Field::Hour12 => numeric(i64::from(t.hour12().1), 2),
        Field::Minute => numeric(i64::from(t.minute()), 2),
        Field::Second => numeric(i64::from(t.second()), 2),
        Field::Millis => numeric(micros / 1_000, 3),
        Field::Micros => numeric(micros, 6),
        Field::Fraction(digits) => {
            let n = micros / 10_i64.pow(6 - u32::from(digits));
            numeric(n, usize::from(digits))
        }
        Field::SecondsOfDay => numeric(i64::from(t.num_seconds_from_midnight()), 0),
        Field::Meridiem { upper, dots } => {
            let pm = t.hour() >= 12;
            let text = match (pm, dots) {
                (false, false) => "AM",
                (true, false) => "PM",
                (false, true) => "A.M.",
                (true, true) => "P.M.",
            };
            return name(out, text, if upper { Case::Upper } else { Case::Lower }, 0);
        }
        Field::Era { upper, dots } => {
            let text = match (t.year() > 0, dots) {
                (true, false) => "AD",
                (false, false) => "BC",
                (true, true) => "A.D.",
                (false, true) => "B.C.",
            };
            return name(out, text, if upper { Case::Upper } else { Case::Lower }, 0);
        }
        Field::Roman { upper } => {
            let roman = ROMAN[t.month0() as usize];
            let case = if upper { Case::Upper } else { Case::Lower };
            return name(out, roman, case, pad(4));
        }
        Field::ZoneAbbr { upper } => {
            if let Some((_, abbr)) = value.zone {
                let case = if upper { Case::Upper } else { Case::Lower };
                name(out, abbr, case, 0);
            }
            return;
        }
        Field::ZoneHours => {
            let offset = value.zone.map_or(0, |(o, _)| o);
            let sign = if offset < 0 { '-' } else { '+' };
            let _ = write!(out, "{sign}{:02}", offset.abs() / 3600);
            return;
        }
        Field::ZoneMinutes => {
            let offset = value.zone.map_or(0, |(o, _)| o);
            let _ = write!(out, "{:02}", offset.abs() % 3600 / 60);
            return;
        }
        Field::Offset => {
            let offset = value.zone.map_or(0, |(o, _)| o);
            let sign = if offset < 0 { '-' } else { '+' };
            let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
            let _ = write!(out, "{sign}{hours:02}");
            if minutes != 0 {
                let _ = write!(out, ":{minutes:02}");
            }
            return;
        }
    };
    ordinal_number(out, n, width, ordinal);
}

/// `n` as [`number`] writes it, then its ordinal suffix when `ordinal` asks for one (`TH`
/// upper case, `th` lower).
pub(super) fn ordinal_number(out: &mut String, n: i64, width: usize, ordinal: Option<bool>) {
    number(out, n, width);
    if let Some(upper) = ordinal {
        let text = suffix(n);
        out.push_str(&if upper {
            text.to_uppercase()
        } else {
            text.to_owned()
        });
    }
}
