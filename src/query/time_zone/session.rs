//! [`SessionTimeZone`]: the calendar of a `timestamptz` read in the session's `TimeZone`, as
//! PostgreSQL reads it.
//!
//! Stored instants are labelled UTC (`Timestamp(Microsecond, Some("UTC"))`), and DataFusion
//! reads a labelled instant's calendar in its label's zone and a zone-less text or date as
//! UTC. After `SET TimeZone = 'Europe/Amsterdam'`, PostgreSQL reads both in the session's
//! zone instead, so a day, a month or an hour is a local one. For a call at 23:30 UTC on 1
//! November, in Amsterdam:
//!
//! | expression | DataFusion | PostgreSQL, and cdrlake with this rule |
//! |---|---|---|
//! | `date_trunc('day', start_time)` | 1 Nov 00:00 UTC | 2 Nov 00:00 local |
//! | `start_time::date`, `CAST(start_time AS date)` | 1 Nov | 2 Nov |
//! | `extract(hour FROM start_time)`, `date_part('hour', …)` | 23 | 0 |
//! | `start_time::timestamp`, `start_time::time` | 23:30 | 00:30 |
//! | `start_time >= '2026-11-02'` | from 2 Nov 00:00 UTC | from 2 Nov 00:00 local |
//! | `start_time >= DATE '2026-11-02'`, `… >= TIMESTAMP '2026-11-02 00:00'` | UTC | local |
//!
//! The rule runs after type coercion, when every cast is explicit and typed: an instant
//! whose calendar is read gets the session's zone as its label first (the same instant), and a
//! text, date or zone-less time that becomes an instant is read in the session's zone first.
//! Each rewritten expression keeps its type and its name, so nothing above it changes; with
//! the session in UTC (the default) the rule changes nothing. Text with an explicit offset
//! (`'2026-11-02 00:00+00'`) stays that instant. `to_char` reads the session's zone itself
//! (`query::to_char`).

use std::sync::Arc;

use arrow::compute::kernels::cast_utils::string_to_datetime;
use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::functions::datetime::to_local_time;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

use super::function::{instant_of, zone_named};

/// The functions whose answer depends on the calendar of their instant argument (the second;
/// the first names the field). `extract` becomes `date_part` when expressions are simplified,
/// after this rule ([`crate::query::spelled`]).
const CALENDAR_FUNCTIONS: &[&str] = &["date_trunc", "date_part", "extract"];

/// Reads instants in the session's `TimeZone`; see the [module docs](self).
#[derive(Debug, Default)]
pub struct SessionTimeZone;

impl AnalyzerRule for SessionTimeZone {
    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        let Some(zone) = config.execution.time_zone.as_deref() else {
            return Ok(plan);
        };
        if is_utc(zone) {
            return Ok(plan);
        }
        let zone: Arc<str> = Arc::from(zone);
        plan.transform_up_with_subqueries(|node| in_node(node, &zone))
            .data()
    }

    fn name(&self) -> &str {
        "session_time_zone"
    }
}

/// Names of UTC, in which DataFusion already reads what PostgreSQL reads.
pub(super) fn is_utc(zone: &str) -> bool {
    ["UTC", "Etc/UTC", "+00:00", "Z", "GMT", "Etc/GMT", "UCT"]
        .iter()
        .any(|utc| zone.eq_ignore_ascii_case(utc))
}

/// Rewrites the expressions of one plan node, keeping their names.
fn in_node(node: LogicalPlan, zone: &Arc<str>) -> Result<Transformed<LogicalPlan>> {
    let mut schema = merge_schema(&node.inputs());
    if let LogicalPlan::TableScan(scan) = &node {
        schema.merge(&DFSchema::try_from_qualified_schema(
            scan.table_name.clone(),
            &scan.source.schema(),
        )?);
    }
    let names = NamePreserver::new(&node);
    node.map_expressions(|expr| {
        let name = names.save(&expr);
        expr.transform_up(|e| in_expr(e, &schema, zone))
            .map(|t| t.update_data(|e| name.restore(e)))
    })
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

/// `expr` with the session's zone as its label, for an instant of another label.
fn relabelled(expr: Expr, from: &DataType, zone: &Arc<str>) -> Option<Expr> {
    match from {
        DataType::Timestamp(unit, Some(tz)) if tz != zone => Some(cast(
            expr,
            DataType::Timestamp(*unit, Some(Arc::clone(zone))),
        )),
        _ => None,
    }
}

fn cast(expr: Expr, to: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(expr), to))
}

