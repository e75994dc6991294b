//! The optimizer rule [`FirstRowPerGroup`]: `row_number() … = 1` over several partition keys
//! becomes a [`first_in_group`](crate::group_first) filter over the first key.
//!
//! "The first call per caller per day" is written in SQL as
//!
//! ```sql
//! SELECT … FROM (SELECT …, row_number() OVER (PARTITION BY tenant, source, call_date
//!                                            ORDER BY start_time, call_id) AS rn
//!               FROM cdrs) t
//! WHERE rn = 1
//! ```
//!
//! DataFusion evaluates that window after a sort by all its keys, once per window partition: a
//! slice of the sorted batch and a state entry for each of the ~300,000 caller-days of a
//! million CDRs, which costs more than the sort. The rule rewrites the filter and its window to
//!
//! ```sql
//! first_in_group[ASC NULLS LAST, ASC NULLS LAST](start_time, call_id, source, call_date)
//!     OVER (PARTITION BY tenant)
//! ```
//!
//! — the `ORDER BY` keys, each with its direction, then the other partition keys: no sort but
//! by `tenant`, five window partitions instead of 300,000, and one hash pass per partition
//! ([`FirstInGroup::ordered`]). Both keep exactly one row per (tenant, source, call_date)
//! group, NULL keys forming a group of their own as in `PARTITION BY`; among rows that tie on
//! the `ORDER BY` keys `row_number` numbers an arbitrary one 1, and the rewrite keeps one of
//! them, as arbitrary and also exactly one. (Before `first_in_group`, the rule planned
//! `run_start(source, call_date) OVER (PARTITION BY tenant ORDER BY source, call_date,
//! start_time, call_id)`: the same vectorised pass, after a full sort.)
//!
//! The rule matches a `Filter` directly over a `Window` (where DataFusion's filter push-down
//! leaves a predicate on a window column) whose predicate has a conjunct `rn = 1` (`1 = rn`,
//! `rn <= 1`, `1 >= rn`, `rn < 2`, `2 > rn`) on a `row_number()` of that window with at least
//! two non-volatile partition keys. Every row passing the filter has `rn = 1`, so the rewrite
//! keeps the column: a projection above the filter gives it as the constant 1, which the
//! optimizer prunes when nothing reads it; other conjuncts that read `rn` read 1. The other
//! window functions of the node are left as they are. A single partition key is not
//! rewritten: the only form left would be one window partition for the whole input, which
//! gives up the parallel sort (measured slower, `benches/RESULTS.md`).

use std::sync::Arc;

use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result, ScalarValue};
use datafusion::functions_window::row_number::RowNumber;
use datafusion::logical_expr::expr::{WindowFunction, WindowFunctionParams};
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{
    BinaryExpr, Expr, Filter, LogicalPlan, Operator, Projection, Window, WindowFrame,
    WindowFunctionDefinition, WindowUDF, lit,
};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

use crate::group_first::FirstInGroup;

/// Rewrites `row_number() OVER (PARTITION BY p1, …, pn ORDER BY o…) = 1` (n ≥ 2) into
/// `first_in_group[directions of o…](o…, p2, …, pn) OVER (PARTITION BY p1)`; see the
/// [module docs](self).
#[derive(Debug, Default)]
pub struct FirstRowPerGroup;

impl OptimizerRule for FirstRowPerGroup {
    fn name(&self) -> &str {
        "cdrlake_first_row_per_group"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Filter(filter) = plan else {
            return Ok(Transformed::no(plan));
        };
        match rewrite_filter(&filter)? {
            Some(rewritten) => Ok(Transformed::yes(rewritten)),
            None => Ok(Transformed::no(LogicalPlan::Filter(filter))),
        }
    }
}

