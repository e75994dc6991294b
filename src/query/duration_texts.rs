//! Texts compared with a duration, as PostgreSQL compares text with an interval:
//! `talk_time > '00:05:00'`, `talk_time BETWEEN '1 minute' AND '5 minutes'`, `talk_time IN
//! ('00:00:30', '00:01:00')`. The call log's `talk_time` is an Arrow duration, which DataFusion
//! compares with an interval but not with text ("Cannot infer common argument type"). This
//! rule, ahead of type coercion, casts such a text literal to an interval (read in PostgreSQL's
//! forms, [`super::interval_text`]); coercion then compares the two.

use arrow::datatypes::{DataType, IntervalUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::{
    Between, BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator,
};
use datafusion::optimizer::AnalyzerRule;

/// The comparison operators.
const COMPARISONS: [Operator; 8] = [
    Operator::Eq,
    Operator::NotEq,
    Operator::Lt,
    Operator::LtEq,
    Operator::Gt,
    Operator::GtEq,
    Operator::IsDistinctFrom,
    Operator::IsNotDistinctFrom,
];

/// The analyzer rule of this module; it runs before type coercion.
#[derive(Debug, Default)]
pub struct DurationTexts;

impl AnalyzerRule for DurationTexts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::analyzer::rewrite_expressions(plan, |e, schema| Ok(compared(e, schema)))
    }

    fn name(&self) -> &str {
        "duration_texts"
    }
}

/// Whether `expr` is a duration.
fn is_duration(expr: &Expr, schema: &DFSchema) -> bool {
    matches!(expr.get_type(schema), Ok(DataType::Duration(_)))
}

/// `expr` cast to an interval when it is a text literal.
fn as_interval(expr: Expr) -> (Expr, bool) {
    match &expr {
        Expr::Literal(ScalarValue::Utf8(Some(_)) | ScalarValue::Utf8View(Some(_)), _) => (
            Expr::Cast(Cast::new(
                Box::new(expr),
                DataType::Interval(IntervalUnit::MonthDayNano),
            )),
            true,
        ),
        _ => (expr, false),
    }
}

/// A comparison of a duration with text literals, those cast to intervals.
fn compared(e: Expr, schema: &DFSchema) -> Transformed<Expr> {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) if COMPARISONS.contains(&op) => {
            let (left, right, cast) = if is_duration(&left, schema) {
                let (right, cast) = as_interval(*right);
                (*left, right, cast)
            } else if is_duration(&right, schema) {
                let (left, cast) = as_interval(*left);
                (left, *right, cast)
            } else {
                (*left, *right, false)
            };
            let e = Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)));
            if cast {
                Transformed::yes(e)
            } else {
                Transformed::no(e)
            }
        }
        Expr::Between(Between {
            expr,
            negated,
            low,
            high,
        }) if is_duration(&expr, schema) => {
            let ((low, a), (high, b)) = (as_interval(*low), as_interval(*high));
            let e = Expr::Between(Between::new(expr, negated, Box::new(low), Box::new(high)));
            if a || b {
                Transformed::yes(e)
            } else {
                Transformed::no(e)
            }
        }
        Expr::InList(mut list) if is_duration(&list.expr, schema) => {
            let mut cast = false;
            list.list = std::mem::take(&mut list.list)
                .into_iter()
                .map(|item| {
                    let (item, c) = as_interval(item);
                    cast |= c;
                    item
                })
                .collect();
            if cast {
                Transformed::yes(Expr::InList(list))
            } else {
                Transformed::no(Expr::InList(list))
            }
        }
        other => Transformed::no(other),
    }
}
