//! `value::text` as PostgreSQL spells it. DataFusion casts a `timestamptz` to text with
//! Arrow's ISO form (`2026-10-02T00:56:32Z`), a float as Rust prints it (`inf`, `1e16`) and
//! an array as a list (`[1, 2]`); PostgreSQL writes `2026-10-02 02:56:32+02` in the
//! session's `TimeZone`, `Infinity`, `1e+16` and `{1,2}`. An analyzer rule of each session replaces those casts with [`PgText`], which
//! renders through the one PostgreSQL text encoder ([`crate::export::pg_text`]) that COPY
//! and text results use, so `x::text`, `SELECT x` and `COPY` agree.

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::StringArray;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{
    Cast, ColumnarValue, Expr, ExprSchemable, LogicalPlan, Projection, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

use crate::export::pg_text::column_text;

/// The types whose text DataFusion spells unlike PostgreSQL.
fn spelled_differently(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(..)
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Interval(_)
            | DataType::Duration(_)
            | DataType::List(_)
            | DataType::LargeList(_)
    )
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// `pg_text(x)`: the PostgreSQL text output of `x`, timestamps with time zone in the session's
/// `TimeZone` at execution time. Only the rule below creates it; it is not registered by name.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgText {
    signature: Signature,
}

impl Default for PgText {
    fn default() -> Self {
        PgText {
            signature: Signature::any(1, Volatility::Stable),
        }
    }
}

impl ScalarUDFImpl for PgText {
    fn name(&self) -> &str {
        "pg_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let zone = crate::query::time_zone::zone_of(&args.config_options).unwrap_or(Tz::UTC);
        let Some(arg) = args.args.first() else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)));
        };
        match arg {
            ColumnarValue::Scalar(value) => {
                let text = column_text(&value.to_array()?, zone)?;
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
                    text.into_iter().next().flatten(),
                )))
            }
            ColumnarValue::Array(array) => Ok(ColumnarValue::Array(Arc::new(StringArray::from(
                column_text(array, zone)?,
            )))),
        }
    }
}

/// The analyzer rule putting [`PgText`] in place of casts to text of the types it spells;
/// it runs after type coercion, so every expression's type is known.
#[derive(Debug, Default)]
pub struct PgTextCasts;

impl AnalyzerRule for PgTextCasts {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let udf = Arc::new(ScalarUDF::new_from_impl(PgText::default()));
        plan.transform_up_with_subqueries(|node| rewrite_node(node, &udf))
            .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "pg_text_casts"
    }
}

/// Rewrites the casts in a projection (keeping its column names) or a filter.
fn rewrite_node(node: LogicalPlan, udf: &Arc<ScalarUDF>) -> Result<Transformed<LogicalPlan>> {
    match node {
        LogicalPlan::Projection(p) => {
            let schema = p.input.schema().clone();
            let mut changed = false;
            let exprs = p
                .expr
                .into_iter()
                .map(|e| {
                    let name = e.schema_name().to_string();
                    let t = rewrite_expr(e, &schema, udf)?;
                    changed |= t.transformed;
                    if t.transformed {
                        t.data.alias_if_changed(name)
                    } else {
                        Ok(t.data)
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            let projection = Projection::try_new(exprs, p.input)?;
            Ok(Transformed::new_transformed(
                LogicalPlan::Projection(projection),
                changed,
            ))
        }
        LogicalPlan::Filter(_) => {
            let schema = node
                .inputs()
                .first()
                .map(|i| i.schema().clone())
                .unwrap_or_else(|| Arc::new(DFSchema::empty()));
            node.map_expressions(|e| rewrite_expr(e, &schema, udf))
        }
        other => Ok(Transformed::no(other)),
    }
}

fn rewrite_expr(e: Expr, schema: &DFSchema, udf: &Arc<ScalarUDF>) -> Result<Transformed<Expr>> {
    e.transform_up(|e| match e {
        Expr::Cast(Cast { expr, field })
            if is_text(field.data_type()) && spelled_differently(&expr.get_type(schema)?) =>
        {
            let text = Expr::ScalarFunction(ScalarFunction::new_udf(udf.clone(), vec![*expr]));
            Ok(Transformed::yes(if field.data_type() == &DataType::Utf8 {
                text
            } else {
                Expr::Cast(Cast::new_from_field(Box::new(text), field))
            }))
        }
        other => Ok(Transformed::no(other)),
    })
}
