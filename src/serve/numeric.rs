//! PostgreSQL's unconstrained `numeric`: a value cast to `numeric` without precision keeps
//! its own scale (`1.50::numeric` is `1.50`, `5::numeric` is `5`). DataFusion's SQL planner
//! makes every `NUMERIC` without precision a `decimal(38,10)`, so `1.50` came back as
//! `1.5000000000`.
//!
//! Two steps: [`PgTypePlanner`] plans the type `numeric` (and `decimal`) without precision
//! as `decimal(38,10)` marked unconstrained by field metadata; the analyzer rule
//! [`UnconstrainedNumeric`], which runs before type coercion, then replaces each cast to the
//! marked type by a cast that keeps the scale of what is cast: a decimal stays as it is, an
//! integer becomes a decimal of scale 0, a text or float constant (`'2.50'`,
//! `1.5::float8`) a decimal of its own scale (a float's at PostgreSQL's 15 significant
//! digits, 6 for `real`). A text or float column, whose scale PostgreSQL chooses per value
//! and Arrow cannot, keeps `decimal(38,10)`. No marked cast survives the rule. Declared `numeric(p,s)` types, such as
//! the `decimal(18,6)` money columns, are untouched.
//!
//! The type planner also makes `float` PostgreSQL's `double precision` ([`float`]).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::sql::sqlparser::ast::{DataType as SqlType, ExactNumberInfo};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner;

/// Field metadata key marking the target of a cast to unconstrained `numeric`.
const UNCONSTRAINED: &str = "cdrlake.numeric_unconstrained";

/// The precision and scale DataFusion gives `numeric` without precision.
const DEFAULT: (u8, i8) = (38, 10);

/// The session's type planner: unconstrained `numeric` marked, everything else as
/// `datafusion-pg-catalog`'s planner (OID alias types, `pg_catalog.`-qualified builtins).
#[derive(Debug, Default)]
pub struct PgTypePlanner {
    inner: PgOidTypePlanner,
}

impl TypePlanner for PgTypePlanner {
    fn plan_type_field(&self, sql_type: &SqlType) -> Result<Option<FieldRef>> {
        if let SqlType::Numeric(ExactNumberInfo::None) | SqlType::Decimal(ExactNumberInfo::None) =
            sql_type
        {
            let metadata = HashMap::from([(UNCONSTRAINED.to_owned(), "true".to_owned())]);
            let field = Field::new("", DataType::Decimal128(DEFAULT.0, DEFAULT.1), true);
            return Ok(Some(Arc::new(field.with_metadata(metadata))));
        }
        if let SqlType::Float(precision) = sql_type {
            return Ok(Some(Arc::new(Field::new("", float(precision), true))));
        }
        self.inner.plan_type_field(sql_type)
    }
}

/// PostgreSQL's `float` and `float(p)`: `double precision`, `real` for 24 binary digits or
/// fewer. DataFusion made every `FLOAT` a `real`, so `count(*)::float / 3` was 0.33333334.
fn float(precision: &ExactNumberInfo) -> DataType {
    match precision {
        ExactNumberInfo::Precision(p) | ExactNumberInfo::PrecisionAndScale(p, _) if *p <= 24 => {
            DataType::Float32
        }
        _ => DataType::Float64,
    }
}

/// The analyzer rule replacing casts to unconstrained `numeric` (see the module docs).
#[derive(Debug, Default)]
pub struct UnconstrainedNumeric;

impl AnalyzerRule for UnconstrainedNumeric {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        crate::query::analyzer::rewrite_expressions(plan, |e, schema| {
            Ok(match e {
                Expr::Cast(Cast { expr, field })
                    if field.metadata().contains_key(UNCONSTRAINED) =>
                {
                    let target = own_scale(&expr, schema)
                        .unwrap_or(DataType::Decimal128(DEFAULT.0, DEFAULT.1));
                    Transformed::yes(if expr.get_type(schema).ok().as_ref() == Some(&target) {
                        *expr
                    } else {
                        Expr::Cast(Cast::new(expr, target))
                    })
                }
                other => Transformed::no(other),
            })
        })
    }

    fn name(&self) -> &str {
        "unconstrained_numeric"
    }
}