/// The rewritten plan of `filter`, or `None` when it does not match.
///
/// Between the filter and the window that numbers the rows there may be projections (the
/// optimizer's projection pruning puts one there) and other windows (one per distinct
/// `PARTITION BY`/`ORDER BY`) that pass the `rn` column up. [`swap`] replaces `rn` in that
/// chain by the `first_in_group` flag under the same name; the filter tests the flag, and a
/// projection above it gives `rn` back as the constant 1.
fn rewrite_filter(filter: &Filter) -> Result<Option<LogicalPlan>> {
    let conjuncts = split_conjunction_owned(filter.predicate.clone());
    let mut columns: Vec<Column> = conjuncts.iter().filter_map(first_row_column).collect();
    columns.sort_unstable();
    columns.dedup();

    let mut input = filter.input.as_ref().clone();
    let mut swapped = Vec::new();
    for column in columns {
        if let Some(plan) = swap(&input, &column)? {
            input = plan;
            swapped.push(column);
        }
    }
    if swapped.is_empty() {
        return Ok(None);
    }

    // Each `rn = 1` conjunct becomes the flag; `rn` elsewhere in the predicate is 1.
    let one = || lit(ScalarValue::UInt64(Some(1)));
    let mut predicate = Vec::with_capacity(conjuncts.len());
    for conjunct in conjuncts {
        match first_row_column(&conjunct) {
            Some(column) if swapped.contains(&column) => predicate.push(Expr::Column(column)),
            _ => predicate.push(replace_columns(conjunct, &swapped, &one)?),
        }
    }
    let Some(predicate) = conjunction(predicate) else {
        return Ok(None);
    };
    let new_filter = Filter::try_new(predicate, Arc::new(input))?;

    // The filter's former columns, `rn` as the constant it is on every row that passes.
    let outer = filter
        .input
        .schema()
        .iter()
        .map(|(qualifier, field)| {
            let column = Column::from((qualifier, field));
            if swapped.contains(&column) {
                one().alias_qualified(qualifier.cloned(), field.name())
            } else {
                Expr::Column(column)
            }
        })
        .collect();
    let outer = Projection::try_new(outer, Arc::new(LogicalPlan::Filter(new_filter)))?;
    Ok(Some(LogicalPlan::Projection(outer)))
}

/// `plan` with its output `column`, a `row_number()` with several partition keys, replaced by
/// the equivalent `first_in_group` flag under the same name; `None` when `column` is not such a
/// row number passed up through projections and windows only, or when a window on the way
/// reads it (it would see the flag of every row, not the number).
///
/// Projections on the way that compute something else from the number get 1 in its place:
/// only the rows passing the filter above, where it is 1, are used.
fn swap(plan: &LogicalPlan, column: &Column) -> Result<Option<LogicalPlan>> {
    match plan {
        LogicalPlan::Window(window) => {
            let Some(index) = window.schema.maybe_index_of_column(column) else {
                return Ok(None);
            };
            let inputs = window.input.schema().fields().len();
            let Some(j) = index.checked_sub(inputs) else {
                // A column of the window's input: swap it below, if no window reads it.
                if window.window_expr.iter().any(|e| reads(e, column)) {
                    return Ok(None);
                }
                let Some(input) = swap(&window.input, column)? else {
                    return Ok(None);
                };
                let window = Window::try_new(window.window_expr.clone(), Arc::new(input))?;
                return Ok(Some(LogicalPlan::Window(window)));
            };
            let Some(start) = window.window_expr.get(j).and_then(first_in_group_of) else {
                return Ok(None);
            };
            let mut window_expr = window.window_expr.clone();
            window_expr[j] = start;
            // A name clash with another window column: keep the plan as it is.
            let Ok(new_window) = Window::try_new(window_expr, Arc::clone(&window.input)) else {
                return Ok(None);
            };
            let exprs = new_window
                .schema
                .iter()
                .enumerate()
                .map(|(i, (qualifier, field))| {
                    let expr = Expr::Column(Column::from((qualifier, field)));
                    if i == index {
                        expr.alias_qualified(column.relation.clone(), column.name.clone())
                    } else {
                        expr
                    }
                })
                .collect();
            let projection = Projection::try_new(exprs, Arc::new(LogicalPlan::Window(new_window)))?;
            Ok(Some(LogicalPlan::Projection(projection)))
        }
        LogicalPlan::Projection(projection) => {
            let Some(index) = projection.schema.maybe_index_of_column(column) else {
                return Ok(None);
            };
            let Expr::Column(inner) = projection.expr[index].clone().unalias_nested().data else {
                return Ok(None);
            };
            let Some(input) = swap(&projection.input, &inner)? else {
                return Ok(None);
            };
            let one = || lit(ScalarValue::UInt64(Some(1)));
            let inner = [inner];
            let mut exprs = Vec::with_capacity(projection.expr.len());
            for (i, expr) in projection.expr.iter().enumerate() {
                if i == index || !reads(expr, &inner[0]) {
                    exprs.push(expr.clone());
                } else {
                    let (qualifier, field) = projection.schema.qualified_field(i);
                    let expr = replace_columns(expr.clone().unalias(), &inner, &one)?;
                    exprs.push(expr.alias_qualified(qualifier.cloned(), field.name()));
                }
            }
            let projection = Projection::try_new(exprs, Arc::new(input))?;
            Ok(Some(LogicalPlan::Projection(projection)))
        }
        _ => Ok(None),
    }
}

