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
//! input batches as they come (no copy, counted in the query's memory pool), evaluates the
//! functions' arguments batch by batch, and at the end of its input computes each function
//! once over its arguments — the partition keys added as further group keys, so one pass
//! covers every window partition the input partition holds — and emits the kept batches with
//! the answers appended, in input order. Only the arguments are concatenated. The rule
//! [`GroupWindowRule`] plans it in place of a `WindowAggExec` whose functions are all of that
//! kind.

mod rule;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::windows::{StandardWindowExpr, WindowExpr};
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    InputDistributionRequirements, PlanProperties, ReplaceChildrenOptions,
};
use futures::{StreamExt, TryStreamExt, stream};

pub use rule::GroupWindowRule;

/// Evaluates window functions over unordered groups (see the [module docs](self)) on its
/// input, appending one column per function; output rows are the input rows in input order.
#[derive(Debug)]
pub struct GroupWindowExec {
    input: Arc<dyn ExecutionPlan>,
    /// The functions, each a [`StandardWindowExpr`] with no `ORDER BY` whose arguments end in
    /// group keys; all share `partition_by`.
    functions: Vec<Arc<dyn WindowExpr>>,
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
        functions: Vec<Arc<dyn WindowExpr>>,
        schema: SchemaRef,
    ) -> Self {
        let partition_by = functions
            .first()
            .map(|f| f.partition_by().to_vec())
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
        let names: Vec<&str> = self.functions.iter().map(|w| w.name()).collect();
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
            .flat_map(|w| w.expressions())
            .chain(self.partition_by.iter().cloned());
        for root in roots {
            if f(&root)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
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
            .map_ok(|(batches, reservation)| {
                // The kept batches leave the pool's count as they leave the operator.
                stream::iter(batches.into_iter().map(move |(batch, size)| {
                    reservation.shrink(size.min(reservation.size()));
                    Ok(batch)
                }))
            })
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
    functions: Vec<Arc<dyn WindowExpr>>,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    reservation: MemoryReservation,
    metrics: BaselineMetrics,
}

impl Work {
    /// Reads the whole input, then returns the output batches, each with the bytes reserved
    /// for it, and the reservation that counts them.
    async fn run(
        self,
        mut input: SendableRecordBatchStream,
    ) -> Result<(Vec<(RecordBatch, usize)>, MemoryReservation)> {
        let mut batches = Vec::new();
        // Per function, per batch: the values its evaluator takes (arguments, then the
        // partition keys as further group keys).
        let mut values: Vec<Vec<Vec<ArrayRef>>> = vec![Vec::new(); self.functions.len()];
        while let Some(batch) = input.next().await {
            let batch = batch?;
            let _timer = self.metrics.elapsed_compute().timer();
            let size = batch.get_array_memory_size();
            self.reservation.try_grow(size)?;
            let keys = self
                .partition_by
                .iter()
                .map(|key| key.evaluate(&batch)?.into_array(batch.num_rows()))
                .collect::<Result<Vec<_>>>()?;
            for (function, values) in self.functions.iter().zip(&mut values) {
                let mut row = function.evaluate_args(&batch)?;
                row.extend(keys.iter().cloned());
                values.push(row);
            }
            batches.push((batch, size));
        }
        let _timer = self.metrics.elapsed_compute().timer();
        let num_rows = batches.iter().map(|(batch, _)| batch.num_rows()).sum();
        if num_rows == 0 {
            return Ok((Vec::new(), self.reservation));
        }
        let mut answers = Vec::with_capacity(self.functions.len());
        for (function, values) in self.functions.iter().zip(values) {
            answers.push(self.evaluate(function.as_ref(), values, num_rows)?);
        }
        let mut output = Vec::with_capacity(batches.len());
        let mut offset = 0;
        for (batch, size) in batches {
            let rows = batch.num_rows();
            let mut columns = batch.columns().to_vec();
            columns.extend(answers.iter().map(|answer| answer.slice(offset, rows)));
            offset += rows;
            let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)?;
            output.push((batch, size));
        }
        self.metrics.record_output(num_rows);
        Ok((output, self.reservation))
    }

    /// One function's answers for all `num_rows` rows, from its values per batch.
    fn evaluate(
        &self,
        function: &dyn WindowExpr,
        values: Vec<Vec<ArrayRef>>,
        num_rows: usize,
    ) -> Result<ArrayRef> {
        let Some(standard) = function.as_any().downcast_ref::<StandardWindowExpr>() else {
            return internal_err!("GroupWindowExec evaluates only standard window functions");
        };
        let columns = values.first().map_or(0, Vec::len);
        let mut whole = Vec::with_capacity(columns);
        for column in 0..columns {
            let parts: Vec<&dyn datafusion::arrow::array::Array> =
                values.iter().map(|row| row[column].as_ref()).collect();
            let joined = concat(&parts)?;
            self.reservation.try_grow(joined.get_array_memory_size())?;
            whole.push(joined);
        }
        drop(values);
        let mut evaluator = standard.get_standard_func_expr().create_evaluator()?;
        let answer = evaluator.evaluate_all(&whole, num_rows)?;
        let joined: usize = whole.iter().map(|a| a.get_array_memory_size()).sum();
        self.reservation.shrink(joined.min(self.reservation.size()));
        Ok(answer)
    }
}

#[cfg(test)]
mod tests;
