//! An `UNNEST` makes several rows of one: a key unique in its input (a `GROUP BY` column) is
//! not unique in its output. DataFusion's `Unnest` keeps its input's functional dependencies,
//! and its optimizer reads them: `SELECT tenant, unnest(array_agg(d)) … GROUP BY 1 ORDER BY 1,
//! 2` was sorted by `tenant` alone (the second key "determined" by the first), and a
//! `DISTINCT` or a join over such keys may be dropped too (apache/datafusion#24787, open).
//!
//! This optimizer rule, first of every pass, gives each `Unnest` no dependencies and derives
//! the schemas above it again.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{FunctionalDependencies, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// The optimizer rule of this module.
#[derive(Debug, Default)]
pub struct UnnestKeys;

impl OptimizerRule for UnnestKeys {
    fn name(&self) -> &str {
        "unnest_keys"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let claims_keys = plan.exists(|node| {
            Ok(matches!(node, LogicalPlan::Unnest(u)
                if !u.schema.functional_dependencies().is_empty()))
        })?;
        if !claims_keys {
            return Ok(Transformed::no(plan));
        }
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::Unnest(mut unnest) => {
                let schema = unnest.schema.as_ref().clone();
                unnest.schema =
                    Arc::new(schema.with_functional_dependencies(FunctionalDependencies::empty())?);
                Ok(Transformed::yes(LogicalPlan::Unnest(unnest)))
            }
            other => other.recompute_schema().map(Transformed::yes),
        })
    }
}