/// Whether `expr` reads `column`.
fn reads(expr: &Expr, column: &Column) -> bool {
    expr.column_refs().contains(column)
}

/// `expr` with every reference to one of `columns` replaced by `value()`.
fn replace_columns(expr: Expr, columns: &[Column], value: &dyn Fn() -> Expr) -> Result<Expr> {
    expr.transform(|e| match &e {
        Expr::Column(c) if columns.contains(c) => Ok(Transformed::yes(value())),
        _ => Ok(Transformed::no(e)),
    })
    .map(|t| t.data)
}

/// The column that the predicate `conjunct` keeps at 1, if it is one of `c = 1`, `1 = c`,
/// `c <= 1`, `1 >= c`, `c < 2`, `2 > c` (`c` possibly cast to an integer type).
fn first_row_column(conjunct: &Expr) -> Option<Column> {
    let Expr::BinaryExpr(BinaryExpr { left, op, right }) = conjunct else {
        return None;
    };
    // Normalise to `column op literal`.
    let (column, op, value) = match (column_of(left), integer_of(right)) {
        (Some(column), Some(value)) => (column, *op, value),
        _ => (column_of(right)?, op.swap()?, integer_of(left)?),
    };
    let keeps_first = match op {
        Operator::Eq | Operator::LtEq => value == 1,
        Operator::Lt => value == 2,
        _ => false,
    };
    keeps_first.then_some(column)
}

/// The column `expr` reads, if it is one, possibly cast to an integer type.
fn column_of(expr: &Expr) -> Option<Column> {
    match expr {
        Expr::Column(column) => Some(column.clone()),
        Expr::Cast(cast) if cast.field.data_type().is_integer() => column_of(&cast.expr),
        _ => None,
    }
}

/// The value of an integer literal.
fn integer_of(expr: &Expr) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    if !value.data_type().is_integer() {
        return None;
    }
    match value.cast_to(&DataType::Int64).ok()? {
        ScalarValue::Int64(Some(v)) => Some(v),
        _ => None,
    }
}

