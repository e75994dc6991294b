//! `EXISTS (…)` as a value: `SELECT EXISTS (SELECT 1 FROM cdrs WHERE …)`, `CASE WHEN EXISTS
//! (…) THEN …` in a select list. DataFusion 55 plans an
//! `EXISTS` only as a condition of a filter (it becomes a semi or mark join there); anywhere
//! else the physical planner refuses it ("Physical plan does not support logical expression
//! Exists", apache/datafusion#23022), which PostgreSQL clients do not expect.
//!
//! This analyzer rule rewrites every `EXISTS (q)` outside a filter into the scalar subquery
//! `(SELECT count(*) > 0 FROM q)` (`= 0` for `NOT EXISTS`), which DataFusion decorrelates
//! into a join when `q` refers to the outer query (a group with no row counts 0, never NULL),
//! and runs once when it does not. The value is the same: `EXISTS` is true exactly when `q`
//! has a row. Filters keep their `EXISTS`, for DataFusion's semi joins. What DataFusion
//! cannot decorrelate stays an error, as its own scalar subqueries of that shape are: a
//! correlation by inequality (`w.y > v.x`), a correlated `EXISTS` in `ORDER BY`.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::expr::Exists;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Subquery, lit};
use datafusion::optimizer::AnalyzerRule;

/// The analyzer rule of this module.
#[derive(Debug, Default)]
pub struct ExistsAsValue;

impl AnalyzerRule for ExistsAsValue {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Filter(_) => Ok(Transformed::no(node)),
            other => other.map_expressions(|e| e.transform_up(exists_to_count)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "exists_as_value"
    }
}

/// `EXISTS (q)` → `(SELECT count(*) > 0 FROM q)`; other expressions unchanged.
fn exists_to_count(e: Expr) -> Result<Transformed<Expr>> {
    let Expr::Exists(Exists { subquery, negated }) = e else {
        return Ok(Transformed::no(e));
    };
    let rows = count(lit(1_i64));
    let counted = Expr::Column(rows.schema_name().to_string().into());
    let has_rows = if negated {
        counted.eq(lit(0_i64))
    } else {
        counted.gt(lit(0_i64))
    };
    let plan = LogicalPlanBuilder::from(Arc::unwrap_or_clone(subquery.subquery))
        .aggregate(Vec::<Expr>::new(), vec![rows])?
        .project(vec![has_rows])?
        .build()?;
    Ok(Transformed::yes(Expr::ScalarSubquery(Subquery {
        subquery: Arc::new(plan),
        outer_ref_columns: subquery.outer_ref_columns,
        spans: subquery.spans,
    })))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::prelude::SessionContext;

    use super::ExistsAsValue;

    async fn table(sql: &str) -> String {
        let ctx = SessionContext::new();
        ctx.add_analyzer_rule(Arc::new(ExistsAsValue));
        let batches = ctx
            .sql(sql)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
        pretty_format_batches(&batches).expect("format").to_string()
    }

    const INLINE: &str = "(SELECT 1 AS y UNION ALL SELECT 2 UNION ALL SELECT 3)";

    #[tokio::test]
    async fn exists_in_a_select_list_is_a_value() {
        let got = table(&format!(
            "SELECT EXISTS (SELECT 1 FROM {INLINE} w WHERE y > 2) AS a, \
             EXISTS (SELECT 1 FROM {INLINE} w WHERE y > 3) AS b, \
             NOT EXISTS (SELECT 1 WHERE false) AS c"
        ))
        .await;
        assert!(got.contains("| true | false | true |"), "{got}");
    }

    #[tokio::test]
    async fn correlated_exists_is_false_for_rows_without_a_match() {
        let got = table(&format!(
            "SELECT x, EXISTS (SELECT 1 FROM {INLINE} w WHERE w.y = v.x) AS known \
             FROM (SELECT 1 AS x UNION ALL SELECT 4 UNION ALL SELECT NULL) v ORDER BY x"
        ))
        .await;
        let rows: Vec<&str> = got
            .lines()
            .filter(|l| l.starts_with("| "))
            .skip(1)
            .collect();
        assert_eq!(
            rows,
            ["| 1 | true  |", "| 4 | false |", "|   | false |"],
            "{got}"
        );
    }
}
