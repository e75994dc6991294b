//! A sorted plan as a streaming table source. Delta's writer plans its input with the
//! session's optimizer, which drops a sort whose order no operator above it requires; a
//! sort executed here, outside that plan, reaches the writer in order, batch by batch.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::SessionContext;
use deltalake::delta_datafusion::create_session_state_with_spill_config;

use crate::error::Result;

/// One partition of rows, produced by executing a single-partition plan.
#[derive(Debug)]
struct PlanStream {
    schema: SchemaRef,
    plan: Arc<dyn ExecutionPlan>,
    /// The context to execute `plan` in, when not the one scanning the table (a plan made by
    /// another session needs that session's object stores).
    task: Option<Arc<TaskContext>>,
}

impl PartitionStream for PlanStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let ctx = self.task.clone().unwrap_or(ctx);
        match self.plan.execute(0, ctx) {
            Ok(stream) => stream,
            Err(e) => Box::pin(RecordBatchStreamAdapter::new(
                self.schema.clone(),
                futures::stream::once(async move { Err(e) }),
            )),
        }
    }
}

/// A table whose one scan streams the rows of `plan`, which must have one output partition
/// (so its order is the order of its rows).
pub fn table_of(plan: Arc<dyn ExecutionPlan>) -> Result<StreamingTable> {
    table_with(plan, None)
}

/// [`table_of`] a plan of another session, executed in its `task` context.
pub fn table_in(plan: Arc<dyn ExecutionPlan>, task: Arc<TaskContext>) -> Result<StreamingTable> {
    table_with(plan, Some(task))
}

fn table_with(
    plan: Arc<dyn ExecutionPlan>,
    task: Option<Arc<TaskContext>>,
) -> Result<StreamingTable> {
    let partitions = plan.properties().output_partitioning().partition_count();
    if partitions != 1 {
        return Err(datafusion::error::DataFusionError::Internal(format!(
            "a sorted source needs one partition, the plan has {partitions}"
        ))
        .into());
    }
    let schema = plan.schema();
    let stream = PlanStream {
        schema: schema.clone(),
        plan,
        task,
    };
    Ok(StreamingTable::try_new(schema, vec![Arc::new(stream)])?)
}

/// A session of Delta's planner (its writer plans custom nodes) whose sorts spill past
/// `sort_memory` bytes, with one partition so that a writer receives the rows in order.
pub fn writer_context(sort_memory: usize) -> SessionContext {
    let state = create_session_state_with_spill_config(Some(sort_memory), None);
    let config = state.config().clone().with_target_partitions(1);
    SessionContext::new_with_state(
        SessionStateBuilder::new_from_existing(state)
            .with_config(config)
            .build(),
    )
}
