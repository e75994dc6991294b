//! `date_part(field, x)` (and `EXTRACT(field FROM x)`, [`super::spelled`]) with PostgreSQL's
//! `century`, `decade` and `millennium`, which DataFusion's `date_part` refuses: of a date or
//! time, the 21st century runs from 2001 to 2100 and the third millennium from 2001, the decade
//! is the year divided by 10 (years before the common era count down from -1, as in
//! PostgreSQL's `timestamp_part`); of an interval, its years divided by 100, 10 and 1000. The
//! `epoch` of a duration (`end_time - start_time`, `talk_time`) keeps its fraction of a second,
//! which DataFusion's dropped. Every other field is DataFusion's `date_part`, which a call
//! becomes when the optimizer simplifies expressions (its pruning by `date_part('year', …)`
//! included).

use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Int32Type, Int64Type, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};

/// The fields added to DataFusion's, each by how it is read off the (astronomical) year.
#[derive(Debug, Clone, Copy)]
enum Span {
    Century,
    Decade,
    Millennium,
}

impl Span {
    /// The field `part` names (PostgreSQL's spellings, any case), if it is one of these.
    fn of(part: &str) -> Option<Span> {
        match part.trim().to_ascii_lowercase().as_str() {
            "century" | "centuries" | "c" | "cent" => Some(Span::Century),
            "decade" | "decades" | "dec" | "decs" => Some(Span::Decade),
            "millennium" | "millennia" | "mil" | "mils" | "millenniums" => Some(Span::Millennium),
            _ => None,
        }
    }

    /// The field of a date in year `y` (year 0 is 1 BC), as `timestamp_part` computes it.
    fn of_year(self, y: i32) -> i32 {
        match self {
            Span::Century if y > 0 => (y + 99) / 100,
            Span::Century => -((99 - (y - 1)) / 100),
            Span::Decade if y >= 0 => y / 10,
            Span::Decade => -((8 - (y - 1)) / 10),
            Span::Millennium if y > 0 => (y + 999) / 1000,
            Span::Millennium => -((999 - (y - 1)) / 1000),
        }
    }

    /// The field of an interval of `years` whole years.
    fn of_years(self, years: i32) -> i32 {
        years
            / match self {
                Span::Century => 100,
                Span::Decade => 10,
                Span::Millennium => 1000,
            }
    }
}

/// `date_part`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
struct DatePart {
    inner: Arc<ScalarUDF>,
}

/// The function, to register in a session in place of DataFusion's.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(DatePart {
        inner: datafusion::functions::datetime::date_part(),
    })
}

/// The field a call's first argument names, if it is one this module adds.
fn span_of(part: Option<&ScalarValue>) -> Option<Span> {
    part.and_then(|v| v.try_as_str().flatten())
        .and_then(Span::of)
}

impl ScalarUDFImpl for DatePart {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if span_of(args.scalar_arguments.first().copied().flatten()).is_some() {
            let nullable = args.arg_fields.get(1).is_none_or(|f| f.is_nullable());
            return Ok(Arc::new(Field::new(self.name(), DataType::Int32, nullable)));
        }
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let part = match args.args.first() {
            Some(ColumnarValue::Scalar(part)) => Some(part.clone()),
            _ => None,
        };
        if let (Some(part), Some(source)) = (&part, args.args.get(1))
            && is_epoch(part)
            && let DataType::Duration(unit) = source.data_type()
        {
            return duration_seconds(source, unit);
        }
        let span = span_of(part.as_ref());
        let Some(span) = span else {
            return self.inner.invoke_with_args(args);
        };
        let interval = matches!(
            args.args.get(1).map(|a| a.data_type()),
            Some(DataType::Interval(_))
        );
        let [part, ..] = args.args.as_mut_slice() else {
            return exec_err!("date_part(field, source) takes two arguments");
        };
        *part = ColumnarValue::Scalar(ScalarValue::from("year"));
        args.return_field = Arc::new(Field::new(self.name(), DataType::Int32, true));
        let years = self.inner.invoke_with_args(args)?;
        let map = |y: i32| {
            if interval {
                span.of_years(y)
            } else {
                span.of_year(y)
            }
        };
        Ok(match years {
            ColumnarValue::Scalar(ScalarValue::Int32(y)) => {
                ColumnarValue::Scalar(ScalarValue::Int32(y.map(map)))
            }
            ColumnarValue::Scalar(other) => {
                return exec_err!("date_part: a year of type {}", other.data_type());
            }
            ColumnarValue::Array(years) => {
                let Some(years) = years.as_primitive_opt::<Int32Type>() else {
                    return exec_err!("date_part: years of type {}", years.data_type());
                };
                ColumnarValue::Array(Arc::new(years.unary::<_, Int32Type>(map)))
            }
        })
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        if answered_here(&args, info) {
            return Ok(ExprSimplifyResult::Original(args));
        }
        Ok(ExprSimplifyResult::Simplified(self.inner.call(args)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// Whether a call with `args` needs this function rather than DataFusion's: a field of ours, a
/// field not known when planning, or the epoch of a duration (or of what may be one).
fn answered_here(args: &[Expr], info: &SimplifyContext) -> bool {
    let Some(Expr::Literal(part, _)) = args.first() else {
        return true;
    };
    if span_of(Some(part)).is_some() {
        return true;
    }
    let source = args.get(1).map(|source| info.get_data_type(source));
    let not_a_duration = matches!(source, Some(Ok(t)) if !matches!(t, DataType::Duration(_)));
    is_epoch(part) && !not_a_duration
}

/// Whether `part` names the epoch.
fn is_epoch(part: &ScalarValue) -> bool {
    part.try_as_str()
        .flatten()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("epoch"))
}

/// The seconds of each duration of `source`, with their fraction (DataFusion's `date_part`
/// dropped the fraction of a duration longer than about two seconds).
fn duration_seconds(source: &ColumnarValue, unit: TimeUnit) -> Result<ColumnarValue> {
    let per_second = match unit {
        TimeUnit::Second => 1.0,
        TimeUnit::Millisecond => 1e3,
        TimeUnit::Microsecond => 1e6,
        TimeUnit::Nanosecond => 1e9,
    };
    let scalar = matches!(source, ColumnarValue::Scalar(_));
    let raw = cast(&source.to_array(1)?, &DataType::Int64)?;
    let seconds: Float64Array = raw
        .as_primitive::<Int64Type>()
        .unary(|v| v as f64 / per_second);
    super::udf::result(Arc::new(seconds), scalar)
}

#[cfg(test)]
mod tests {
    use super::Span;

    #[test]
    fn spans_of_years_as_postgresql_counts_them() {
        let cases = [
            (2024, [21, 202, 3]),
            (2000, [20, 200, 2]),
            (2001, [21, 200, 3]),
            (1, [1, 0, 1]),
            // 1 BC and 2 BC (years 0 and -1).
            (0, [-1, 0, -1]),
            (-1, [-1, -1, -1]),
            (-100, [-2, -10, -1]),
        ];
        for (year, [century, decade, millennium]) in cases {
            assert_eq!(Span::Century.of_year(year), century, "century of {year}");
            assert_eq!(Span::Decade.of_year(year), decade, "decade of {year}");
            assert_eq!(
                Span::Millennium.of_year(year),
                millennium,
                "millennium of {year}"
            );
        }
        assert_eq!(Span::Century.of_years(250), 2);
    }
}
