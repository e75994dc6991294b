//! A number with a fraction cast to an integer is rounded, as PostgreSQL rounds it: `1.5::int`
//! is 2, `-2.5::int` is -3, `avg(duration_s)::int` the nearest whole second. Arrow's cast
//! truncates (1, -2), so the same report came out lower than in PostgreSQL. The analyzer rule
//! [`IntegerCasts`], after type coercion, casts `round(x)` instead of `x` when `x` is a decimal
//! or a float (half away from zero, as PostgreSQL rounds `numeric` — and `avg` of integers is
//! `numeric` there; PostgreSQL rounds a `double precision` half to even, `2.5::float8::int` is
//! 2 there and 3 here). Names are kept.

use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

/// Rounds numbers cast to integers; see the [module docs](self).
#[derive(Debug, Default)]
pub struct IntegerCasts;

impl AnalyzerRule for IntegerCasts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::analyzer::rewrite_expressions(plan, in_expr)
    }

    fn name(&self) -> &str {
        "integer_casts"
    }
}

/// `CAST(round(x) AS int)` for `CAST(x AS int)` of a decimal or float `x`.
fn in_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let fractional = |e: &Expr| {
        e.get_type(schema)
            .is_ok_and(|t| t.is_floating() || t.is_decimal())
    };
    Ok(match expr {
        Expr::Cast(Cast { expr, field }) if field.data_type().is_integer() && fractional(&expr) => {
            let rounded = datafusion::functions::math::expr_fn::round(vec![*expr]);
            Transformed::yes(Expr::Cast(Cast::new_from_field(Box::new(rounded), field)))
        }
        other => Transformed::no(other),
    })
}
