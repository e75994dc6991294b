//! `to_char(ts, pattern)` with PostgreSQL's patterns: `to_char(start_time, 'YYYY-MM')`,
//! `'Dy DD Mon YYYY HH24:MI'`, `'FMDay'`, `'IYYY-"W"IW'` ([`pattern`]). An instant is written
//! at its wall-clock time in the session's `TimeZone` (its `TZ` is that zone's abbreviation,
//! its `OF` the offset), as PostgreSQL writes it, and a date as that zone's midnight; a
//! timestamp without time zone as it is. A number is written by PostgreSQL's number patterns
//! (`'FM999G990D00'`, [`number`]), an interval by the time fields of the patterns
//! (`to_char(sum(duration_s) * interval '1 second', 'HH24:MI:SS')`, [`interval`]).
//!
//! DataFusion's own `to_char` takes chrono's `strftime` patterns (`'%Y-%m'`) and would copy a
//! PostgreSQL pattern into every row unchanged. A pattern holding `%` is still read as
//! `strftime` by DataFusion's function (in the value's own zone: a stored instant in UTC), and
//! so are durations and times of day.

mod interval;
mod number;
pub(super) mod pattern;

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Decimal128Type, Float64Type, IntervalMonthDayNanoType, IntervalUnit, TimeUnit,
    TimestampMicrosecondType,
};
use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::text_arg::Texts;
use super::text_arg::text_type;

/// The function's name, PostgreSQL's (and DataFusion's, whose function this one replaces).
const NAME: &str = "to_char";

/// `to_char(value, pattern)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToChar {
    signature: Signature,
    /// DataFusion's `to_char`, for `strftime` patterns and durations.
    strftime: Arc<ScalarUDF>,
}

impl Default for ToChar {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Stable),
            strftime: datafusion::functions::datetime::to_char(),
        }
    }
}

/// Whether values of `t` are written by PostgreSQL's patterns here.
fn is_datetime(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
    )
}

impl ScalarUDFImpl for ToChar {
    fn name(&self) -> &str {
        NAME
    }

    fn aliases(&self) -> &[String] {
        self.strftime.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [value, pattern] = types else {
            return plan_err!("{NAME}(value, pattern) takes two arguments");
        };
        let pattern = text_type(NAME, "pattern", pattern)?;
        match value {
            v if is_datetime(v) => Ok(vec![v.clone(), pattern]),
            // DataFusion's function writes these (strftime patterns).
            DataType::Duration(_) | DataType::Time32(_) | DataType::Time64(_) => {
                Ok(vec![value.clone(), pattern])
            }
            v if v.is_numeric() => Ok(vec![v.clone(), pattern]),
            DataType::Interval(_) => Ok(vec![
                DataType::Interval(IntervalUnit::MonthDayNano),
                pattern,
            ]),
            DataType::Null => Ok(vec![
                DataType::Timestamp(TimeUnit::Microsecond, None),
                pattern,
            ]),
            other => plan_err!("{NAME} writes numbers, dates, times and intervals, not {other}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [value, pattern] = args.args.as_slice() else {
            return plan_err!("{NAME}(value, pattern) takes two arguments");
        };
        let strftime = match pattern {
            ColumnarValue::Scalar(p) => p.to_string().contains('%'),
            ColumnarValue::Array(_) => false,
        };
        let scalar = super::udf::all_scalar(&args.args);
        if value.data_type().is_numeric() {
            let out = write_numbers(value, pattern, args.number_rows)?;
            return super::udf::result(out, scalar);
        }
        if matches!(value.data_type(), DataType::Interval(_)) {
            let out = write_intervals(value, pattern, args.number_rows)?;
            return super::udf::result(out, scalar);
        }
        if strftime || !is_datetime(&value.data_type()) {
            return self.strftime.invoke_with_args(args);
        }
        let zone = super::udf::session_zone(&args.config_options)?;
        let out = write_all(value, pattern, args.number_rows, zone)?;
        super::udf::result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation("Time and Date Functions", "A date or time as text by a PostgreSQL template pattern (YYYY, MM, DD, HH24, MI, SS, Mon, Day, IW, TZ, FM and TH modifiers, \"quoted text\"); an instant at its wall-clock time in the session's TimeZone. A pattern with % is a strftime pattern, as DataFusion's to_char reads it.",
                "to_char(value, pattern)",
            )
            .with_sql_example(
                "```sql\n> select to_char(TIMESTAMP '2026-11-03 00:30:00', 'Dy DD Mon YYYY HH24:MI');\nTue 03 Nov 2026 00:30\n```",
            )
            .with_argument("value", "A timestamp, timestamptz, date, interval or number.")
            .with_argument("pattern", "A PostgreSQL template pattern.")
            .build()
        });
        Some(&DOC)
    }
}

/// The parse of a pattern, kept while the rows' pattern stays the same: a literal pattern is
/// parsed once, a column's whenever it differs from the row before.
pub(super) struct Parsed<T> {
    last: Option<(String, T)>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self { last: None }
    }
}

impl<T> Parsed<T> {
    /// The parse of `source`, by `parse` when it is not the last one's.
    pub(super) fn of(&mut self, source: &str, parse: impl FnOnce(&str) -> Result<T>) -> Result<&T> {
        if self.last.as_ref().is_none_or(|(known, _)| known != source) {
            self.last = Some((source.to_owned(), parse(source)?));
        }
        match &self.last {
            Some((_, parsed)) => Ok(parsed),
            None => plan_err!("{NAME}: no pattern"),
        }
    }
}

