//! Numeric division to PostgreSQL's precision. Arrow gives a quotient of decimals the dividend's
//! scale plus 4, so `sum(duration_s)::numeric / count(*)` was 315.5776 and `count(*) * 1.0 / 3`
//! 0.33333, where PostgreSQL keeps at least 16 significant digits (315.5776824817518248,
//! 0.33333333333333333333); `avg` of a decimal likewise (`avg(charge)` had 10 decimals). This
//! rule, ahead of type coercion, gives the dividend of a division with a decimal side, and the
//! argument of `avg` of a decimal, the scale 12 (when it has less), so that the quotient has 16
//! decimals: PostgreSQL's digits for quotients from 1 to 9999, and 16 of its 20 or more below
//! one. Dividends keep 26 digits before the point. Floats and integers divided by integers are
//! untouched.

use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator};
use datafusion::optimizer::AnalyzerRule;

/// The dividend's scale, and so the quotient's less 4.
const SCALE: i8 = 12;

/// The analyzer rule of this module; it runs before type coercion.
#[derive(Debug, Default)]
pub struct NumericDivision;

impl AnalyzerRule for NumericDivision {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::analyzer::rewrite_expressions(plan, |e, schema| Ok(widened(e, schema)))
    }

    fn name(&self) -> &str {
        "numeric_division"
    }
}

/// The scale of `t` when it is a decimal.
fn decimal_scale(t: &DataType) -> Option<i8> {
    match t {
        DataType::Decimal32(_, s)
        | DataType::Decimal64(_, s)
        | DataType::Decimal128(_, s)
        | DataType::Decimal256(_, s) => Some(*s),
        _ => None,
    }
}

/// `e` at scale 12 when it is a decimal of a smaller scale.
fn at_scale(e: Expr, schema: &DFSchema) -> Transformed<Expr> {
    match e.get_type(schema).ok().as_ref().and_then(decimal_scale) {
        Some(scale) if scale < SCALE => Transformed::yes(Expr::Cast(Cast::new(
            Box::new(e),
            DataType::Decimal128(38, SCALE),
        ))),
        _ => Transformed::no(e),
    }
}

/// The argument of `function` at scale 12 when it is `avg` of a decimal; true when it changed.
fn avg_at_scale(function: &str, args: &mut Vec<Expr>, schema: &DFSchema) -> bool {
    if function != "avg" || args.len() != 1 {
        return false;
    }
    let arg = at_scale(args.remove(0), schema);
    args.push(arg.data);
    arg.transformed
}

/// `a / b` with `a` at scale 12 when either is a decimal and `a` has a smaller scale; `avg(x)`
/// of a decimal `x` with `x` at scale 12.
fn widened(e: Expr, schema: &DFSchema) -> Transformed<Expr> {
    if let Expr::AggregateFunction(mut f) = e {
        let changed = avg_at_scale(f.func.name(), &mut f.params.args, schema);
        return Transformed::new_transformed(Expr::AggregateFunction(f), changed);
    }
    if let Expr::WindowFunction(mut w) = e {
        let changed = avg_at_scale(w.fun.name(), &mut w.params.args, schema);
        return Transformed::new_transformed(Expr::WindowFunction(w), changed);
    }
    let Expr::BinaryExpr(BinaryExpr {
        left,
        op: Operator::Divide,
        right,
    }) = e
    else {
        return Transformed::no(e);
    };
    let (Ok(l), Ok(r)) = (left.get_type(schema), right.get_type(schema)) else {
        return Transformed::no(Expr::BinaryExpr(BinaryExpr::new(
            left,
            Operator::Divide,
            right,
        )));
    };
    let decimal = decimal_scale(&l).is_some() || decimal_scale(&r).is_some();
    let exact = l.is_integer() || decimal_scale(&l).is_some();
    let scale = decimal_scale(&l).unwrap_or(0);
    if !decimal || !exact || scale >= SCALE {
        return Transformed::no(Expr::BinaryExpr(BinaryExpr::new(
            left,
            Operator::Divide,
            right,
        )));
    }
    let dividend = Expr::Cast(Cast::new(left, DataType::Decimal128(38, SCALE)));
    Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(dividend),
        Operator::Divide,
        right,
    )))
}
