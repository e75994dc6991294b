//! PostgreSQL's interval arithmetic with numbers: `duration_s * interval '1 second'`,
//! `interval '1 day' * 1.5`, `avg_gap / 2`. Arrow has no product of an interval and a number,
//! so DataFusion refuses the operators; [`IntervalArithmetic`] plans them as
//! `interval_mul(interval, factor)` and `interval_div(interval, divisor)`, PostgreSQL's own
//! names for them, computed as PostgreSQL computes them ([`scale`]): months, days and time
//! scaled each on its own, whole months and days kept, a fraction of a month cascaded into
//! days (30 a month) and a fraction of a day into time (86,400 seconds a day), never upwards,
//! to the microsecond. A duration (`end_time - start_time`, `talk_time`) scales as the interval
//! it is.
//!
//! A date plus or minus an interval with a time of day is a timestamp, as in PostgreSQL
//! (`DATE '2026-11-22' + interval '1 hour'` is `2026-11-22 01:00:00`); DataFusion kept a date
//! and dropped the time. A literal of whole days or months still gives a date (PostgreSQL: a
//! timestamp at that midnight, the same instant), so that `call_date >= current_date -
//! interval '7 days'` still skips the partitions before it.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, IntervalMonthDayNanoArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, IntervalMonthDayNano, IntervalUnit, TimeUnit};
use arrow::error::ArrowError;
use datafusion::common::{DFSchema, DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::ast::BinaryOperator;

const DAYS_PER_MONTH: f64 = 30.0;
const SECS_PER_DAY: f64 = 86_400.0;
const NANOS_PER_MICRO: i64 = 1_000;

/// Plans `interval * number`, `number * interval` and `interval / number`, and a date plus
/// or minus an interval.
#[derive(Debug)]
pub struct IntervalArithmetic {
    mul: Arc<ScalarUDF>,
    div: Arc<ScalarUDF>,
}

impl IntervalArithmetic {
    /// The planner, calling `mul` and `div` ([`IntervalScale`]).
    pub fn new(mul: Arc<ScalarUDF>, div: Arc<ScalarUDF>) -> Self {
        Self { mul, div }
    }
}

impl ExprPlanner for IntervalArithmetic {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let interval = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Interval(_)));
        let number = |e: &Expr| e.get_type(schema).is_ok_and(|t| t.is_numeric());
        let RawBinaryExpr { op, left, right } = expr;
        let date = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Date32 | DataType::Date64));
        // Whole days or months (a literal) keep DataFusion's date, which keeps a partition
        // filter such as `call_date >= current_date - interval '7 days'` on the partitions.
        let timed = |e: &Expr| interval(e) && !whole_days(e);
        let timestamp = |e: Expr| {
            let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
            Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), ts))
        };
        // A date and an interval with a time of day make a timestamp, as in PostgreSQL.
        match op {
            BinaryOperator::Plus if date(&left) && timed(&right) => {
                return Ok(PlannerResult::Planned(timestamp(left) + right));
            }
            BinaryOperator::Plus if timed(&left) && date(&right) => {
                return Ok(PlannerResult::Planned(left + timestamp(right)));
            }
            BinaryOperator::Minus if date(&left) && timed(&right) => {
                return Ok(PlannerResult::Planned(timestamp(left) - right));
            }
            _ => {}
        }
        // A duration (a difference of timestamps) scales as the interval it is.
        let duration = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Duration(_)));
        let scalable = |e: &Expr| interval(e) || duration(e);
        let (udf, interval, number) = match op {
            BinaryOperator::Multiply if scalable(&left) && number(&right) => {
                (&self.mul, left, right)
            }
            BinaryOperator::Multiply if number(&left) && scalable(&right) => {
                (&self.mul, right, left)
            }
            BinaryOperator::Divide if scalable(&left) && number(&right) => (&self.div, left, right),
            _ => return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right })),
        };
        let interval = if duration(&interval) {
            let mdn = DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano);
            Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(interval), mdn))
        } else {
            interval
        };
        Ok(PlannerResult::Planned(udf.call(vec![interval, number])))
    }
}

/// Whether `e` is an interval literal of whole days or months (no time of day).
fn whole_days(e: &Expr) -> bool {
    use datafusion::common::ScalarValue;
    match e {
        Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(v)), _) => v.nanoseconds == 0,
        Expr::Literal(ScalarValue::IntervalDayTime(Some(v)), _) => v.milliseconds == 0,
        Expr::Literal(ScalarValue::IntervalYearMonth(Some(_)), _) => true,
        _ => false,
    }
}

/// `interval_mul(interval, factor)` or `interval_div(interval, divisor)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalScale {
    signature: Signature,
    divide: bool,
}

impl IntervalScale {
    /// `interval_mul`.
    pub fn mul() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            divide: false,
        }
    }

    /// `interval_div`.
    pub fn div() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            divide: true,
        }
    }
}

const MONTH_DAY_NANO: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

