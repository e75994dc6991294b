//! Intervals compared as PostgreSQL compares them: by their length, a month counting 30 days
//! and a day 24 hours (`interval '25 hours' > interval '1 day'`, `interval '1 day' = interval
//! '24 hours'`). Arrow compares the months, then the days, then the time, so the condition
//! `now() - start_time > interval '1 day'` (a difference is all time) was false for every
//! call, however old. The analyzer rule [`IntervalComparisons`], after type coercion, compares
//! `interval_cmp_value(a)` and `interval_cmp_value(b)` instead (PostgreSQL's own name for that
//! length, in microseconds, as a 38-digit decimal so that no interval overflows it) in `=`,
//! `<>`, `<`, `<=`, `>`, `>=`, `IS [NOT] DISTINCT FROM` and `BETWEEN`. Sorting and grouping by
//! an interval still go field by field.

use std::sync::{Arc, LazyLock};

use arrow::array::{AsArray, Decimal128Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, IntervalMonthDayNanoType, IntervalUnit};
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, exec_err};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{
    Between, BinaryExpr, ColumnarValue, Documentation, Expr, ExprSchemable, LogicalPlan, Operator,
    ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use super::udf::{all_scalar, result};

/// Microseconds in a day and in PostgreSQL's comparison month (30 days).
const DAY_MICROS: i128 = 86_400_000_000;
const MONTH_MICROS: i128 = 30 * DAY_MICROS;

/// Compares intervals by length; see the [module docs](self).
#[derive(Debug, Default)]
pub struct IntervalComparisons;

impl AnalyzerRule for IntervalComparisons {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::analyzer::rewrite_expressions(plan, in_expr)
    }

    fn name(&self) -> &str {
        "interval_comparisons"
    }
}

fn in_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let interval = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Interval(_)));
    let length = |e: Expr| UDF.call(vec![e]);
    Ok(match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if compares(op) && interval(&left) && interval(&right) =>
        {
            Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(length(*left)),
                op,
                Box::new(length(*right)),
            )))
        }
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) if interval(&expr) && interval(&low) && interval(&high) => {
            Transformed::yes(Expr::Between(Between::new(
                Box::new(length(*expr)),
                negated,
                Box::new(length(*low)),
                Box::new(length(*high)),
            )))
        }
        other => Transformed::no(other),
    })
}

/// The operators that compare their sides.
fn compares(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

static UDF: LazyLock<ScalarUDF> = LazyLock::new(|| {
    ScalarUDF::new_from_impl(CmpValue {
        signature: Signature::user_defined(Volatility::Immutable),
    })
});

/// `interval_cmp_value(interval)`, to register in a session.
pub fn udf() -> ScalarUDF {
    UDF.clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CmpValue {
    signature: Signature,
}

impl ScalarUDFImpl for CmpValue {
    fn name(&self) -> &str {
        "interval_cmp_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [DataType::Interval(_) | DataType::Null] => {
                Ok(vec![DataType::Interval(IntervalUnit::MonthDayNano)])
            }
            _ => {
                datafusion::common::plan_err!("interval_cmp_value takes an interval, not {types:?}")
            }
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, 0))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [intervals] = arrays.as_slice() else {
            return exec_err!("interval_cmp_value takes one interval");
        };
        let intervals = cast(intervals, &DataType::Interval(IntervalUnit::MonthDayNano))?;
        let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
        let out: Decimal128Array = intervals
            .iter()
            .map(|v| v.map(|v| length(v.months, v.days, v.nanoseconds)))
            .collect();
        result(Arc::new(out.with_precision_and_scale(38, 0)?), scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "Time and Date Functions",
                "The length an interval is compared by, in microseconds: a month 30 days, a day 24 hours, as PostgreSQL compares intervals. Comparisons of intervals use it.",
                "interval_cmp_value(interval)",
            )
            .with_argument("interval", "An interval.")
            .build()
        });
        Some(&DOC)
    }
}

/// PostgreSQL's `interval_cmp_value`: the length in microseconds.
fn length(months: i32, days: i32, nanos: i64) -> i128 {
    i128::from(months) * MONTH_MICROS + i128::from(days) * DAY_MICROS + i128::from(nanos / 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_as_postgresql() {
        let hour = 3_600_000_000_000;
        assert!(length(0, 0, 25 * hour) > length(0, 1, 0));
        assert_eq!(length(0, 1, 0), length(0, 0, 24 * hour));
        assert_eq!(length(1, 0, 0), length(0, 30, 0));
        assert!(length(1, 0, 0) < length(0, 31, 0));
        assert!(length(0, -1, 25 * hour) > 0);
    }
}
