//! PostgreSQL's `make_interval(years, months, weeks, days, hours, mins, secs)`, every argument
//! optional (0) and nameable: `make_interval(secs => duration_s)` is a call's talk time as an
//! interval, `make_interval(days => 3, hours => 2)` a span. The statement rewrite
//! ([`super::syntax`], [`positional`]) puts named arguments in their places with zeros in
//! between, since DataFusion only fills trailing parameters. Months are years × 12 + months,
//! days weeks × 7 + days, time hours, minutes and seconds (fractional) to the microsecond.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, IntervalMonthDayNanoArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type, IntervalMonthDayNano, IntervalUnit};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments};

use super::udf::{all_scalar, invalid, result};

/// The function's name.
pub const NAME: &str = "make_interval";

/// Its parameters, in order.
const PARAMETERS: [&str; 7] = ["years", "months", "weeks", "days", "hours", "mins", "secs"];

/// `make_interval(…)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeInterval {
    signature: Signature,
}

impl Default for MakeInterval {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for MakeInterval {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() > PARAMETERS.len() || !types.iter().all(|t| t.is_numeric() || t.is_null()) {
            return plan_err!(
                "{NAME}({}) takes numbers, not {types:?}",
                PARAMETERS.join(", ")
            );
        }
        Ok(types
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i == PARAMETERS.len() - 1 {
                    DataType::Float64
                } else {
                    DataType::Int32
                }
            })
            .collect())
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Interval(IntervalUnit::MonthDayNano))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = args.number_rows;
        let mut ints = Vec::with_capacity(6);
        for a in arrays.iter().take(6) {
            ints.push(cast(a, &DataType::Int32)?);
        }
        let secs = match arrays.get(6) {
            Some(a) => Some(cast(a, &DataType::Float64)?),
            None => None,
        };
        let mut out = Vec::with_capacity(rows);
        for r in 0..rows {
            let null =
                ints.iter().any(|a| a.is_null(r)) || secs.as_ref().is_some_and(|s| s.is_null(r));
            if null {
                out.push(None);
                continue;
            }
            let field = |i: usize| {
                ints.get(i)
                    .map_or(0, |a| i64::from(a.as_primitive::<Int32Type>().value(r)))
            };
            let seconds = secs
                .as_ref()
                .map_or(0.0, |s| s.as_primitive::<Float64Type>().value(r));
            out.push(Some(interval(
                [field(0), field(1), field(2), field(3), field(4), field(5)],
                seconds,
            )?));
        }
        let out: Arc<dyn Array> = Arc::new(IntervalMonthDayNanoArray::from(out));
        result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "Time and Date Functions",
                "An interval from years, months, weeks, days, hours, minutes and (fractional) seconds, each optional and nameable (secs => duration_s). PostgreSQL's make_interval. NULL when any argument is.",
                "make_interval(years, months, weeks, days, hours, mins, secs)",
            )
            .with_sql_example("```sql\n> select make_interval(secs => 5400);\n01:30:00\n```")
            .with_argument("years, months, weeks, days, hours, mins", "Whole numbers, 0 when left out.")
            .with_argument("secs", "Seconds, with a fraction; 0 when left out.")
            .build()
        });
        Some(&DOC)
    }
}

/// The interval of `[years, months, weeks, days, hours, mins]` and `secs`.
fn interval(fields: [i64; 6], secs: f64) -> Result<IntervalMonthDayNano> {
    let [years, months, weeks, days, hours, mins] = fields;
    let out_of_range = || invalid("interval out of range");
    let months = i32::try_from(years * 12 + months).map_err(|_| out_of_range())?;
    let days = i32::try_from(weeks * 7 + days).map_err(|_| out_of_range())?;
    if !secs.is_finite() {
        return Err(out_of_range());
    }
    // PostgreSQL rounds the seconds to the microsecond.
    let micros = (secs * 1e6).round();
    if micros.abs() > 9.2e15 {
        return Err(out_of_range());
    }
    let micros = (hours * 3600 + mins * 60) * 1_000_000 + micros as i64;
    Ok(IntervalMonthDayNano::new(months, days, micros * 1_000))
}

/// `make_interval` with named arguments (`secs => x`) as a positional call with zeros for
/// the parameters left out; None for anything else.
pub(super) fn positional(expr: &Expr) -> Option<Expr> {
    let function = super::syntax::call(expr, NAME)?;
    let FunctionArguments::List(list) = &function.args else {
        return None;
    };
    let mut named = false;
    let mut values: Vec<Option<String>> = vec![None; PARAMETERS.len()];
    for (i, arg) in list.args.iter().enumerate() {
        let (name, value) = match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => (None, e),
            FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(e),
                ..
            }
            | FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg: FunctionArgExpr::Expr(e),
                ..
            } => (Some(&name.value), e),
            _ => return None,
        };
        let at = match name {
            None => i,
            Some(name) => {
                named = true;
                PARAMETERS
                    .iter()
                    .position(|p| p.eq_ignore_ascii_case(name))?
            }
        };
        *values.get_mut(at)? = Some(value.to_string());
    }
    if !named {
        return None;
    }
    let last = values.iter().rposition(Option::is_some)?;
    let args: Vec<String> = values[..=last]
        .iter()
        .map(|v| v.clone().unwrap_or_else(|| "0".to_owned()))
        .collect();
    super::syntax::parse_expr(&format!("{NAME}({})", args.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_as_postgresql() {
        let i = interval([1, 2, 1, 3, 4, 5], 6.5).unwrap();
        assert_eq!((i.months, i.days), (14, 10));
        assert_eq!(
            i.nanoseconds,
            ((4 * 3600 + 5 * 60) * 1_000_000 + 6_500_000) * 1_000
        );
        assert!(interval([0; 6], f64::INFINITY).is_err());
    }

    #[test]
    fn named_arguments_take_their_places() {
        let expr =
            super::super::syntax::parse_expr("make_interval(days => 3, hours => 2)").unwrap();
        assert_eq!(
            positional(&expr).unwrap().to_string(),
            "make_interval(0, 0, 0, 3, 2)"
        );
        let expr = super::super::syntax::parse_expr("make_interval(secs => duration_s)").unwrap();
        assert_eq!(
            positional(&expr).unwrap().to_string(),
            "make_interval(0, 0, 0, 0, 0, 0, duration_s)"
        );
        let expr = super::super::syntax::parse_expr("make_interval(1, 2)").unwrap();
        assert!(positional(&expr).is_none());
    }
}
