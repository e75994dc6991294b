//! Materialized rows of a view: a Delta table of their own under `_materialized/<view>/`,
//! and a small JSON record beside it (`_materialized/<view>.json`) naming the table version
//! that holds them, the versions of the tables they were computed from and a fingerprint of
//! what else they depend on. The record is written last, in one `put`, so a reader that finds it
//! finds the rows it names; a crash before it leaves the previous record, still true of the
//! rows it names (older table versions stay readable until vacuumed). Whether the rows are
//! current is the reader's call ([`crate::catalog`]'s materialized view).

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, cast, col};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use super::{OPERATION_KEY, Store};
use crate::error::{Error, Result};
use crate::schema::TableDef;

/// Top-level directory of the materialized views in a store.
pub const MATERIALIZED_DIR: &str = "_materialized";

/// Memory the sort of the rows may use before it spills to disk.
const SORT_MEMORY_BYTES: usize = 1 << 30;

/// Size of the files the rows are written into.
const TARGET_FILE_BYTES: u64 = 128 << 20;

/// What a materialization holds: which rows, computed from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Materialization {
    /// Version of the materialized Delta table that holds the rows.
    pub version: u64,
    /// Version of each table the rows were computed from.
    pub sources: BTreeMap<String, u64>,
    /// Fingerprint of everything else the rows depend on (view text, settings, release).
    pub fingerprint: String,
    /// Rows written.
    pub rows: u64,
    /// Writes that appended rows since the table was last written whole (see [`Write`]).
    #[serde(default)]
    pub appends: u64,
}

/// How [`Store::materialize`] writes the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// The rows replace the table's.
    Replace,
    /// The rows are added to those of `onto`, whose table's files must still be the table's
    /// newest (nothing is written otherwise; commits that change no file, a vacuum's, may
    /// follow) and the append must commit the version after that newest one (no record is
    /// written otherwise: two appends at once would each have added the other's rows too).
    Append {
        /// The materialization the rows complete.
        onto: Materialization,
    },
}

impl Store {
    /// The Delta table name (a path under the store) of `view`'s materialized rows.
    pub fn materialized_table_name(view: &str) -> String {
        format!("{MATERIALIZED_DIR}/{view}")
    }

    fn materialization_record(&self, view: &str) -> object_store::path::Path {
        self.object_path(MATERIALIZED_DIR)
            .join(format!("{view}.json"))
    }

