//! `INTERSECT ALL` and `EXCEPT ALL` as PostgreSQL answers them: a row that is m times on the left
//! and n times on the right is min(m, n) times in the intersection and max(m − n, 0) times in the
//! difference. DataFusion plans both as a semi (anti) join of the rows on all their columns, so
//! every left row with a match was kept (removed) however many times the right side had it, and
//! with few distinct rows each probe walked every equal row of the other side (a two-value
//! column of 240K rows took minutes).
//!
//! This analyzer rule numbers the copies of each row on both sides (`row_number()` over the row's
//! columns) and joins on the columns and that number: the k-th copy on the left is in the
//! intersection when the right has a k-th copy, and in the difference when it has not. Each key
//! is then unique on each side.
//!
//! Before this rule (the analyzer's first steps) a semi or anti join that compares nulls as equal
//! comes only from `INTERSECT`/`EXCEPT` (subqueries become joins later, in the optimizer); the
//! distinct forms have a `DISTINCT` left side, where one copy each is already the answer.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, NullEquality, Result};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    Distinct, Expr, ExprFunctionExt, Join, JoinType, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::optimizer::AnalyzerRule;

/// Names of the copy numbers, one per side (a join's sides may not share a name).
const LEFT_COPY: &str = "__cdrlake_left_copy";
const RIGHT_COPY: &str = "__cdrlake_right_copy";

/// The analyzer rule of this module.
#[derive(Debug, Default)]
pub struct BagSetOperations;

impl AnalyzerRule for BagSetOperations {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(numbered).map(|t| t.data)
    }

    fn name(&self) -> &str {
        "bag_set_operations"
    }
}

/// `plan` with its copies numbered when it is the join of an `INTERSECT ALL`/`EXCEPT ALL`.
fn numbered(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Join(join) = plan else {
        return Ok(Transformed::no(plan));
    };
    let bag = matches!(join.join_type, JoinType::LeftSemi | JoinType::LeftAnti)
        && join.null_equality == NullEquality::NullEqualsNull
        && join.filter.is_none()
        && !join.null_aware
        && join.on.len() == join.left.schema().fields().len()
        && !matches!(join.left.as_ref(), LogicalPlan::Distinct(Distinct::All(_)))
        && !join
            .left
            .schema()
            .has_column_with_unqualified_name(LEFT_COPY);
    if !bag {
        return Ok(Transformed::no(LogicalPlan::Join(join)));
    }
    let output = columns(&join.left);
    let left = with_copy_numbers(Arc::unwrap_or_clone(join.left), LEFT_COPY)?;
    let right = with_copy_numbers(Arc::unwrap_or_clone(join.right), RIGHT_COPY)?;
    let mut on = join.on;
    on.push((
        Expr::Column(Column::from_name(LEFT_COPY)),
        Expr::Column(Column::from_name(RIGHT_COPY)),
    ));
    let joined = Join::try_new(
        Arc::new(left),
        Arc::new(right),
        on,
        None,
        join.join_type,
        join.join_constraint,
        NullEquality::NullEqualsNull,
        false,
    )?;
    let plan = LogicalPlanBuilder::from(LogicalPlan::Join(joined))
        .project(output)?
        .build()?;
    Ok(Transformed::yes(plan))
}

/// `plan` with a column `name`: the number of each row among the rows equal to it.
fn with_copy_numbers(plan: LogicalPlan, name: &str) -> Result<LogicalPlan> {
    let number = row_number()
        .partition_by(columns(&plan))
        .build()?
        .alias(name);
    LogicalPlanBuilder::from(plan).window(vec![number])?.build()
}

/// Every column of `plan`'s output.
fn columns(plan: &LogicalPlan) -> Vec<Expr> {
    plan.schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect()
}