impl ScalarUDFImpl for IntervalScale {
    fn name(&self) -> &str {
        if self.divide {
            "interval_div"
        } else {
            "interval_mul"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [DataType::Interval(_) | DataType::Null, n] if n.is_numeric() || n.is_null() => {
                Ok(vec![MONTH_DAY_NANO, DataType::Float64])
            }
            _ => plan_err!("{}(interval, number): not {types:?}", self.name()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [intervals, numbers] = arrays.as_slice() else {
            return exec_err!("{}(interval, number) takes two arguments", self.name());
        };
        let intervals = cast(intervals, &MONTH_DAY_NANO)?;
        let intervals = intervals.as_primitive::<arrow::datatypes::IntervalMonthDayNanoType>();
        let numbers = cast(numbers, &DataType::Float64)?;
        let numbers = numbers.as_primitive::<Float64Type>();
        let mut out = Vec::with_capacity(intervals.len());
        for (interval, number) in intervals.iter().zip(numbers.iter()) {
            out.push(match (interval, number) {
                (Some(i), Some(n)) if self.divide => Some(scale(i, n, true)?),
                (Some(i), Some(n)) => Some(scale(i, n, false)?),
                _ => None,
            });
        }
        let out: Arc<dyn Array> = Arc::new(IntervalMonthDayNanoArray::from(out));
        super::udf::result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation("Time and Date Functions", "An interval multiplied (interval_mul, the operator interval * number) or divided (interval_div, interval / number) as PostgreSQL does: whole months and days kept, fractions cascaded into days (30 a month) and time (86,400 s a day), to the microsecond. NULL when either argument is.",
                "interval_mul(interval, factor)",
            )
            .with_sql_example(
                "```sql\n> select interval '1 month' * 1.5;\n1 mon 15 days\n```",
            )
            .with_argument("interval", "An interval.")
            .with_argument("factor", "A number (the divisor of interval_div).")
            .build()
        });
        Some(&DOC)
    }
}

/// PostgreSQL's `interval_mul` (`divide`: `interval_div`) of `interval` by `factor`.
fn scale(
    interval: IntervalMonthDayNano,
    factor: f64,
    divide: bool,
) -> Result<IntervalMonthDayNano> {
    if divide && factor == 0.0 {
        return Err(DataFusionError::ArrowError(
            Box::new(ArrowError::DivideByZero),
            None,
        ));
    }
    let by = |x: f64| if divide { x / factor } else { x * factor };
    let months_f = by(f64::from(interval.months));
    let days_f = by(f64::from(interval.days));
    let months = whole(months_f)?;
    let mut days = whole(days_f)?;
    let month_remainder_days = micro_round((months_f - f64::from(months)) * DAYS_PER_MONTH);
    let mut sec_remainder = micro_round(
        (days_f - f64::from(days) + month_remainder_days - month_remainder_days.trunc())
            * SECS_PER_DAY,
    );
    if sec_remainder.abs() >= SECS_PER_DAY {
        let carried = (sec_remainder / SECS_PER_DAY).trunc();
        days = days.checked_add(whole(carried)?).ok_or_else(out_of_range)?;
        sec_remainder -= carried * SECS_PER_DAY;
    }
    days = days
        .checked_add(whole(month_remainder_days.trunc())?)
        .ok_or_else(out_of_range)?;
    // PostgreSQL keeps time in microseconds, rounded half to even (rint).
    let micros = interval.nanoseconds / NANOS_PER_MICRO;
    let time = (by(micros as f64) + sec_remainder * 1e6).round_ties_even();
    if !time.is_finite() || time.abs() >= (i64::MAX / NANOS_PER_MICRO) as f64 {
        return Err(out_of_range());
    }
    Ok(IntervalMonthDayNano::new(
        months,
        days,
        time as i64 * NANOS_PER_MICRO,
    ))
}

/// The whole part of `x` as months or days; out of range when it does not fit.
fn whole(x: f64) -> Result<i32> {
    if x.is_nan() || x > f64::from(i32::MAX) || x < f64::from(i32::MIN) {
        return Err(out_of_range());
    }
    Ok(x as i32)
}

/// PostgreSQL's `TSROUND`: to the microsecond.
fn micro_round(x: f64) -> f64 {
    (x * 1e6).round_ties_even() / 1e6
}

fn out_of_range() -> DataFusionError {
    DataFusionError::Execution("interval out of range".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(months: i32, days: i32, secs: f64) -> IntervalMonthDayNano {
        IntervalMonthDayNano::new(months, days, (secs * 1e9) as i64)
    }

    #[test]
    fn whole_factors_scale_each_field() {
        assert_eq!(scale(iv(0, 0, 1.0), 90.0, false).ok(), Some(iv(0, 0, 90.0)));
        assert_eq!(scale(iv(1, 2, 3.0), 2.0, false).ok(), Some(iv(2, 4, 6.0)));
        assert_eq!(
            scale(iv(1, 1, 0.0), -1.0, false).ok(),
            Some(iv(-1, -1, 0.0))
        );
    }

    #[test]
    fn fractions_cascade_down_as_postgresql_does() {
        // interval '1 month' * 1.5 = '1 mon 15 days'
        assert_eq!(scale(iv(1, 0, 0.0), 1.5, false).ok(), Some(iv(1, 15, 0.0)));
        // interval '1 day' * 1.5 = '1 day 12:00:00'
        assert_eq!(
            scale(iv(0, 1, 0.0), 1.5, false).ok(),
            Some(iv(0, 1, 43_200.0))
        );
        // interval '1 month' / 7 = '4 days 06:51:25.6896' (the day fraction rounded first)
        assert_eq!(
            scale(iv(1, 0, 0.0), 7.0, true).ok(),
            Some(IntervalMonthDayNano::new(0, 4, 24_685_689_600_000))
        );
        // interval '1 mon 1 day 1 hour' * 0.3 = '9 days 07:30:00'
        assert_eq!(
            scale(iv(1, 1, 3600.0), 0.3, false).ok(),
            Some(iv(0, 9, 27_000.0))
        );
        // interval '1 hour' / 3 = '00:20:00'
        assert_eq!(
            scale(iv(0, 0, 3600.0), 3.0, true).ok(),
            Some(iv(0, 0, 1200.0))
        );
    }

    #[test]
    fn division_by_zero_and_overflow_are_errors() {
        assert!(scale(iv(0, 0, 1.0), 0.0, true).is_err());
        assert!(scale(iv(i32::MAX, 0, 0.0), 2.0, false).is_err());
        assert!(scale(iv(1, 0, 0.0), f64::NAN, false).is_err());
    }
}
