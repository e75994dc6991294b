//! [`MinuteLiterals`]: time literals written to the minute (`'2026-11-03 00:30'`,
//! `'2026-11-03T00:30+01'`), which PostgreSQL reads and Arrow's parser refuses ("error parsing
//! time"): a text literal cast to a timestamp gets its `:00` seconds before it is parsed. A text
//! literal cast to an interval in one of PostgreSQL's forms Arrow refuses (`'01:30:00'`) is
//! rewritten in Arrow's ([`super::interval_text`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::DFSchema;
use datafusion::common::Result;
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

/// Completes minute-precision text literals cast to timestamps; see the [module docs](self).
#[derive(Debug, Default)]
pub struct MinuteLiterals;

impl AnalyzerRule for MinuteLiterals {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            let schema = merge_schema(&node.inputs());
            node.map_expressions(|expr| expr.transform_up(|e| Ok(completed(e, &schema))))
        })
        .data()
    }

    fn name(&self) -> &str {
        "minute_literals"
    }
}

fn completed(expr: Expr, schema: &DFSchema) -> Transformed<Expr> {
    let Expr::Cast(Cast { expr: inner, field }) = &expr else {
        return Transformed::no(expr);
    };
    let complete: fn(&str) -> Option<String> = match field.data_type() {
        DataType::Timestamp(..) => with_seconds,
        DataType::Interval(_) => super::interval_text::normalized,
        _ => return Transformed::no(expr),
    };
    let Expr::Literal(value, metadata) = inner.as_ref() else {
        return match read_as_interval_text(inner, field, schema) {
            Some(read) => read,
            None => Transformed::no(expr),
        };
    };
    let text = match value {
        ScalarValue::Utf8(Some(t))
        | ScalarValue::Utf8View(Some(t))
        | ScalarValue::LargeUtf8(Some(t)) => t,
        _ => return Transformed::no(expr),
    };
    let Some(completed) = complete(text) else {
        return Transformed::no(expr);
    };
    let literal = Expr::Literal(ScalarValue::Utf8(Some(completed)), metadata.clone());
    Transformed::yes(Expr::Cast(Cast::new_from_field(
        Box::new(literal),
        field.clone(),
    )))
}

/// A text column or parameter cast to an interval, each value read through
/// [`super::interval_text::udf`] as a literal would be; `None` for any other cast.
fn read_as_interval_text(
    inner: &Expr,
    field: &FieldRef,
    schema: &DFSchema,
) -> Option<Transformed<Expr>> {
    if !matches!(field.data_type(), DataType::Interval(_)) {
        return None;
    }
    if matches!(inner, Expr::ScalarFunction(f) if f.name() == super::interval_text::NAME) {
        return None;
    }
    let text = matches!(
        inner.get_type(schema),
        Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
    );
    text.then(|| {
        let read = super::interval_text::udf().call(vec![inner.clone()]);
        Transformed::yes(Expr::Cast(Cast::new_from_field(
            Box::new(read),
            Arc::clone(field),
        )))
    })
}

/// `text` with `:00` after its minutes when it is a date and a time to the minute
/// (`YYYY-MM-DD HH:MM` or with `T`, then the end, an offset or a zone); `None` otherwise.
pub(super) fn with_seconds(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let date = digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-');
    if !(date && digits(8..10) && matches!(b.get(10), Some(b' ' | b'T'))) {
        return None;
    }
    let hour_end = if digits(11..13) { 13 } else { 12 };
    if !digits(11..hour_end)
        || b.get(hour_end) != Some(&b':')
        || !digits(hour_end + 1..hour_end + 3)
    {
        return None;
    }
    let minutes_end = hour_end + 3;
    if matches!(b.get(minutes_end), Some(b':' | b'0'..=b'9' | b'.')) {
        return None;
    }
    Some(format!(
        "{}:00{}",
        &text[..minutes_end],
        &text[minutes_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::with_seconds;

    #[test]
    fn minutes_get_seconds_and_nothing_else_changes() {
        assert_eq!(
            with_seconds("2026-11-03 00:30").as_deref(),
            Some("2026-11-03 00:30:00")
        );
        assert_eq!(
            with_seconds("2026-11-03T7:05").as_deref(),
            Some("2026-11-03T7:05:00")
        );
        assert_eq!(
            with_seconds("2026-11-03 00:30+01").as_deref(),
            Some("2026-11-03 00:30:00+01")
        );
        assert_eq!(with_seconds("2026-11-03 00:30:00"), None);
        assert_eq!(with_seconds("2026-11-03"), None);
        assert_eq!(with_seconds("2026-11-03 00:3"), None);
        assert_eq!(with_seconds("now"), None);
    }
}