/// One expression, its children already rewritten. An expression whose type cannot be told
/// (it would fail later, with the planner's own error) is left as it is.
fn in_expr(expr: Expr, schema: &DFSchema, zone: &Arc<str>) -> Result<Transformed<Expr>> {
    match expr {
        Expr::Cast(Cast { expr: inner, field }) => {
            if let Some(instant) = changed_clock_literal(&inner, field.data_type(), zone) {
                return Ok(Transformed::yes(instant));
            }
            let unchanged =
                |inner| Transformed::no(Expr::Cast(Cast::new_from_field(inner, field.clone())));
            let Ok(from) = inner.get_type(schema) else {
                return Ok(unchanged(inner));
            };
            Ok(match in_cast(*inner, &from, field.data_type(), zone) {
                Ok(rewritten) => Transformed::yes(rewritten),
                Err(inner) => unchanged(Box::new(inner)),
            })
        }
        Expr::ScalarFunction(f) if CALENDAR_FUNCTIONS.contains(&f.name()) => {
            let call = Expr::ScalarFunction(f);
            let Ok(typed) = call.get_type(schema) else {
                return Ok(Transformed::no(call));
            };
            let Expr::ScalarFunction(ScalarFunction { func, mut args }) = call else {
                return Ok(Transformed::no(call));
            };
            let instant = args.get(1).and_then(|a| a.get_type(schema).ok());
            let relabel = match (instant, args.get(1)) {
                (Some(from), Some(arg)) => relabelled(arg.clone(), &from, zone),
                _ => None,
            };
            let Some(arg) = relabel else {
                return Ok(Transformed::no(Expr::ScalarFunction(ScalarFunction {
                    func,
                    args,
                })));
            };
            args[1] = arg;
            let call = Expr::ScalarFunction(ScalarFunction { func, args });
            // date_trunc answers in its argument's type: back to the label it had.
            Ok(Transformed::yes(match call.get_type(schema) {
                Ok(t) if t != typed => cast(call, typed),
                _ => call,
            }))
        }
        other => Ok(Transformed::no(other)),
    }
}

/// A text literal cast to an instant whose wall-clock time the session's `zone` skips or
/// repeats (`'2026-10-25 02:30'` in Amsterdam), which Arrow's parser refuses ("error computing
/// timezone offset"): the instant by PostgreSQL's rules ([`instant_of`]). `None` for any other
/// expression, and for the texts Arrow reads.
fn changed_clock_literal(inner: &Expr, to: &DataType, zone: &Arc<str>) -> Option<Expr> {
    let (Expr::Literal(value, _), DataType::Timestamp(unit, Some(label))) = (inner, to) else {
        return None;
    };
    let text = match value {
        ScalarValue::Utf8(Some(t)) | ScalarValue::Utf8View(Some(t)) => t,
        ScalarValue::LargeUtf8(Some(t)) => t,
        _ => return None,
    };
    let session: arrow::array::timezone::Tz = zone.parse().ok()?;
    if string_to_datetime(&session, text).is_ok() {
        return None;
    }
    let wall_clock = string_to_datetime(&chrono::Utc, text).ok()?;
    let micros = instant_of(zone_named(zone)?, wall_clock.timestamp_micros())?;
    let label = Some(Arc::clone(label));
    let instant = match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(micros.div_euclid(1_000_000)), label),
        TimeUnit::Millisecond => {
            ScalarValue::TimestampMillisecond(Some(micros.div_euclid(1_000)), label)
        }
        TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(micros), label),
        TimeUnit::Nanosecond => {
            ScalarValue::TimestampNanosecond(Some(micros.checked_mul(1_000)?), label)
        }
    };
    Some(Expr::Literal(instant, None))
}

/// The cast of `inner` (of type `from`) to `to` as PostgreSQL reads it in the session's
/// `zone`, or `inner` back when DataFusion already reads it so.
fn in_cast(inner: Expr, from: &DataType, to: &DataType, zone: &Arc<str>) -> Result<Expr, Expr> {
    let session = |unit: &TimeUnit| DataType::Timestamp(*unit, Some(Arc::clone(zone)));
    match (from, to) {
        // Text or a zone-less time read as an instant: a wall-clock time in the session's
        // zone (an explicit offset in the text is kept by the inner cast).
        (text, DataType::Timestamp(unit, Some(tz))) if is_text(text) && tz != zone => {
            Ok(cast(cast(inner, session(unit)), to.clone()))
        }
        (DataType::Timestamp(unit, None), DataType::Timestamp(_, Some(tz))) if tz != zone => {
            Ok(cast(cast(inner, session(unit)), to.clone()))
        }
        // A date read as an instant: its midnight in the session's zone.
        (DataType::Date32 | DataType::Date64, DataType::Timestamp(unit, Some(tz)))
            if tz != zone =>
        {
            let midnight = cast(inner, DataType::Timestamp(*unit, None));
            Ok(cast(cast(midnight, session(unit)), to.clone()))
        }
        // An instant's date: the session's calendar.
        (DataType::Timestamp(unit, Some(tz)), DataType::Date32 | DataType::Date64)
            if tz != zone =>
        {
            Ok(cast(cast(inner, session(unit)), to.clone()))
        }
        // An instant's wall-clock time (Arrow's cast would keep the UTC clock).
        (
            DataType::Timestamp(unit, Some(tz)),
            DataType::Timestamp(_, None) | DataType::Time32(_) | DataType::Time64(_),
        ) => {
            let labelled = if tz == zone {
                inner
            } else {
                cast(inner, session(unit))
            };
            Ok(cast(to_local_time().call(vec![labelled]), to.clone()))
        }
        _ => Err(inner),
    }
}
