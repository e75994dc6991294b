//! A plan whose batches are relabelled with a given schema of the same columns and types.
//!
//! A table provider's scan must produce the schema the logical plan was built with. The scan
//! of a materialized view plans the view (or its stored rows) on its own, and DataFusion
//! carries column metadata differently through a plan optimized alone (the view's
//! `talk_time` keeps `duration_s`'s comment); the columns are the same, only their labels
//! differ, so each batch is given the expected schema (no data is copied).

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterDescription, FilterPushdownPhase, FilterPushdownPropagation,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::StreamExt;

/// `input`, its batches labelled with `schema`.
#[derive(Debug)]
pub struct Relabeled {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

/// `input` producing `schema`: itself when its schema is `schema` already, relabelled when
/// only field metadata or nullability differ, an error when names or types differ.
pub fn relabeled(
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
) -> Result<Arc<dyn ExecutionPlan>> {
    let given = input.schema();
    if given == schema {
        return Ok(input);
    }
    let same_columns = given.fields().len() == schema.fields().len()
        && given
            .fields()
            .iter()
            .zip(schema.fields())
            .all(|(g, s)| g.name() == s.name() && g.data_type() == s.data_type());
    if !same_columns {
        return Err(DataFusionError::Internal(format!(
            "a materialized view's scan produced {given:?}, expected {schema:?}"
        )));
    }
    let old = input.properties();
    let equivalences = old
        .eq_properties
        .clone()
        .with_new_schema(schema.clone())
        .unwrap_or_else(|_| EquivalenceProperties::new(schema.clone()));
    let properties = PlanProperties::new(
        equivalences,
        old.output_partitioning().clone(),
        old.emission_type,
        old.boundedness,
    );
    Ok(Arc::new(Relabeled {
        input,
        schema,
        properties: Arc::new(properties),
    }))
}

impl DisplayAs for Relabeled {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Relabeled")
    }
}

impl ExecutionPlan for Relabeled {
    fn name(&self) -> &str {
        "Relabeled"
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    /// The same columns at the same positions: filters (a join's dynamic filter too) pass
    /// through to the scan below.
    fn gather_filters_for_pushdown(
        &self,
        _phase: FilterPushdownPhase,
        parent_filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterDescription> {
        FilterDescription::from_children(parent_filters, &self.children())
    }

    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        Ok(FilterPushdownPropagation::if_all(child_pushdown_result))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("Relabeled takes one input".into()))?;
        relabeled(input, self.schema.clone())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let schema = self.schema.clone();
        let batches = self.input.execute(partition, context)?.map(move |batch| {
            let batch = batch?;
            let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
            Ok(RecordBatch::try_new_with_options(
                schema.clone(),
                batch.columns().to_vec(),
                &options,
            )?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches,
        )))
    }
}
