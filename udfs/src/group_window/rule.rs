//! [`GroupWindowRule`]: plans [`GroupWindowExec`] for a `WindowAggExec` of unordered-group
//! functions.

use std::any::Any;
use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
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
use crate::group_first::{FirstFlagPosition, FirstInGroup, GroupFirsts, Shape};

/// Replaces every `WindowAggExec` whose functions are all `first_in_group` or
/// `first_flag_position` with no `ORDER BY` by a [`GroupWindowExec`] over the same input.
///
/// Runs before DataFusion's rules that enforce distribution and sorting, so the sort by the
/// partition keys that `WindowAggExec` asks for is never planned; the hash repartitioning
/// by the groups' keys, which [`GroupWindowExec`] asks for, is.
#[derive(Debug, Default)]
pub struct GroupWindowRule;

impl GroupWindowRule {
    /// The shape of `function`'s arguments if [`GroupWindowExec`] evaluates it: an
    /// unordered-group function with no `ORDER BY` in its window, ordering by types Arrow's
    /// row format encodes.
    fn shape(function: &Arc<dyn WindowExpr>, input: &Schema) -> Option<Shape> {
        let standard = function.as_any().downcast_ref::<StandardWindowExpr>()?;
        let udf = standard
            .get_standard_func_expr()
            .as_any()
            .downcast_ref::<WindowUDFExpr>()?;
        let inner: &dyn WindowUDFImpl = udf.fun().inner().as_ref();
        let inner = inner as &dyn Any;
        let shape = if let Some(first) = inner.downcast_ref::<FirstInGroup>() {
            first.shape()
        } else if inner.is::<FirstFlagPosition>() {
            FirstFlagPosition::shape()
        } else {
            return None;
        };
        let types = function
            .expressions()
            .iter()
            .map(|e| e.data_type(input))
            .collect::<Result<Vec<_>>>()
            .ok()?;
        // The state's row format must encode the order arguments' types.
        let encodable = GroupFirsts::new(shape.clone(), &types).is_ok();
        (function.order_by().is_empty() && encodable).then_some(shape)
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
            let same_partitions = functions
                .iter()
                .all(|f| f.partition_by() == first.partition_by());
            let input = window.input().schema();
            let shapes: Option<Vec<Shape>> =
                functions.iter().map(|f| Self::shape(f, &input)).collect();
            let (true, Some(shapes)) = (same_partitions, shapes) else {
                return Ok(Transformed::no(node));
            };
            let functions = functions.iter().cloned().zip(shapes).collect();
            let exec = GroupWindowExec::new(Arc::clone(window.input()), functions, window.schema());
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
