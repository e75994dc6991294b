//! [`GroupWindowExec`]: the unordered-group window functions ([`group_first`](crate::group_first))
//! evaluated without DataFusion's window operator.
//!
//! `first_in_group(…) OVER (PARTITION BY tenant)` and `first_flag_position(…) OVER (PARTITION BY
//! tenant)` need no order: each row's answer depends only on its group (the partition keys and
//! the function's keys) and the least row of that group. DataFusion's `WindowAggExec` still
//! asks for its input sorted by the partition keys, then buffers and concatenates each window
//! partition, every column of it, outside the memory pool. For the call log of 10M CDRs
//! that was a sort moving every column and a 3.5 GB peak against a 2 GB query limit
//! (`benches/RESULTS.md`, callog2).
//!
//! This operator asks only for its input hash-partitioned by the partition keys. It keeps the
//! input batches as they come (no copy) and feeds each function's arguments, batch by batch,
//! to its incremental state ([`GroupFirsts`]: the groups, numbered by a hash table, and each
//! group's least row so far), with the partition keys as further group keys, so one state
//! covers every window partition the input partition holds. At the end of its input it emits
//! the kept batches in input order, each with its answers appended as it leaves. The kept
//! batches and the states are counted in the query's memory pool. The rule
//! [`GroupWindowRule`] plans it in place of a `WindowAggExec` whose functions are all of that
//! kind.

mod rule;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::utils::memory::RecordBatchMemoryCounter;
use datafusion::common::{Result, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::windows::WindowExpr;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    InputDistributionRequirements, PlanProperties, ReplaceChildrenOptions, apply_expression_roots,
};
use futures::{StreamExt, TryStreamExt, stream};

pub use rule::GroupWindowRule;

use crate::group_first::{GroupFirsts, Shape};

/// Evaluates window functions over unordered groups (see the [module docs](self)) on its
/// input, appending one column per function; output rows are the input rows in input order.
#[derive(Debug)]
pub struct GroupWindowExec {
    input: Arc<dyn ExecutionPlan>,
    /// The functions, each with no `ORDER BY` and the shape of its arguments; all share
    /// `partition_by`.
    functions: Vec<(Arc<dyn WindowExpr>, Shape)>,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl GroupWindowExec {
    /// The operator for `functions` over `input`, with the output schema `schema` (the input's
    /// columns, then one per function, as the `WindowAggExec` it replaces).
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        functions: Vec<(Arc<dyn WindowExpr>, Shape)>,
        schema: SchemaRef,
    ) -> Self {
        let partition_by = functions
            .first()
            .map(|(f, _)| f.partition_by().to_vec())
            .unwrap_or_default();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(&schema)),
            input.output_partitioning().clone(),
            EmissionType::Final,
            input.boundedness(),
        );
        Self {
            input,
            functions,
            partition_by,
            schema,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for GroupWindowExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.functions.iter().map(|(w, _)| w.name()).collect();
        write!(f, "GroupWindowExec: wdw=[{}]", names.join(", "))
    }
}

impl ExecutionPlan for GroupWindowExec {
    fn name(&self) -> &'static str {
        "GroupWindowExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let roots = self
            .functions
            .iter()
            .flat_map(|(w, _)| w.expressions())
            .chain(self.partition_by.iter().cloned());
        apply_expression_roots(roots, f)
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let distribution = if self.partition_by.is_empty() {
            Distribution::SinglePartition
        } else {
            Distribution::KeyPartitioned(self.partition_by.clone())
        };
        InputDistributionRequirements::new(vec![distribution])
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(input) = children.pop().filter(|_| children.is_empty()) else {
            return internal_err!("GroupWindowExec takes one input");
        };
        Ok(Arc::new(match options.children_properties {
            ChildrenPropertiesMode::Keep => Self {
                input,
                functions: self.functions.clone(),
                partition_by: self.partition_by.clone(),
                schema: Arc::clone(&self.schema),
                properties: Arc::clone(&self.properties),
                metrics: ExecutionPlanMetricsSet::new(),
            },
            ChildrenPropertiesMode::Recompute => {
                Self::new(input, self.functions.clone(), Arc::clone(&self.schema))
            }
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let reservation = MemoryConsumer::new(format!("GroupWindowExec[{partition}]"))
            .register(context.memory_pool());
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let work = Work {
            functions: self.functions.clone(),
            partition_by: self.partition_by.clone(),
            schema: Arc::clone(&self.schema),
            reservation,
            metrics,
        };
        let batches = stream::once(work.run(input))
            .map_ok(stream::iter)
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            batches,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// One input partition's evaluation.
struct Work {
    functions: Vec<(Arc<dyn WindowExpr>, Shape)>,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    reservation: MemoryReservation,
    metrics: BaselineMetrics,
}

/// A kept input batch: the batch, the bytes reserved for it, and per function the values its
/// [`GroupFirsts`] takes (arguments, then the partition keys as further group keys).
struct Kept {
    batch: RecordBatch,
    size: usize,
    values: Vec<Vec<ArrayRef>>,
}

impl Work {
    /// Reads the whole input into the functions' states; then the output is the kept batches
    /// with their answers, computed as each is emitted.
    async fn run(
        self,
        mut input: SendableRecordBatchStream,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
        let mut kept = Vec::new();
        let mut states = Vec::with_capacity(self.functions.len());
        for (function, shape) in &self.functions {
            let types = function
                .expressions()
                .iter()
                .chain(&self.partition_by)
                .map(|e| e.data_type(&input.schema()))
                .collect::<Result<Vec<_>>>()?;
            states.push(GroupFirsts::new(shape.clone(), &types)?);
        }
        let mut held = 0;
        let mut counter = RecordBatchMemoryCounter::new();
        while let Some(batch) = input.next().await {
            let batch = batch?;
            let _timer = self.metrics.elapsed_compute().timer();
            let num_rows = batch.num_rows();
            let keys = self
                .partition_by
                .iter()
                .map(|key| key.evaluate(&batch)?.into_array(num_rows))
                .collect::<Result<Vec<_>>>()?;
            let mut values = Vec::with_capacity(states.len());
            for ((function, _), state) in self.functions.iter().zip(&mut states) {
                let mut row = function.evaluate_args(&batch)?;
                row.extend(keys.iter().cloned());
                state.push(&row)?;
                values.push(row);
            }
            // Batches of one Parquet page share its buffers, and arguments that are columns
            // share the batch's: each buffer is counted once.
            let mut size = counter.count_batch(&batch);
            for row in &values {
                let named = row
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (i.to_string(), Arc::clone(a)));
                size += counter.count_batch(&RecordBatch::try_from_iter(named)?);
            }
            held += size;
            let states_size: usize = states.iter().map(GroupFirsts::size).sum();
            self.reservation.try_resize(held + states_size)?;
            kept.push(Kept {
                batch,
                size,
                values,
            });
        }
        let Work {
            schema,
            reservation,
            metrics,
            ..
        } = self;
        let mut first_row = 0;
        Ok(kept.into_iter().map(move |kept| {
            let _timer = metrics.elapsed_compute().timer();
            let rows = kept.batch.num_rows();
            let mut columns = kept.batch.columns().to_vec();
            for (state, values) in states.iter().zip(&kept.values) {
                columns.push(state.answers(values, first_row)?);
            }
            first_row += rows;
            // A kept batch leaves the pool's count as it leaves the operator.
            reservation.shrink(kept.size.min(reservation.size()));
            metrics.record_output(rows);
            Ok(RecordBatch::try_new(Arc::clone(&schema), columns)?)
        }))
    }
}

#[cfg(test)]
mod tests;
