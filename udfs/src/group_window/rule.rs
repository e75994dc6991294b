//! [`GroupWindowRule`]: plans [`GroupWindowExec`] for a `WindowAggExec` of unordered-group
//! functions.

use std::any::Any;
use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::WindowUDFImpl;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::windows::{
    StandardWindowExpr, WindowAggExec, WindowExpr, WindowUDFExpr,
};

use super::GroupWindowExec;
use crate::group_first::{FirstFlagPosition, FirstInGroup};

/// Replaces every `WindowAggExec` whose functions are all `first_in_group` or
/// `first_flag_position` with no `ORDER BY` by a [`GroupWindowExec`] over the same input.
///
/// Runs before DataFusion's rules that enforce distribution and sorting, so the sort by the
/// partition keys that `WindowAggExec` asks for is never planned; the hash repartitioning
/// by them, which [`GroupWindowExec`] asks for, is.
#[derive(Debug, Default)]
pub struct GroupWindowRule;

impl GroupWindowRule {
    /// Whether `function` is one [`GroupWindowExec`] evaluates: an unordered-group function
    /// with no `ORDER BY` in its window.
    fn evaluates(function: &Arc<dyn WindowExpr>) -> bool {
        let Some(standard) = function.as_any().downcast_ref::<StandardWindowExpr>() else {
            return false;
        };
        let Some(udf) = standard
            .get_standard_func_expr()
            .as_any()
            .downcast_ref::<WindowUDFExpr>()
        else {
            return false;
        };
        let inner: &dyn WindowUDFImpl = udf.fun().inner().as_ref();
        let inner = inner as &dyn Any;
        function.order_by().is_empty()
            && (inner.is::<FirstInGroup>() || inner.is::<FirstFlagPosition>())
    }
}

impl PhysicalOptimizerRule for GroupWindowRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(window) = node.downcast_ref::<WindowAggExec>() else {
                return Ok(Transformed::no(node));
            };
            let functions = window.window_expr();
            let Some(first) = functions.first() else {
                return Ok(Transformed::no(node));
            };
            let same_partitions = functions.iter().all(|f| {
                f.partition_by().len() == first.partition_by().len()
                    && f.partition_by()
                        .iter()
                        .zip(first.partition_by())
                        .all(|(a, b)| a.eq(b))
            });
            if !same_partitions || !functions.iter().all(Self::evaluates) {
                return Ok(Transformed::no(node));
            }
            let exec = GroupWindowExec::new(
                Arc::clone(window.input()),
                functions.to_vec(),
                window.schema(),
            );
            Ok(Transformed::yes(Arc::new(exec) as Arc<dyn ExecutionPlan>))
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "group_window"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
