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
//! This operator asks only for its input hash-partitioned by the partition keys and the key
//! arguments its functions share (each group then lies in one input partition). It keeps the
//! input batches as they come (no copy) and feeds each function's arguments, batch by batch,
//! to its incremental state ([`GroupFirsts`]: the groups, numbered by a hash table, and each
//! group's least row so far), with the partition keys as further group keys, so one state
//! covers every window partition the input partition holds. At the end of its input it emits
//! the kept batches in input order, each with its answers appended as it leaves. The kept
//! batches and the states are counted in the query's memory pool; kept batches that do not
//! fit are spilled to disk ([`kept`]). The rule
//! [`GroupWindowRule`] plans it in place of a `WindowAggExec` whose functions are all of that
//! kind.

mod kept;
mod rule;

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{ColumnStatistics, Result, Statistics, internal_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::ExecutionPlanProperties;
use datafusion::physical_plan::execution_plan::CardinalityEffect;
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet, SpillMetrics,
};
use datafusion::physical_plan::projection::{
    EmbeddedProjection, ProjectionExec, try_embed_projection,
};
use datafusion::physical_plan::statistics::{ChildStats, StatisticsArgs};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::windows::WindowExpr;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, Distribution, ExecutionPlan,
    InputDistributionRequirements, PlanProperties, ReplaceChildrenOptions, apply_expression_roots,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt, stream};

use kept::KeptBatches;
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
    /// The output of the `WindowAggExec` replaced: the input's columns, then one per function.
    window_schema: SchemaRef,
    /// The columns of `window_schema` emitted, in order (all when `None`): a projection above
    /// embedded, so that kept batches hold only the input columns the plan still reads.
    projection: Option<Vec<usize>>,
    /// `window_schema` projected.
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

/// Where an output column comes from.
#[derive(Debug, Clone, Copy)]
enum Output {
    /// The input's column of this index.
    Input(usize),
    /// The answers of the function of this index.
    Answer(usize),
}

impl GroupWindowExec {
    /// The operator for `functions` over `input`, with the output schema `window_schema` (the
    /// input's columns, then one per function, as the `WindowAggExec` it replaces).
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        functions: Vec<(Arc<dyn WindowExpr>, Shape)>,
        window_schema: SchemaRef,
    ) -> Self {
        let partition_by = functions
            .first()
            .map(|(f, _)| f.partition_by().to_vec())
            .unwrap_or_default();
        let properties = Self::properties_of(&input, Arc::clone(&window_schema));
        Self {
            input,
            functions,
            partition_by,
            schema: Arc::clone(&window_schema),
            window_schema,
            projection: None,
            properties: Arc::new(properties),
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    fn properties_of(input: &Arc<dyn ExecutionPlan>, schema: SchemaRef) -> PlanProperties {
        PlanProperties::new(
            EquivalenceProperties::new(schema),
            input.output_partitioning().clone(),
            EmissionType::Final,
            input.boundedness(),
        )
    }

    /// The same operator over a new input.
    fn with_input(&self, input: Arc<dyn ExecutionPlan>) -> Result<Self> {
        Self::new(
            input,
            self.functions.clone(),
            Arc::clone(&self.window_schema),
        )
        .with_projection(self.projection.clone())
    }

    /// Expressions on which the rows of any one group of every function agree: the partition
    /// keys, then the key arguments all functions share. The input needs to be partitioned
    /// by these alone, which is finer than by the partition keys: the call log's
    /// `OVER (PARTITION BY tenant)` with `source` as a key spreads over every core even when
    /// the store has one tenant (by tenant alone, one core did all the work).
    fn group_keys(&self) -> Vec<Arc<dyn PhysicalExpr>> {
        let keys_of = |(function, shape): &(Arc<dyn WindowExpr>, Shape)| {
            let mut arguments = function.expressions();
            arguments.split_off(shape.leading().min(arguments.len()))
        };
        let mut keys = self.partition_by.clone();
        if let Some((first, rest)) = self.functions.split_first() {
            let others: Vec<_> = rest.iter().map(keys_of).collect();
            keys.extend(
                keys_of(first)
                    .into_iter()
                    .filter(|key| others.iter().all(|other| other.contains(key)))
                    .filter(|key| !self.partition_by.contains(key)),
            );
        }
        keys
    }

    /// Where each output column comes from.
    fn outputs(&self) -> Vec<Output> {
        let inputs = self.input.schema().fields().len();
        let all = 0..self.window_schema.fields().len();
        let columns: Vec<usize> = self.projection.clone().unwrap_or_else(|| all.collect());
        columns
            .into_iter()
            .map(|c| match c.checked_sub(inputs) {
                None => Output::Input(c),
                Some(f) => Output::Answer(f),
            })
            .collect()
    }
}

impl EmbeddedProjection for GroupWindowExec {
    fn with_projection(&self, projection: Option<Vec<usize>>) -> Result<Self> {
        let schema = match &projection {
            None => Arc::clone(&self.window_schema),
            Some(columns) => Arc::new(self.window_schema.project(columns)?),
        };
        Ok(Self {
            input: Arc::clone(&self.input),
            functions: self.functions.clone(),
            partition_by: self.partition_by.clone(),
            window_schema: Arc::clone(&self.window_schema),
            projection,
            properties: Arc::new(Self::properties_of(&self.input, Arc::clone(&schema))),
            schema,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }
}

impl DisplayAs for GroupWindowExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.functions.iter().map(|(w, _)| w.name()).collect();
        write!(f, "GroupWindowExec: wdw=[{}]", names.join(", "))?;
        if self.projection.is_some() {
            let names: Vec<&str> = self
                .schema
                .fields()
                .iter()
                .map(|c| c.name().as_str())
                .collect();
            write!(f, ", projection=[{}]", names.join(", "))?;
        }
        Ok(())
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

    /// Hash-partitioned by [`Self::group_keys`]; in one partition if there are none.
    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        let keys = self.group_keys();
        let distribution = if keys.is_empty() {
            Distribution::SinglePartition
        } else {
            Distribution::KeyPartitioned(keys)
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
                window_schema: Arc::clone(&self.window_schema),
                projection: self.projection.clone(),
                schema: Arc::clone(&self.schema),
                properties: Arc::clone(&self.properties),
                metrics: ExecutionPlanMetricsSet::new(),
            },
            ChildrenPropertiesMode::Recompute => self.with_input(input)?,
        }))
    }

    fn try_swapping_with_projection(
        &self,
        projection: &ProjectionExec,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        if self.projection.is_some() {
            return Ok(None);
        }
        try_embed_projection(projection, self)
    }

    fn child_stats_requests(&self, partition: Option<usize>) -> Vec<ChildStats> {
        vec![ChildStats::At(partition)]
    }

    /// The input's row count and column statistics; nothing known of the answers. Join
    /// planning needs the row count to put the smaller side on the build side.
    fn statistics_from_inputs(
        &self,
        input_stats: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        let Some(input) = input_stats.first() else {
            return internal_err!("GroupWindowExec takes one input");
        };
        let mut columns = input.column_statistics.clone();
        columns.resize(
            self.window_schema.fields().len(),
            ColumnStatistics::new_unknown(),
        );
        let statistics = Statistics {
            num_rows: input.num_rows,
            total_byte_size: Precision::Absent,
            column_statistics: columns,
        };
        Ok(Arc::new(statistics.project(self.projection.as_ref())))
    }

    fn cardinality_effect(&self) -> CardinalityEffect {
        CardinalityEffect::Equal
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
        let reservation = MemoryConsumer::new(format!("GroupWindowExec[{partition}] groups"))
            .register(context.memory_pool());
        let metrics = BaselineMetrics::new(&self.metrics, partition);
        let kept = KeptBatches::new(
            MemoryConsumer::new(format!("GroupWindowExec[{partition}] input"))
                .with_can_spill(true)
                .register(context.memory_pool()),
            &context,
            SpillMetrics::new(&self.metrics, partition),
        );
        let work = Work {
            functions: self.functions.clone(),
            partition_by: self.partition_by.clone(),
            outputs: self.outputs(),
            schema: Arc::clone(&self.schema),
            reservation,
            metrics,
            kept,
        };
        let batches = stream::once(work.run(input)).try_flatten();
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
    outputs: Vec<Output>,
    schema: SchemaRef,
    reservation: MemoryReservation,
    metrics: BaselineMetrics,
    /// Of each input batch, the input columns the output holds. The answers need none of the
    /// batch's arguments: the states keep what they read.
    kept: KeptBatches,
}

