//! A table provider that always reads the newest commit. DataFusion views capture the
//! providers of the tables they name when they are created; a plain Delta provider is a
//! fixed snapshot, so a view over it would never see new data. [`LatestTable`] keeps the
//! table's schema fixed and brings its Delta snapshot up to date at each scan: every scan
//! reads one consistent snapshot, and the next statement sees commits made in between.
//! With the session option `cdrlake.as_of` set, a scan reads the commit current then instead.
//! A scan whose filters pin a bloom-filtered column (a Call-ID look-up) reads only the files
//! whose bloom filters may hold the value ([`BloomIndex`]).

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
use deltalake::DeltaTable;
use tokio::sync::Mutex;

use super::bloom_index::BloomIndex;
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
}

impl LatestTable {
    /// Opens `name` in `store`.
    pub async fn open(store: &Store, name: &str) -> Result<LatestTable> {
        let table = store.table(name).await?;
        let first = table.table_provider().await?;
        Ok(LatestTable {
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

    /// A provider for the newest version of the table (or the one `cdrlake.as_of` names),
    /// reading only the files that may match `filters` on bloom-filtered columns.
    async fn current(
        &self,
        state: &dyn Session,
        filters: &[Expr],
    ) -> DfResult<Arc<dyn TableProvider>> {
        let external = |e| DataFusionError::External(Box::new(Error::delta(&self.name)(e)));
        // The lock covers bringing the shared table up to date; the scan plans on a copy.
        let table = match super::as_of::as_of(state)? {
            None => {
                let mut table = self.table.lock().await;
                table.update_incremental(None).await.map_err(external)?;
                table.clone()
            }
            Some(at) => {
                let mut table = self.table.lock().await.clone();
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
            .select(&table, &pins)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
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
        self.current(state, filters)
            .await?
            .scan(state, projection, filters, limit)
            .await
    }
}
