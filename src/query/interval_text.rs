//! Interval text as PostgreSQL reads it, in the forms Arrow's parser refuses: clock times
//! (`'01:30:00'`, `'00:00:30'`, `'-01:00'`, and `'1:30.5'`, minutes and seconds), days before a
//! clock time (`'1 day 02:03:04'`, the SQL standard's `'1 02:03:04'`), years and months
//! (`'1-2'`), ISO 8601 (`'P1Y2M3DT4H5M6S'`, `'PT90S'`), units stuck to their numbers
//! (`'1h30m'`), a bare number of seconds (`'30'`), and the `@`/`ago` of PostgreSQL's
//! own output style. [`normalized`] rewrites such a text as Arrow's `number unit` list (`'1
//! hour 30 minute 0 second'`), with the same value; both `interval '…'` literals
//! ([`super::syntax`]) and texts cast to intervals ([`super::literal_times`]) go through it.
//! Texts Arrow reads already (`'1 day 2 hours'`) are left alone. A text column or parameter
//! cast to an interval is read through [`udf`], which does the same to each value.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use arrow::compute::kernels::cast_utils::IntervalUnit;

use super::text_arg::Texts;

/// The name of [`udf`].
pub const NAME: &str = "interval_text";

/// `interval_text(text)`: each text [`normalized`] (or as it is), for a cast to an interval.
pub fn udf() -> Arc<ScalarUDF> {
    static UDF: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
        Arc::new(ScalarUDF::new_from_impl(IntervalText {
            signature: Signature::string(1, Volatility::Immutable),
        }))
    });
    Arc::clone(&UDF)
}

/// See [`udf`].
#[derive(Debug, PartialEq, Eq, Hash)]
struct IntervalText {
    signature: Signature,
}

impl ScalarUDFImpl for IntervalText {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let [text] = args.args.as_slice() else {
            return exec_err!("{NAME}(text) takes one argument");
        };
        let texts = Texts::of(text)?;
        let mut out = StringBuilder::with_capacity(args.number_rows, args.number_rows * 8);
        for r in 0..args.number_rows {
            match texts.get(r) {
                None => out.append_null(),
                Some(text) => match normalized(text) {
                    Some(arrow) => out.append_value(arrow),
                    None => out.append_value(text),
                },
            }
        }
        let out: ArrayRef = Arc::new(out.finish());
        super::udf::result(out, scalar)
    }
}

/// `word` when Arrow reads it as a unit (PostgreSQL's names and abbreviations: `hour`, `hrs`,
/// `m`, `mons`…).
fn unit(word: &str) -> Option<&str> {
    word.parse::<IntervalUnit>().is_ok().then_some(word)
}

/// Whether `text` is a (signed, maybe fractional) number.
fn is_number(text: &str) -> bool {
    let digits = text.trim_start_matches(['+', '-']);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
}

/// `text` in Arrow's interval syntax, when it is one of PostgreSQL's forms Arrow refuses
/// (`None`: leave it as it is, whether Arrow reads it or neither does).
pub fn normalized(text: &str) -> Option<String> {
    if arrow_reads(text) {
        return None;
    }
    let list: Vec<String> = parts(text)?
        .iter()
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect();
    Some(list.join(" "))
}

/// Whether Arrow reads `text` as it is: pairs of a number and a unit.
fn arrow_reads(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words
        .chunks(2)
        .all(|pair| matches!(pair, [number, name] if is_number(number) && unit(name).is_some()))
}

/// The (value, Arrow unit) pieces of `text`, if it is a form PostgreSQL reads.
fn parts(text: &str) -> Option<Vec<(String, &str)>> {
    let text = text.trim();
    if let Some(iso) = text.strip_prefix('P').or_else(|| text.strip_prefix('p')) {
        return iso_parts(iso);
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words.first() == Some(&"@") {
        words.remove(0);
    }
    let ago = words.last().is_some_and(|w| w.eq_ignore_ascii_case("ago"));
    if ago {
        words.pop();
    }
    if words.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let next_unit = words.get(i + 1).and_then(|w| unit(w));
        if word.contains(':') {
            out.extend(clock(word)?);
            i += 1;
        } else if let Some((years, months)) = year_month(word) {
            out.push((years, "year"));
            out.push((months, "month"));
            i += 1;
        } else if is_number(word) && next_unit.is_some() {
            out.push((word.to_owned(), next_unit?));
            i += 2;
        } else if is_number(word) {
            // A bare number: days before a clock time (the SQL standard's form), else seconds.
            let before_clock = words.get(i + 1).is_some_and(|w| w.contains(':'));
            out.push((word.to_owned(), if before_clock { "day" } else { "second" }));
            i += 1;
        } else {
            out.extend(attached(word)?);
            i += 1;
        }
    }
    if ago {
        for (value, _) in &mut out {
            *value = negated(value);
        }
    }
    Some(out)
}

