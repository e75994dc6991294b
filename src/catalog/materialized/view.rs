//! The view a session reads: its stored rows when current, else the view computed.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::{TableType, provider_as_source};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown, cast, col,
};
use datafusion::physical_plan::ExecutionPlan;
use deltalake::DeltaTable;

use super::relabeled;
use crate::catalog::LatestTable;
use crate::error::{Error, Result};
use crate::storage::Store;

/// A view read from its stored rows when they are current, computed otherwise.
#[derive(Debug)]
pub struct MaterializedView {
    name: String,
    /// The view itself, computed.
    computed: Arc<dyn TableProvider>,
    /// The tables the rows depend on, for their newest versions.
    sources: Vec<Arc<LatestTable>>,
    /// The store the rows are in.
    store: Store,
    fingerprint: String,
    /// The stored table last read, by its version.
    loaded: Mutex<Option<DeltaTable>>,
}

impl MaterializedView {
    /// `computed` (the view `name`), read from its stored rows when they were computed from
    /// the newest versions of `sources` under `fingerprint`.
    pub fn new(
        name: &str,
        computed: Arc<dyn TableProvider>,
        sources: Vec<Arc<LatestTable>>,
        store: Store,
        fingerprint: String,
    ) -> MaterializedView {
        MaterializedView {
            name: name.to_string(),
            computed,
            sources,
            store,
            fingerprint,
            loaded: Mutex::new(None),
        }
    }

    /// The stored table, if its rows are current for a query of `state`.
    async fn current(&self, state: &dyn Session) -> Result<Option<DeltaTable>> {
        if crate::catalog::as_of::as_of(state)?.is_some() {
            return Ok(None);
        }
        let store = &self.store;
        let Some(record) = store.materialization(&self.name).await? else {
            return Ok(None);
        };
        if record.fingerprint != self.fingerprint || record.sources.len() != self.sources.len() {
            return Ok(None);
        }
        for source in &self.sources {
            let stored = record.sources.get(source.name()).copied();
            if stored.is_none() || source.newest_version().await? != stored {
                return Ok(None);
            }
        }
        let cached = self
            .loaded()
            .clone()
            .filter(|t| t.version() == Some(record.version));
        let table = match cached {
            Some(table) => table,
            None => {
                let table = store.materialized_table(&self.name, record.version).await?;
                *self.loaded() = Some(table.clone());
                table
            }
        };
        table
            .update_datafusion_session(state)
            .map_err(Error::delta(Store::materialized_table_name(&self.name)))?;
        Ok(Some(table))
    }

    fn loaded(&self) -> std::sync::MutexGuard<'_, Option<DeltaTable>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stored rows, each column cast back to the view's type where storage changed it.
    async fn stored_rows(&self, table: &DeltaTable) -> DfResult<LogicalPlanBuilder> {
        let provider = table.table_provider().await?;
        let stored = provider.schema();
        let schema = self.schema();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let stored_type = stored.field_with_name(field.name())?.data_type();
            let column = col(Column::new_unqualified(field.name()));
            columns.push(if stored_type == field.data_type() {
                column
            } else {
                cast(column, field.data_type().clone()).alias(field.name())
            });
        }
        LogicalPlanBuilder::scan(
            Store::materialized_table_name(&self.name),
            provider_as_source(provider),
            None,
        )?
        .project(columns)
    }

    /// The rows of the view computed.
    fn computed_rows(&self) -> DfResult<LogicalPlanBuilder> {
        let view = self
            .computed
            .get_logical_plan()
            .ok_or_else(|| DataFusionError::Internal(format!("{} is not a view", self.name)))?;
        LogicalPlanBuilder::from(view.into_owned()).alias(self.name.as_str())
    }

    /// The physical plan of `rows` (the view's columns) with a scan's filters, projection and
    /// limit, as DataFusion's view plans a scan of a view; but not physically optimized: the
    /// query's physical optimizer then optimizes it with the rest of the query, once (twice
    /// would swap join inputs under the dynamic filters of the first pass, which DataFusion
    /// refuses).
    async fn plan(
        &self,
        state: &dyn Session,
        mut rows: LogicalPlanBuilder,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let schema = self.schema();
        if let Some(filter) = filters.iter().cloned().reduce(Expr::and) {
            rows = rows.filter(unqualified(filter)?)?;
        }
        if let Some(projection) = projection {
            rows = rows.project(
                projection
                    .iter()
                    .map(|&i| col(Column::new_unqualified(schema.field(i).name()))),
            )?;
        }
        if let Some(limit) = limit {
            rows = rows.limit(0, Some(limit))?;
        }
        let plan = rows.build()?;
        match state.as_any().downcast_ref::<SessionState>() {
            Some(session) => {
                let unoptimized = SessionStateBuilder::new_from_existing(session.clone())
                    .with_physical_optimizer_rules(Vec::new())
                    .build();
                unoptimized.create_physical_plan(&plan).await
            }
            None => state.create_physical_plan(&plan).await,
        }
    }
}

/// `expr` with its columns unqualified (a filter on the view names the view's columns).
fn unqualified(expr: Expr) -> DfResult<Expr> {
    expr.transform(|e| match e {
        Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(
            Column::new_unqualified(c.name),
        ))),
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}

#[async_trait]
impl TableProvider for MaterializedView {
    fn schema(&self) -> SchemaRef {
        self.computed.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.computed.get_table_definition()
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        None
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Exact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // Stored rows that cannot be reached (a store being repaired, a record naming a
        // vacuumed version) leave the view computed: slower, never wrong.
        let current = self.current(state).await.unwrap_or_else(|e| {
            tracing::warn!(view = %self.name, error = %e, "stored rows unreadable; computing");
            None
        });
        let rows = match current {
            Some(table) => {
                tracing::debug!(view = %self.name, "reading stored rows");
                self.stored_rows(&table).await?
            }
            None => self.computed_rows()?,
        };
        let plan = self.plan(state, rows, projection, filters, limit).await?;
        let schema = match projection {
            Some(p) => Arc::new(self.schema().project(p)?),
            None => self.schema(),
        };
        relabeled::relabeled(plan, schema)
    }
}