/// Every number of `value` written by its row's number `pattern` ([`number`]).
fn write_numbers(value: &ColumnarValue, pattern: &ColumnarValue, rows: usize) -> Result<ArrayRef> {
    let values = value.to_array(rows)?;
    let patterns = Texts::of(pattern)?;
    // The significant digits of a float (C's DBL_DIG and FLT_DIG).
    let significant = match values.data_type() {
        DataType::Float64 => 15,
        _ => 6,
    };
    let float = values.data_type().is_floating();
    let numbers = match values.data_type() {
        t if t.is_floating() => cast(&values, &DataType::Float64)?,
        DataType::Decimal128(..) => values,
        DataType::Decimal256(_, s) | DataType::Decimal64(_, s) | DataType::Decimal32(_, s) => {
            cast(&values, &DataType::Decimal128(38, *s))?
        }
        _ => cast(&values, &DataType::Decimal128(38, 0))?,
    };
    let scale = match numbers.data_type() {
        DataType::Decimal128(_, s) => *s,
        _ => 0,
    };
    let mut parsed = Parsed::default();
    let mut out = StringBuilder::with_capacity(numbers.len(), numbers.len() * 12);
    let mut text = String::new();
    for r in 0..numbers.len() {
        let Some(source) = patterns.get(r).filter(|_| numbers.is_valid(r)) else {
            out.append_null();
            continue;
        };
        let pattern = parsed.of(source, number::parse)?;
        let (negative, int, frac) = if float {
            let v = numbers.as_primitive::<Float64Type>().value(r);
            number::float_parts(v, pattern.decimals(), significant)
        } else {
            let v = numbers.as_primitive::<Decimal128Type>().value(r);
            number::decimal_parts(v, scale, pattern.decimals())
        };
        text.clear();
        pattern.write(negative, &int, &frac, &mut text);
        out.append_value(&text);
    }
    Ok(Arc::new(out.finish()))
}

/// Every interval of `value` written by its row's `pattern` ([`interval`]).
fn write_intervals(
    value: &ColumnarValue,
    pattern: &ColumnarValue,
    rows: usize,
) -> Result<ArrayRef> {
    let values = value.to_array(rows)?;
    let values = cast(&values, &DataType::Interval(IntervalUnit::MonthDayNano))?;
    let spans = values.as_primitive::<IntervalMonthDayNanoType>();
    let patterns = Texts::of(pattern)?;
    let mut parsed = Parsed::default();
    let mut out = StringBuilder::with_capacity(spans.len(), spans.len() * 8);
    let mut text = String::new();
    for r in 0..spans.len() {
        let Some(source) = patterns.get(r).filter(|_| spans.is_valid(r)) else {
            out.append_null();
            continue;
        };
        let pieces = parsed.of(source, |s| Ok(pattern::parse(s)))?;
        let v = spans.value(r);
        text.clear();
        interval::write(
            pieces,
            &interval::Span::of(v.months, v.days, v.nanoseconds),
            &mut text,
        )?;
        out.append_value(&text);
    }
    Ok(Arc::new(out.finish()))
}

/// Every row of `value` written by its row's `pattern`.
fn write_all(
    value: &ColumnarValue,
    pattern: &ColumnarValue,
    rows: usize,
    zone: Tz,
) -> Result<ArrayRef> {
    let values = value.to_array(rows)?;
    let instants = matches!(values.data_type(), DataType::Timestamp(_, Some(_)));
    let dates = matches!(values.data_type(), DataType::Date32 | DataType::Date64);
    // Microseconds: an instant's UTC value, or a wall-clock time (a date at midnight).
    let micros = cast(&values, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    let micros = micros.as_primitive::<TimestampMicrosecondType>();
    let patterns = Texts::of(pattern)?;
    let mut parsed = Parsed::default();
    let mut out = StringBuilder::with_capacity(micros.len(), micros.len() * 16);
    let mut text = String::new();
    for r in 0..micros.len() {
        let Some(source) = patterns.get(r).filter(|_| micros.is_valid(r)) else {
            out.append_null();
            continue;
        };
        let pieces = parsed.of(source, |s| Ok(pattern::parse(s)))?;
        let Some(at) = DateTime::from_timestamp_micros(micros.value(r)) else {
            out.append_null();
            continue;
        };
        text.clear();
        if instants || dates {
            // A date is an instant to PostgreSQL here: its midnight in the session's zone.
            let local = if dates {
                zone.from_local_datetime(&at.naive_utc()).earliest()
            } else {
                Some(zone.from_utc_datetime(&at.naive_utc()))
            };
            let Some(local) = local else {
                out.append_null();
                continue;
            };
            let offset = local.offset();
            let value = pattern::Value {
                local: local.naive_local(),
                zone: Some((
                    offset.fix().local_minus_utc(),
                    offset.abbreviation().unwrap_or(""),
                )),
            };
            pattern::write(pieces, &value, &mut text);
        } else {
            let value = pattern::Value {
                local: at.naive_utc(),
                zone: None,
            };
            pattern::write(pieces, &value, &mut text);
        }
        out.append_value(&text);
    }
    Ok(Arc::new(out.finish()))
}
