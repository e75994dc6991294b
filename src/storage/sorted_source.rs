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
use futures::{StreamExt, TryStreamExt};

use crate::error::Result;

/// One partition of rows, produced by executing single-partition plans one after the other
/// (each starts when the previous one has ended, so only one holds memory at a time).
#[derive(Debug)]
struct PlanStream {
    schema: SchemaRef,
    plans: Vec<Arc<dyn ExecutionPlan>>,
    /// The context to execute the plans in, when not the one scanning the table (a plan made
    /// by another session needs that session's object stores).
    task: Option<Arc<TaskContext>>,
}

impl PartitionStream for PlanStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let ctx = self.task.clone().unwrap_or(ctx);
        // Each plan is executed when the stream reaches it.
        let rows = futures::stream::iter(self.plans.clone())
            .map(move |plan| plan.execute(0, Arc::clone(&ctx)))
            .try_flatten();
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), rows))
    }
}

/// A table whose one scan streams the rows of `plan`, which must have one output partition
/// (so its order is the order of its rows).
pub fn table_of(plan: Arc<dyn ExecutionPlan>) -> Result<StreamingTable> {
    table_with(vec![plan], None)
}

/// [`table_of`] the plans of another session, one after the other, executed in its `task`
/// context; they must have one output partition and the first plan's schema each.
pub fn table_in(
    plans: Vec<Arc<dyn ExecutionPlan>>,
    task: Arc<TaskContext>,
) -> Result<StreamingTable> {
    table_with(plans, Some(task))
}

fn table_with(
    plans: Vec<Arc<dyn ExecutionPlan>>,
    task: Option<Arc<TaskContext>>,
) -> Result<StreamingTable> {
    let internal = |e: String| -> crate::error::Error {
        datafusion::error::DataFusionError::Internal(e).into()
    };
    let schema = plans
        .first()
        .ok_or_else(|| internal("a sorted source needs a plan".into()))?
        .schema();
    for plan in &plans {
        let partitions = plan.properties().output_partitioning().partition_count();
        if partitions != 1 {
            return Err(internal(format!(
                "a sorted source needs one partition, the plan has {partitions}"
            )));
        }
        if plan.schema().fields() != schema.fields() {
            return Err(internal(
                "the plans of a sorted source differ in columns".into(),
            ));
        }
    }
    let stream = PlanStream {
        schema: schema.clone(),
        plans,
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
