//! `x > ANY (SELECT …)`, `x = ANY (…)`, `x <> ALL (…)` over the table of the outer query.
//! DataFusion decorrelates such a comparison after stripping the outer reference, and when the
//! subquery's column has the outer column's name (`SELECT … FROM cdrs WHERE duration_s > ALL
//! (SELECT duration_s FROM cdrs …)`) both sides become the subquery's: `> ANY`/`> ALL` kept no
//! row and `= ANY` every row (apache/datafusion#25258, open).
//!
//! This analyzer rule gives each uncorrelated compared subquery an alias of its own ([`ALIAS`]
//! and a number), so that its column is never named as an outer one. (A correlated one names
//! the outer table apart from its own already; DataFusion does not decorrelate through the
//! alias.)

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::expr::SetComparison;
use datafusion::logical_expr::{Expr, LogicalPlan, SubqueryAlias};
use datafusion::optimizer::AnalyzerRule;

/// The prefix of the subqueries' aliases.
const ALIAS: &str = "__cdrlake_compared";

/// The analyzer rule of this module.
#[derive(Debug, Default)]
pub struct SetComparisonAliases;

impl AnalyzerRule for SetComparisonAliases {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        let mut next = 0usize;
        plan.transform_up_with_subqueries(|node| {
            node.map_expressions(|e| {
                e.transform_up(|e| match e {
                    Expr::SetComparison(mut c)
                        if c.subquery.outer_ref_columns.is_empty() && !is_aliased(&c) =>
                    {
                        let n = next;
                        next += 1;
                        let plan = Arc::clone(&c.subquery.subquery);
                        let aliased = SubqueryAlias::try_new(plan, format!("{ALIAS}_{n}"))?;
                        c.subquery.subquery = Arc::new(LogicalPlan::SubqueryAlias(aliased));
                        Ok(Transformed::yes(Expr::SetComparison(c)))
                    }
                    other => Ok(Transformed::no(other)),
                })
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "set_comparison_aliases"
    }
}

fn is_aliased(c: &SetComparison) -> bool {
    matches!(c.subquery.subquery.as_ref(),
        LogicalPlan::SubqueryAlias(a) if a.alias.table().starts_with(ALIAS))
}