impl Work {
    /// Reads the whole input into the functions' states; then the output is the kept batches
    /// with their answers, computed as each is emitted.
    async fn run(
        mut self,
        mut input: SendableRecordBatchStream,
    ) -> Result<BoxStream<'static, Result<RecordBatch>>> {
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
        while let Some(batch) = input.next().await {
            let batch = batch?;
            let _timer = self.metrics.elapsed_compute().timer();
            let rows = batch.num_rows();
            let keys = self
                .partition_by
                .iter()
                .map(|key| key.evaluate(&batch)?.into_array(rows))
                .collect::<Result<Vec<_>>>()?;
            let columns: Vec<ArrayRef> = self
                .outputs
                .iter()
                .filter_map(|o| match *o {
                    Output::Input(c) => Some(Arc::clone(batch.column(c))),
                    Output::Answer(_) => None,
                })
                .collect();
            for ((function, _), state) in self.functions.iter().zip(&mut states) {
                let mut values = function.evaluate_args(&batch)?;
                values.extend(keys.iter().cloned());
                state.push(&values)?;
            }
            self.kept.push(columns, rows)?;
            let states_size: usize = states.iter().map(GroupFirsts::size).sum();
            if self.reservation.try_resize(states_size).is_err() {
                // The states cannot spill; the kept input can make room for them.
                self.kept.spill()?;
                self.reservation.try_resize(states_size)?;
            }
        }
        // `reservation` goes with the states, into the output stream.
        let Work {
            outputs,
            schema,
            reservation,
            metrics,
            kept,
            ..
        } = self;
        let mut first_row = 0;
        let emitted = kept.into_stream().map(move |held| {
            // The states stay counted in the pool until the last batch has left.
            let _states = &reservation;
            let batch = held?;
            let _timer = metrics.elapsed_compute().timer();
            let rows = batch.num_rows();
            let mut input_columns = batch.columns().iter().cloned();
            let columns = outputs
                .iter()
                .map(|output| match *output {
                    Output::Input(_) => match input_columns.next() {
                        Some(column) => Ok(column),
                        None => internal_err!("GroupWindowExec lost an input column"),
                    },
                    Output::Answer(f) => states[f].answers(rows, first_row),
                })
                .collect::<Result<Vec<_>>>()?;
            first_row += rows;
            metrics.record_output(rows);
            let options = RecordBatchOptions::new().with_row_count(Some(rows));
            Ok(RecordBatch::try_new_with_options(
                Arc::clone(&schema),
                columns,
                &options,
            )?)
        });
        Ok(emitted.boxed())
    }
}

#[cfg(test)]
mod tests;