/// The decimal type that holds `expr` at its own scale, when there is one for all its values.
fn own_scale(expr: &Expr, schema: &DFSchema) -> Option<DataType> {
    match constant(expr) {
        Some(ScalarValue::Utf8(Some(text)) | ScalarValue::Utf8View(Some(text))) => {
            return text_scale(&text).map(|s| DataType::Decimal128(38, s));
        }
        Some(ScalarValue::Float64(Some(f))) => {
            return float_scale(f, 15).map(|s| DataType::Decimal128(38, s));
        }
        Some(ScalarValue::Float32(Some(f))) => {
            return float_scale(f64::from(f), 6).map(|s| DataType::Decimal128(38, s));
        }
        _ => {}
    }
    match expr.get_type(schema).ok()? {
        d @ (DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..)) => Some(d),
        DataType::Int8 | DataType::UInt8 => Some(DataType::Decimal128(3, 0)),
        DataType::Int16 | DataType::UInt16 => Some(DataType::Decimal128(5, 0)),
        DataType::Int32 | DataType::UInt32 => Some(DataType::Decimal128(10, 0)),
        DataType::Int64 => Some(DataType::Decimal128(19, 0)),
        DataType::UInt64 => Some(DataType::Decimal128(20, 0)),
        _ => None,
    }
}

/// The value of `expr` when it is constant (`1.5::float8`, `(1::float8 / 3)`): folded as
/// DataFusion's simplifier folds it; None when it reads columns or parameters.
fn constant(expr: &Expr) -> Option<ScalarValue> {
    if let Expr::Literal(v, _) = expr {
        return Some(v.clone());
    }
    let simplifier = ExprSimplifier::new(SimplifyContext::default());
    let coerced = simplifier.coerce(expr.clone(), &DFSchema::empty()).ok()?;
    match simplifier.simplify(coerced).ok()? {
        Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// The scale of `f` written with `digits` significant digits and no trailing zeros, as
/// PostgreSQL's float to numeric cast writes it (`%.15g`); None for NaN and infinities.
fn float_scale(f: f64, digits: usize) -> Option<i8> {
    if !f.is_finite() {
        return None;
    }
    let written = format!("{:.*e}", digits.saturating_sub(1), f);
    let (mantissa, exponent) = written.split_once('e')?;
    let exponent: i64 = exponent.parse().ok()?;
    let fraction = mantissa
        .split_once('.')
        .map_or("", |(_, f)| f)
        .trim_end_matches('0');
    let scale = i64::try_from(fraction.len()).ok()? - exponent;
    i8::try_from(scale.clamp(0, 38)).ok()
}

/// The scale of a decimal written as `text` (`-1.50` → 2); None when it is not one.
fn text_scale(text: &str) -> Option<i8> {
    let digits = text.trim().trim_start_matches(['+', '-']);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let valid = !(whole.is_empty() && fraction.is_empty())
        && all_digits(whole)
        && all_digits(fraction)
        && whole.len() + fraction.len() <= 38;
    valid.then(|| i8::try_from(fraction.len()).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_its_own_scale() {
        assert_eq!(text_scale("1.50"), Some(2));
        assert_eq!(text_scale(" -12 "), Some(0));
        assert_eq!(text_scale(".5"), Some(1));
        assert_eq!(text_scale("1e5"), None);
        assert_eq!(text_scale("."), None);
        assert_eq!(text_scale("NaN"), None);
    }

    #[test]
    fn floats_have_the_scale_of_their_15_digits() {
        assert_eq!(float_scale(1.5, 15), Some(1));
        assert_eq!(float_scale(0.1 + 0.2, 15), Some(1));
        assert_eq!(float_scale(1.0 / 3.0, 15), Some(15));
        assert_eq!(float_scale(12345.0, 15), Some(0));
        assert_eq!(float_scale(1e20, 15), Some(0));
        assert_eq!(float_scale(0.000_012_5, 15), Some(7));
        assert_eq!(float_scale(f64::NAN, 15), None);
    }
}
