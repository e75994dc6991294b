//! The physical optimizer rule [`DistinctScanPredicates`]: a Parquet scan evaluates each
//! condition of its predicate once, not once per copy.
//!
//! A filter on `cdrs` reaches the Parquet reader twice. delta-rs gives the scan the filters
//! the table provider was asked to apply (with row-level pushdown on), and the provider
//! answers them as inexact, so DataFusion keeps a `FilterExec` above the scan, which its
//! physical filter push-down then moves into the same scan, appending the same conditions:
//! `start_time >= a AND start_time < b AND billing_account IS NOT NULL AND start_time >= a
//! AND …`. The Parquet reader turns every conjunct into a row filter of its own, one decoding
//! and evaluation pass over its columns each, so each condition ran twice (six passes instead
//! of three for the benchmark's monthly totals). The rule keeps the first copy of each
//! conjunct, in order; the result of the scan is unchanged since `x AND x` is `x`.
//!
//! It is a separate rule, not a change of the provider, because the duplication comes from
//! two layers (delta-rs's scan and DataFusion's push-down) that are each right on their own.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::utils::{conjunction, split_conjunction};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

/// Removes repeated conjuncts from the predicates of Parquet scans; see the
/// [module docs](self).
#[derive(Debug, Default)]
pub struct DistinctScanPredicates;

impl PhysicalOptimizerRule for DistinctScanPredicates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        rewrite_scan_predicates(plan, |_, conjuncts| {
            let mut distinct: Vec<Arc<dyn PhysicalExpr>> = Vec::with_capacity(conjuncts.len());
            for conjunct in conjuncts {
                if !distinct.iter().any(|d| d.as_ref() == conjunct.as_ref()) {
                    distinct.push(Arc::clone(conjunct));
                }
            }
            distinct
        })
    }

    fn name(&self) -> &str {
        "cdrlake_distinct_scan_predicates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `plan` with the predicate of each Parquet scan replaced by the conjunction of what
/// `rewrite` makes of its conjuncts (given the scan's configuration), where that has fewer
/// conjuncts; `rewrite` must keep at least one.
pub(super) fn rewrite_scan_predicates(
    plan: Arc<dyn ExecutionPlan>,
    rewrite: impl Fn(&FileScanConfig, &[&Arc<dyn PhysicalExpr>]) -> Vec<Arc<dyn PhysicalExpr>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let Some(exec) = node.downcast_ref::<DataSourceExec>() else {
            return Ok(Transformed::no(node));
        };
        let Some((config, source)) = exec.downcast_to_file_source::<ParquetSource>() else {
            return Ok(Transformed::no(node));
        };
        let Some(predicate) = FileSource::filter(source) else {
            return Ok(Transformed::no(node));
        };
        let conjuncts = split_conjunction(&predicate);
        let kept = rewrite(config, &conjuncts);
        if kept.is_empty() || kept.len() == conjuncts.len() {
            return Ok(Transformed::no(node));
        }
        let mut config = config.clone();
        config.file_source = Arc::new(source.with_predicate(conjunction(kept)));
        Ok(Transformed::yes(
            Arc::new(exec.clone().with_data_source(Arc::new(config))) as Arc<dyn ExecutionPlan>,
        ))
    })
    .data()
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::physical_plan::FileScanConfigBuilder;
    use datafusion::execution::object_store::ObjectStoreUrl;
    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{binary, col, lit};

    use super::*;

    fn predicate_of(plan: &Arc<dyn ExecutionPlan>) -> Option<String> {
        let exec = plan.downcast_ref::<DataSourceExec>()?;
        let (_, source) = exec.downcast_to_file_source::<ParquetSource>()?;
        let filter = datafusion::datasource::physical_plan::FileSource::filter(source)?;
        Some(filter.to_string())
    }

    #[test]
    fn repeated_conjuncts_are_evaluated_once() -> Result<()> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]));
        let a_low = binary(col("a", &schema)?, Operator::GtEq, lit(1_i64), &schema)?;
        let a_high = binary(col("a", &schema)?, Operator::Lt, lit(9_i64), &schema)?;
        let b = binary(col("b", &schema)?, Operator::Eq, lit("x"), &schema)?;
        let repeated = conjunction([a_low, a_high, b.clone(), b]);
        let source = ParquetSource::new(Arc::clone(&schema)).with_predicate(repeated);
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
                .build();
        let plan: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(config);
        let before = predicate_of(&plan).unwrap_or_default();
        assert_eq!(before.matches("b@1 = x").count(), 2, "{before}");

        let plan = DistinctScanPredicates.optimize(plan, &ConfigOptions::default())?;
        let after = predicate_of(&plan).unwrap_or_default();
        assert_eq!(after, "a@0 >= 1 AND a@0 < 9 AND b@1 = x");
        Ok(())
    }
}
