//! The scan of a point look-up, planned straight from the files the bloom index selected.
//!
//! Given a file selection, Delta's scan provider replays the table's log through
//! delta-kernel twice per scan (once to resolve the selection, once with the filters to skip
//! files by statistics, parsing every file's JSON statistics); a profile of Call-ID look-ups
//! on a 10M-row store put that replay at about a sixth of the server's CPU. A look-up's files
//! are already known, so [`plan`] builds DataFusion's Parquet scan of just those files from
//! the snapshot's file list: the filters become the Parquet predicate (row group statistics,
//! bloom filters, the page index, late materialisation), and a filter above the scan applies
//! them exactly, since the table reports such filters as exact to the planner.
//!
//! Tables this cannot read as plain Parquet (column mapping, deletion vectors, partition
//! columns that are not the schema's last columns) keep Delta's provider.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::stats::Precision;
use datafusion::common::{DFSchema, ScalarValue, Statistics};
use datafusion::config::TableParquetOptions;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::utils::conjunction;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use deltalake::DeltaTable;

/// Table property that turns on Delta column mapping (physical column names differ).
const COLUMN_MAPPING: &str = "delta.columnMapping.mode";

/// The scan of `files` (paths relative to the table root) of `table`'s loaded version, with
/// the columns `projection` picks from `schema` (the table's Arrow schema when its Delta
/// schema was `schema_string`) and only rows matching every filter; `None` when the table
/// cannot be read this way or its schema changed.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan(
    state: &dyn Session,
    table: &DeltaTable,
    schema: &SchemaRef,
    schema_string: &str,
    files: &[String],
    projection: Option<&Vec<usize>>,
    filters: &[Expr],
    limit: Option<usize>,
) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
    let Ok(snapshot) = table.snapshot() else {
        return Ok(None);
    };
    let metadata = snapshot.metadata();
    if metadata.schema_string() != schema_string {
        return Ok(None);
    }
    if metadata
        .configuration()
        .get(COLUMN_MAPPING)
        .is_some_and(|mode| mode != "none")
    {
        return Ok(None);
    }
    let partition_columns = metadata.partition_columns();
    let width = schema.fields().len();
    let Some(file_width) = width.checked_sub(partition_columns.len()) else {
        return Ok(None);
    };
    let trailing = schema.fields()[file_width..]
        .iter()
        .zip(partition_columns)
        .all(|(field, name)| field.name() == name);
    if !trailing {
        return Ok(None);
    }
    let wanted: HashSet<&str> = files.iter().map(String::as_str).collect();
    let mut selected = Vec::with_capacity(files.len());
    // Row counts from the log, so that the planner sizes joins as it did with Delta's scan
    // (a look-up is the small side of a join, never a 10M-row build side).
    let mut rows = Precision::Exact(0);
    let mut bytes = Precision::Exact(0);
    for file in snapshot.log_data() {
        if !wanted.contains(&*file.path()) {
            continue;
        }
        if file.deletion_vector_descriptor().is_some() {
            return Ok(None);
        }
        let values = file.partition_values_map();
        let mut partition_values = Vec::with_capacity(partition_columns.len());
        for field in &schema.fields()[file_width..] {
            let value = match values.get(field.name()).cloned().flatten() {
                Some(text) => ScalarValue::try_from_string(text, field.data_type())?,
                None => ScalarValue::try_from(field.data_type())?,
            };
            partition_values.push(value);
        }
        let size = u64::try_from(file.size()).unwrap_or(0);
        rows = rows.add(
            &file
                .num_records()
                .map_or(Precision::Absent, Precision::Inexact),
        );
        bytes = bytes.add(&Precision::Inexact(size as usize));
        let mut partitioned = PartitionedFile::new(file.path().into_owned(), size);
        partitioned.partition_values = partition_values;
        selected.push(partitioned);
    }
    let output: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..width).collect());
    if selected.is_empty() {
        return Ok(Some(Arc::new(EmptyExec::new(Arc::new(
            schema.project(&output)?,
        )))));
    }

    // Paths are relative to the table root: read through the table's own (prefixed) store.
    let log_store = table.log_store();
    let url = log_store.object_store_url();
    let runtime = state.runtime_env();
    let store = match runtime.object_store(&url) {
        Ok(store) => store,
        Err(_) => {
            let store = log_store.object_store(None);
            runtime.register_object_store(url.as_ref(), store.clone());
            store
        }
    };
    let metadata_cache = runtime.cache_manager.get_file_metadata_cache();

    // The scan reads the projected columns and those the filters need, in table order.
    let mut columns: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..width).collect());
    for filter in filters {
        for column in filter.column_refs() {
            if let Ok(index) = schema.index_of(&column.name) {
                columns.push(index);
            }
        }
    }
    columns.sort_unstable();
    columns.dedup();

    let file_schema = Arc::new(Schema::new(schema.fields()[..file_width].to_vec()));
    let table_schema = TableSchema::builder(file_schema)
        .with_table_partition_cols(schema.fields()[file_width..].to_vec())
        .build();
    let df_schema = DFSchema::try_from(schema.as_ref().clone())?;
    let predicate = conjunction(filters.iter().cloned())
        .map(|expr| state.create_physical_expr(expr, &df_schema))
        .transpose()?;
    let options = TableParquetOptions {
        global: state.config_options().execution.parquet.clone(),
        ..TableParquetOptions::default()
    };
    let mut source = ParquetSource::new(table_schema)
        .with_table_parquet_options(options)
        .with_parquet_file_reader_factory(Arc::new(CachedParquetFileReaderFactory::new(
            store,
            metadata_cache,
        )));
    if let Some(predicate) = &predicate {
        source = source
            .with_predicate(predicate.clone())
            .with_pushdown_filters(true);
    }
    let mut statistics = Statistics::new_unknown(schema);
    statistics.num_rows = rows;
    statistics.total_byte_size = bytes;
    let config = FileScanConfigBuilder::new(url, Arc::new(source))
        .with_statistics(statistics)
        .with_file_group(FileGroup::new(selected))
        .with_projection_indices(Some(columns.clone()))?
        .with_limit(if predicate.is_some() { None } else { limit })
        .build();
    let mut plan: Arc<dyn ExecutionPlan> = DataSourceExec::from_data_source(config);

    // Exact filtering, then the requested columns in the requested order.
    let scanned = plan.schema();
    if let Some(predicate) = conjunction(filters.iter().cloned()) {
        let scanned_df = DFSchema::try_from(scanned.as_ref().clone())?;
        let physical = state.create_physical_expr(predicate, &scanned_df)?;
        plan = Arc::new(FilterExec::try_new(physical, plan)?);
    }
    if output != columns {
        let exprs = output
            .iter()
            .map(|&index| {
                let name = schema.field(index).name();
                let at = scanned.index_of(name)?;
                Ok((
                    Arc::new(Column::new(name, at))
                        as Arc<dyn datafusion::physical_expr::PhysicalExpr>,
                    name.clone(),
                ))
            })
            .collect::<DfResult<Vec<_>>>()?;
        plan = Arc::new(ProjectionExec::try_new(exprs, plan)?);
    }
    Ok(Some(plan))
}
