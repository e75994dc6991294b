//! `generate_series` with texts beside a typed first argument, as PostgreSQL types them from
//! it: `generate_series('2026-11-01'::timestamptz, '2026-11-07T00:00:00Z', '1 day')` (Grafana's
//! zero-filled series). DataFusion's table function wants each argument typed already ("Second
//! argument must be a timestamp or NULL, got Literal(Utf8(…))"); this one casts a text end to
//! the start's type (written to the minute too, [`super::literal_times`]) and a text step to
//! an interval (in PostgreSQL's forms too, [`super::interval_text`]), then calls DataFusion's.
//! Arguments are read before the analyzer runs: a text end is read as the start's label says
//! (UTC for `timestamptz`), not in the session's zone.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, IntervalUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_table::generate_series::GenerateSeriesFunc;
use datafusion::logical_expr::Expr;

/// `generate_series` with its text arguments typed; see the [module docs](self).
#[derive(Debug)]
pub struct SeriesTexts;

impl TableFunctionImpl for SeriesTexts {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let start = match exprs.first() {
            Some(Expr::Literal(v, _)) => v.data_type(),
            _ => DataType::Null,
        };
        let typed: Vec<Expr> = match start {
            DataType::Timestamp(..) | DataType::Date32 => exprs
                .iter()
                .enumerate()
                .map(|(i, e)| match (i, text(e)) {
                    (1, Some(t)) => {
                        let t =
                            super::literal_times::with_seconds(t).unwrap_or_else(|| t.to_owned());
                        ScalarValue::Utf8(Some(t))
                            .cast_to(&start)
                            .map(|v| Expr::Literal(v, None))
                    }
                    (2, Some(t)) => interval(t).map(|v| Expr::Literal(v, None)),
                    _ => Ok(e.clone()),
                })
                .collect::<Result<_>>()?,
            _ => exprs.to_vec(),
        };
        GenerateSeriesFunc {}.call_with_args(TableFunctionArgs::new(&typed, args.session()))
    }
}

/// The text of a text literal.
fn text(e: &Expr) -> Option<&str> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(t))
            | ScalarValue::Utf8View(Some(t))
            | ScalarValue::LargeUtf8(Some(t)),
            _,
        ) => Some(t),
        _ => None,
    }
}

/// `text` as an interval, read as PostgreSQL reads it.
fn interval(text: &str) -> Result<ScalarValue> {
    let text = super::interval_text::normalized(text).unwrap_or_else(|| text.to_owned());
    ScalarValue::Utf8(Some(text)).cast_to(&DataType::Interval(IntervalUnit::MonthDayNano))
}
