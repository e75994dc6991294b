//! The walk the expression-rewriting analyzer rules share ([`super::integer_casts`],
//! [`super::interval_compare`], the server's unconstrained `numeric`): every expression of every plan node, subqueries included,
//! rewritten bottom-up with the types of the node's inputs at hand, each keeping its name.

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{Expr, LogicalPlan, Union};

/// `plan` with `rewrite` applied to each expression (and sub-expression) of each node; `rewrite`
/// gets the schema the expression's columns come from.
pub(crate) fn rewrite_expressions(
    plan: LogicalPlan,
    rewrite: impl Fn(Expr, &DFSchema) -> Result<Transformed<Expr>>,
) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let schema = merge_schema(&node.inputs());
        let names = NamePreserver::new(&node);
        let rewritten = node.map_expressions(|expr| {
            let name = names.save(&expr);
            expr.transform_up(|e| rewrite(e, &schema))
                .map(|t| t.update_data(|e| name.restore(e)))
        })?;
        if rewritten.transformed {
            rewritten.map_data(LogicalPlan::recompute_schema)
        } else if let LogicalPlan::Union(union) = rewritten.data {
            // A union keeps the schema it was planned with, and so the field metadata of its
            // inputs' casts once these are rewritten (a union of `x::numeric` then disagreed
            // with its physical plan): derived again from its inputs.
            Ok(Transformed::no(LogicalPlan::Union(
                Union::try_new_with_loose_types(union.inputs)?,
            )))
        } else {
            Ok(rewritten)
        }
    })
    .map(|t| t.data)
}
