//! A table provider that always reads the newest commit. DataFusion views capture the
//! providers of the tables they name when they are created; a plain Delta provider is a
//! fixed snapshot, so a view over it would never see new data. [`LatestTable`] keeps the
//! table's schema fixed and brings its Delta snapshot up to date at each scan: every scan
//! reads one consistent snapshot, and the next statement sees commits made in between.
//! With the session option `cdrlake.as_of` set, a scan reads the commit current then instead.
//! A scan whose filters pin a bloom-filtered column (a Call-ID look-up) reads only the files
//! whose bloom filters may hold the value ([`BloomIndex`]), through a Parquet scan of just
//! those files ([`pinned_scan`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use deltalake::logstore::commit_uri_from_version;
use deltalake::{DeltaTable, DeltaTableError};
use object_store::ObjectStoreExt;
use std::sync::Mutex;

use super::bloom_index::BloomIndex;
use super::pinned_scan;
use crate::error::{Error, Result};
use crate::schema;
use crate::storage::{CommitTimes, Store};

/// A stored table, read at its latest version.
#[derive(Debug)]
pub struct LatestTable {
    name: String,
    store: Store,
    schema: SchemaRef,
    table: Mutex<DeltaTable>,
    /// The provider of the version that was current at open; asked about filter pushdown.
    first: Arc<dyn TableProvider>,
    /// What an INSERT puts in the columns it leaves out (see [`super::refunds`]).
    defaults: HashMap<String, Expr>,
    /// The bloom filters of the table's files, for point look-ups.
    blooms: BloomIndex,
    /// Times of the commits read for `cdrlake.as_of`.
    commit_times: CommitTimes,
    /// The Delta schema `schema` was made from (a look-up's own scan checks it is unchanged).
    schema_string: String,
}

impl LatestTable {
    /// Opens `name` in `store`.
    pub async fn open(store: &Store, name: &str) -> Result<LatestTable> {
        let table = store.table(name).await?;
        let first = table.table_provider().await?;
        let schema_string = table
            .snapshot()
            .map(|s| s.metadata().schema_string().clone())
            .unwrap_or_default();
        Ok(LatestTable {
            schema_string,
            name: name.to_string(),
            store: store.clone(),
            schema: first.schema(),
            table: Mutex::new(table),
            first,
            defaults: super::writes::column_defaults(name),
            blooms: BloomIndex::new(
                schema::table(name)
                    .map(|def| def.bloom_filters.clone())
                    .unwrap_or_default(),
            ),
            commit_times: CommitTimes::default(),
        })
    }

    /// The table at its newest version. Commits are files named by version, so when the one
    /// after the loaded version does not exist (one `head` request, a `stat` locally) the loaded
    /// snapshot is still the newest and the Delta log is not listed again; a commit
    /// acknowledged before this call has its file in place, so it is never missed. No lock is
    /// held across I/O: the refresh runs on a copy, which then replaces the shared table
    /// unless another scan stored a newer one meanwhile.
    async fn newest(&self) -> std::result::Result<DeltaTable, DeltaTableError> {
        let mut table = self.shared().clone();
        let Some(version) = table.version() else {
            table.update_incremental(None).await?;
            return Ok(self.keep(table));
        };
        let next = commit_uri_from_version(Some(version + 1));
        match table.log_store().object_store(None).head(&next).await {
            Err(object_store::Error::NotFound { .. }) => return Ok(table),
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(table = %self.name, error = %e, "commit check failed; listing the log")
            }
        }
        table.update_incremental(None).await?;
        Ok(self.keep(table))
    }

    /// The newest version of the table (`None` before its first commit).
    pub async fn newest_version(&self) -> Result<Option<u64>> {
        let table = self.newest().await.map_err(Error::delta(&self.name))?;
        Ok(table.version())
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stores `table` as the shared table if it is newer; returns it.
    fn keep(&self, table: DeltaTable) -> DeltaTable {
        let mut shared = self.shared();
        if table.version() > shared.version() {
            *shared = table.clone();
        }
        table
    }

    /// The shared table; a panic while it was held leaves it consistent (it is replaced whole).
    fn shared(&self) -> std::sync::MutexGuard<'_, DeltaTable> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The newest version of the table (or the one `cdrlake.as_of` names), and the files that
    /// may match `filters` on bloom-filtered columns (`None`: every file).
    async fn current(
        &self,
        state: &dyn Session,
        filters: &[Expr],
    ) -> DfResult<(DeltaTable, Option<Vec<String>>)> {
        let external = |e| DataFusionError::External(Box::new(Error::delta(&self.name)(e)));
        let as_of = super::as_of::as_of(state)?;
        let table = match as_of {
            None => self.newest().await.map_err(external)?,
            Some(at) => {
                let mut table = self.shared().clone();
                let version = self
                    .commit_times
                    .version_at(&table, &self.name, at)
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))?;
                table.load_version(version).await.map_err(external)?;
                table
            }
        };
        table.update_datafusion_session(state).map_err(external)?;
        let pins = self.blooms.pins(filters);
        let files = self
            .blooms
            .select(&table, &pins, as_of.is_none())
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok((table, files))
    }

    /// Delta's provider for `table`, reading only `files` when given.
    async fn provider(
        &self,
        table: &DeltaTable,
        files: Option<Vec<String>>,
    ) -> DfResult<Arc<dyn TableProvider>> {
        let provider = match files {
            Some(files) => table.table_provider().with_file_paths(files).await?,
            None => table.table_provider().await?,
        };
        if provider.schema() != self.schema {
            return Err(DataFusionError::Plan(format!(
                "table {} changed its columns since this session opened it; reconnect",
                self.name
            )));
        }
        Ok(provider)
    }
}

#[async_trait]
impl TableProvider for LatestTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.defaults.get(column)
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        None
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.first.supports_filters_pushdown(filters)
    }

    /// `INSERT INTO refunds …` and `INSERT INTO billing_events …` append (see
    /// [`super::writes`]); other tables are written by ingest only.
    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if insert_op != InsertOp::Append {
            return Err(DataFusionError::Plan(format!(
                "{} is append-only: only INSERT INTO appends to it",
                self.name
            )));
        }
        super::writes::insert(&self.name, &self.store, state, input, self.schema.clone())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let (table, files) = self.current(state, filters).await?;
        if let Some(files) = &files {
            let pinned = pinned_scan::plan(
                state,
                &table,
                &self.schema,
                &self.schema_string,
                files,
                projection,
                filters,
                limit,
            )?;
            if let Some(plan) = pinned {
                return Ok(plan);
            }
        }
        self.provider(&table, files)
            .await?
            .scan(state, projection, filters, limit)
            .await
    }
}