    /// The record of `view`'s materialization; `None` when there is none (or it is
    /// unreadable: a reader then computes the view, and the next refresh replaces it).
    pub async fn materialization(&self, view: &str) -> Result<Option<Materialization>> {
        match self
            .object_store()
            .get(&self.materialization_record(view))
            .await
        {
            Ok(got) => {
                let bytes = got.bytes().await?;
                match serde_json::from_slice(&bytes) {
                    Ok(m) => Ok(Some(m)),
                    Err(e) => {
                        tracing::warn!(view, error = %e, "unreadable materialization record");
                        Ok(None)
                    }
                }
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The materialized table of `view` at `version`.
    pub async fn materialized_table(&self, view: &str, version: u64) -> Result<DeltaTable> {
        let name = Self::materialized_table_name(view);
        let url = self.location().table_url(&name)?;
        deltalake::DeltaTableBuilder::from_url(url)
            .map_err(Error::delta(&name))?
            .with_version(version as _)
            .load()
            .await
            .map_err(Error::delta(&name))
    }

    /// Writes the rows of `plans` (executed one after the other in `task`, the session that
    /// planned them; each with the view's columns) into `view`'s materialized table as `write`
    /// says, sorted in `layout`'s file order and partitioned as it is, and records them as
    /// computed from `sources` under `fingerprint`. Columns Delta cannot store (durations) are
    /// stored as their integer count. `None` when an append found the table moved on (nothing
    /// recorded).
    #[allow(clippy::too_many_arguments)]
    pub async fn materialize(
        &self,
        view: &str,
        plans: Vec<Arc<dyn ExecutionPlan>>,
        task: Arc<TaskContext>,
        layout: &TableDef,
        sources: BTreeMap<String, u64>,
        fingerprint: String,
        write: Write,
    ) -> Result<Option<Materialization>> {
        let name = Self::materialized_table_name(view);
        let url = self.location().table_url(&name)?;
        let table = super::store::open_or_new(url, &name).await?;
        let (mode, appends, follows) = match &write {
            Write::Replace => (SaveMode::Overwrite, 0, None),
            Write::Append { onto } => {
                // Commits that change no file (a vacuum's) may follow the recorded version.
                let Some(newest) = table.version() else {
                    return Ok(None);
                };
                if !same_files(&table, onto.version)
                    .await
                    .map_err(Error::delta(&name))?
                {
                    tracing::debug!(
                        view,
                        newest,
                        record = onto.version,
                        "stored rows changed since recorded; not appended"
                    );
                    return Ok(None);
                }
                (SaveMode::Append, onto.appends + 1, Some(newest + 1))
            }
        };
        let ctx = super::sorted_source::writer_context(SORT_MEMORY_BYTES);
        let plans = plans
            .into_iter()
            .map(|plan| Arc::new(CoalescePartitionsExec::new(plan)) as Arc<dyn ExecutionPlan>)
            .collect();
        let rows = super::sorted_source::table_in(plans, task)?;
        let mut frame = ctx.read_table(Arc::new(rows))?;
        let stored: Vec<Expr> = frame
            .schema()
            .fields()
            .iter()
            .map(|f| stored_column(f))
            .collect();
        frame = frame.select(stored)?;
        let order: Vec<_> = layout
            .partition_by
            .iter()
            .chain(&layout.sort_by)
            .map(|c| col(c).sort(true, false))
            .collect();
        frame = frame.sort(order)?;
        let sorted = super::sorted_source::table_of(frame.create_physical_plan().await?)?;
        let input = ctx.read_table(Arc::new(sorted))?.logical_plan().clone();
        table
            .update_datafusion_session(&ctx.state())
            .map_err(Error::delta(&name))?;
        let mut writer = table
            .write(Vec::new())
            .with_input_plan(input)
            .with_session_state(Arc::new(ctx.state()))
            .with_save_mode(mode);
        if write == Write::Replace {
            writer = writer.with_schema_mode(deltalake::operations::write::SchemaMode::Overwrite);
        }
        let table = writer
            .with_partition_columns(layout.partition_by.clone())
            .with_target_file_size(NonZeroU64::new(TARGET_FILE_BYTES))
            .with_writer_properties(super::writer_properties(layout, 1 << 20))
            .with_commit_properties(CommitProperties::default().with_metadata([(
                OPERATION_KEY.to_string(),
                serde_json::Value::from("materialize"),
            )]))
            .await
            .map_err(Error::delta(&name))?;
        self.sync_commit(&name, table.version())?;
        let version = table.version().ok_or_else(|| Error::Delta {
            table: name.clone(),
            source: deltalake::DeltaTableError::NotATable("no version after a write".into()),
        })?;
        if follows.is_some_and(|follows| follows != version) {
            tracing::debug!(
                view,
                version,
                "another write came first; append not recorded"
            );
            return Ok(None);
        }
        let rows = super::row_count(&table);
        let record = Materialization {
            version,
            sources,
            fingerprint,
            rows,
            appends,
        };
        self.record_materialization(view, &record).await?;
        Ok(Some(record))
    }

    /// Writes the record of `view`'s materialization, unless a newer one is already there
    /// (written by a refresh that finished first).
    async fn record_materialization(&self, view: &str, record: &Materialization) -> Result<()> {
        if let Some(current) = self.materialization(view).await?
            && current.version > record.version
        {
            return Ok(());
        }
        let body = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        self.object_store()
            .put(&self.materialization_record(view), PutPayload::from(body))
            .await?;
        Ok(())
    }
}

/// Whether `table` (loaded at its newest version) holds the same files as at `version`.
async fn same_files(table: &DeltaTable, version: u64) -> deltalake::DeltaResult<bool> {
    if table.version() == Some(version) {
        return Ok(true);
    }
    let mut then = table.clone();
    then.load_version(version as _).await?;
    Ok(super::file_paths(table)? == super::file_paths(&then)?)
}

/// The expression that stores column `field`: itself, a duration's count of its unit, or a
/// text copied out of the buffers it shares with other rows (a joined batch's text views
/// point into every buffer of its input, and the sort would count them all for each batch).
fn stored_column(field: &Field) -> Expr {
    let column = col(datafusion::common::Column::new_unqualified(field.name()));
    match field.data_type() {
        DataType::Duration(_) => cast(column, DataType::Int64).alias(field.name()),
        DataType::Utf8View => cast(column, DataType::Utf8).alias(field.name()),
        _ => column,
    }
}