/// Numbers with their units attached: `1h`, `30m`, `1h30m`, `2days`.
fn attached(word: &str) -> Option<Vec<(String, &str)>> {
    let mut out = Vec::new();
    let mut rest = word;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, after) = rest.split_at(number_end);
        let name_end = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (name, after) = after.split_at(name_end);
        if !is_number(number) {
            return None;
        }
        out.push((number.to_owned(), unit(name)?));
        rest = after;
    }
    Some(out)
}

/// `value` with its sign turned.
fn negated(value: &str) -> String {
    match value.strip_prefix('-') {
        Some(positive) => positive.to_owned(),
        None => format!("-{}", value.trim_start_matches('+')),
    }
}

/// `[-]H:MM[:SS[.f]]` (or `M:SS.f`) as hours, minutes and seconds, the sign on each.
fn clock(word: &str) -> Option<Vec<(String, &'static str)>> {
    let (sign, digits) = match word.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", word.trim_start_matches('+')),
    };
    let fields: Vec<&str> = digits.split(':').collect();
    let plain = |f: &&str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
    let units: &[&'static str] = match fields.as_slice() {
        [h, m] if plain(h) && plain(m) => &["hour", "minute"],
        [m, s] if plain(m) && is_number(s) => &["minute", "second"],
        [h, m, s] if plain(h) && plain(m) && is_number(s) && !s.starts_with(['+', '-']) => {
            &["hour", "minute", "second"]
        }
        _ => return None,
    };
    Some(
        fields
            .iter()
            .zip(units)
            .map(|(value, unit)| (format!("{sign}{value}"), *unit))
            .collect(),
    )
}

/// `[-]Y-M`, the SQL standard's years and months.
fn year_month(word: &str) -> Option<(String, String)> {
    let (sign, digits) = match word.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", word),
    };
    let (years, months) = digits.split_once('-')?;
    let plain = |f: &str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
    (plain(years) && plain(months)).then(|| (format!("{sign}{years}"), format!("{sign}{months}")))
}

/// ISO 8601's `nYnMnWnDTnHnMnS` (after the `P`).
fn iso_parts(iso: &str) -> Option<Vec<(String, &'static str)>> {
    let (date, time) = match iso.split_once(['T', 't']) {
        Some((date, time)) => (date, time),
        None => (iso, ""),
    };
    let mut out = Vec::new();
    for (section, units) in [
        (
            date,
            &[('Y', "year"), ('M', "month"), ('W', "week"), ('D', "day")][..],
        ),
        (time, &[('H', "hour"), ('M', "minute"), ('S', "second")][..]),
    ] {
        let mut number = String::new();
        for c in section.chars() {
            if c.is_ascii_digit() || c == '.' || c == '-' {
                number.push(c);
                continue;
            }
            let unit = units.iter().find(|(d, _)| d.eq_ignore_ascii_case(&c))?.1;
            if !is_number(&number) {
                return None;
            }
            out.push((std::mem::take(&mut number), unit));
        }
        if !number.is_empty() {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn postgresql_forms_as_arrow_units() {
        let cases = [
            ("01:30:00", Some("01 hour 30 minute 00 second")),
            ("-01:00", Some("-01 hour -00 minute")),
            ("1:30.5", Some("1 minute 30.5 second")),
            ("1 day 02:03:04", Some("1 day 02 hour 03 minute 04 second")),
            ("1 02:03:04", Some("1 day 02 hour 03 minute 04 second")),
            ("1-2", Some("1 year 2 month")),
            (
                "P1Y2M3DT4H5M6.5S",
                Some("1 year 2 month 3 day 4 hour 5 minute 6.5 second"),
            ),
            ("PT90S", Some("90 second")),
            ("1h30m", Some("1 h 30 m")),
            ("2days", Some("2 days")),
            ("1 day 2h", Some("1 day 2 h")),
            ("30", Some("30 second")),
            ("@ 1 hour ago", Some("-1 hour")),
            ("1 day ago", Some("-1 day")),
            // Arrow reads these already, or nobody does.
            ("1 day 2 hours", None),
            ("5 mins", None),
            ("2 hrs", None),
            ("90 minutes", None),
            ("1 week", None),
            ("soon", None),
            ("1:2:3:4", None),
        ];
        for (text, want) in cases {
            assert_eq!(normalized(text).as_deref(), want, "{text:?}");
        }
    }
}