/// The `first_in_group` window expression equivalent to `expr` kept at 1, if `expr` is a plain
/// `row_number()` with at least two non-volatile partition keys.
fn first_in_group_of(expr: &Expr) -> Option<Expr> {
    let Expr::WindowFunction(function) = expr else {
        return None;
    };
    let WindowFunction { fun, params } = function.as_ref();
    let WindowFunctionDefinition::WindowUDF(udf) = fun else {
        return None;
    };
    if !udf.inner().is::<RowNumber>() {
        return None;
    }
    let WindowFunctionParams {
        args,
        partition_by,
        order_by,
        filter,
        null_treatment,
        distinct,
        ..
    } = params;
    if !args.is_empty() || filter.is_some() || *distinct || partition_by.len() < 2 {
        return None;
    }
    if partition_by.iter().any(Expr::is_volatile) {
        return None;
    }
    let (first, keys) = partition_by.split_first()?;
    let directions = order_by
        .iter()
        .map(|sort| SortOptions {
            descending: !sort.asc,
            nulls_first: sort.nulls_first,
        })
        .collect();
    let args = order_by
        .iter()
        .map(|sort| sort.expr.clone())
        .chain(keys.iter().cloned())
        .collect();
    let first_in_group = Arc::new(WindowUDF::new_from_impl(FirstInGroup::ordered(directions)));
    Some(Expr::from(WindowFunction {
        fun: WindowFunctionDefinition::WindowUDF(first_in_group),
        params: WindowFunctionParams {
            args,
            partition_by: vec![first.clone()],
            order_by: Vec::new(),
            window_frame: WindowFrame::new(None),
            filter: None,
            null_treatment: *null_treatment,
            distinct: false,
        },
    }))
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    /// The optimized plan of `sql` over a small `calls` table, in a session with the rule.
    async fn plan(sql: &str) -> Result<String> {
        let ctx = SessionContext::new();
        crate::register_all(&ctx, Arc::default());
        ctx.sql(
            "CREATE TABLE calls(tenant VARCHAR, src VARCHAR, day INT, ts INT, id VARCHAR) \
             AS VALUES ('a', 's', 1, 1, 'c1')",
        )
        .await?
        .collect()
        .await?;
        let plan = ctx.sql(sql).await?.into_optimized_plan()?;
        Ok(plan.display_indent().to_string())
    }

    const FIRST: &str = "SELECT id FROM (SELECT id, row_number() OVER \
        (PARTITION BY tenant, src, day ORDER BY ts, id) AS rn FROM calls) t";

    #[tokio::test]
    async fn every_spelling_of_rn_1_is_rewritten() -> Result<()> {
        for filter in ["rn = 1", "1 = rn", "rn <= 1", "1 >= rn", "rn < 2", "2 > rn"] {
            let text = plan(&format!("{FIRST} WHERE {filter}")).await?;
            assert!(text.contains("first_in_group[ASC NULLS LAST, ASC NULLS LAST](calls.ts, calls.id, calls.src, calls.day) PARTITION BY [calls.tenant] ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"), "{filter}: {text}");
            assert!(!text.contains("row_number"), "{filter}: {text}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn other_filters_and_single_keys_are_not_rewritten() -> Result<()> {
        let single = "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY src ORDER BY ts) \
                      AS rn FROM calls) t WHERE rn = 1";
        let volatile = "SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY src, \
                        random() < 0.5 ORDER BY ts) AS rn FROM calls) t WHERE rn = 1";
        let others = [
            format!("{FIRST} WHERE rn = 2"),
            format!("{FIRST} WHERE rn <= 2"),
            format!("{FIRST} WHERE rn = 1 OR id = 'c1'"),
            format!("{FIRST} WHERE rn IN (0, 1)"),
            single.to_string(),
            volatile.to_string(),
        ];
        for sql in &others {
            let text = plan(sql).await?;
            assert!(!text.contains("first_in_group"), "{sql}: {text}");
            assert!(text.contains("row_number"), "{sql}: {text}");
        }
        Ok(())
    }

    /// `rn` read after the filter is the constant 1; the other window functions stay.
    #[tokio::test]
    async fn rn_read_elsewhere_is_one() -> Result<()> {
        let sql = "SELECT id, rn, n FROM (SELECT id, row_number() OVER (PARTITION BY tenant, \
                   src ORDER BY ts) AS rn, count(*) OVER (PARTITION BY tenant, src) AS n \
                   FROM calls) t WHERE rn = 1 AND rn + n > 0";
        let text = plan(sql).await?;
        assert!(
            text.contains("first_in_group(calls.ts, calls.src) PARTITION BY [calls.tenant]"),
            "{text}"
        );
        assert!(
            text.contains("count(Int64(1)) PARTITION BY [calls.tenant, calls.src]"),
            "{text}"
        );
        assert!(text.contains("UInt64(1) AS rn"), "{text}");
        Ok(())
    }
}
