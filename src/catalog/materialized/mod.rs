//! Materialized views: a view whose rows are also stored, computed by [`refresh`] (after each
//! round of the server's maintenance, and by `cdrlake compact`), and read from storage
//! whenever they are current. `call_log` is one: its target-call logic groups every answered
//! call by caller and sales cycle, which costs more than reading the table
//! (benches/RESULTS.md); its stored rows cost a scan.
//!
//! The stored rows are current when they were computed from the version of `cdrs` a query
//! would read now and under the same fingerprint (the view's text, the tenant settings and
//! the release). Otherwise — new calls since, a settings change, `cdrlake.as_of` time travel
//! — the view is computed as before, so a query never sees stale rows: the stored rows speed
//! up a query, never change its answer.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use cdrlake_udfs::Settings;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Column;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::{TableType, provider_as_source};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, TableProviderFilterPushDown, cast, col,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use sha2::{Digest, Sha256};

use super::LatestTable;

mod relabeled;
use crate::error::{Error, Result};
use crate::schema::{self, TableDef};
use crate::storage::{Materialization, Store};

/// The views that are materialized: each reads `cdrs` alone, keeps its every row and column
/// unchanged and adds columns (see [`computed_rows`]).
pub const MATERIALIZED: &[&str] = &["call_log"];

/// The table every materialized view reads.
const SOURCE: &str = "cdrs";

/// What the stored rows of `view` (text `sql`) depend on besides `cdrs`.
pub fn fingerprint(view: &str, sql: &str, settings: &Settings) -> String {
    let mut hash = Sha256::new();
    for part in [
        env!("CARGO_PKG_VERSION"),
        view,
        sql,
        &format!("{settings:?}"),
    ] {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A view read from its stored rows when they are current, computed otherwise.
#[derive(Debug)]
pub struct MaterializedView {
    name: String,
    /// The view itself, computed.
    computed: Arc<dyn TableProvider>,
    /// `cdrs`, for its newest version.
    source: Arc<LatestTable>,
    fingerprint: String,
    /// The stored table last read, by its version.
    loaded: Mutex<Option<DeltaTable>>,
}

impl MaterializedView {
    /// `computed` (the view `name`), read from its stored rows when they were computed from
    /// `source`'s newest version under `fingerprint`.
    pub fn new(
        name: &str,
        computed: Arc<dyn TableProvider>,
        source: Arc<LatestTable>,
        fingerprint: String,
    ) -> MaterializedView {
        MaterializedView {
            name: name.to_string(),
            computed,
            source,
            fingerprint,
            loaded: Mutex::new(None),
        }
    }

    /// The stored table, if its rows are current for a query of `state`.
    async fn current(&self, state: &dyn Session) -> Result<Option<DeltaTable>> {
        if super::as_of::as_of(state)?.is_some() {
            return Ok(None);
        }
        let store = self.source.store();
        let Some(record) = store.materialization(&self.name).await? else {
            return Ok(None);
        };
        if record.fingerprint != self.fingerprint
            || self.source.newest_version().await? != Some(record.source_version)
        {
            return Ok(None);
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

    /// The plan of a scan of the stored rows: each column cast back to the view's type
    /// where storage changed it, then the scan's filters, projection and limit, as
    /// DataFusion's view plans a scan of a view.
    async fn scan_stored(
        &self,
        state: &dyn Session,
        table: &DeltaTable,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
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
        let mut plan = LogicalPlanBuilder::scan(
            Store::materialized_table_name(&self.name),
            provider_as_source(provider),
            None,
        )?
        .project(columns)?;
        if let Some(filter) = filters.iter().cloned().reduce(Expr::and) {
            plan = plan.filter(unqualified(filter)?)?;
        }
        if let Some(projection) = projection {
            plan = plan.project(
                projection
                    .iter()
                    .map(|&i| col(Column::new_unqualified(schema.field(i).name()))),
            )?;
        }
        if let Some(limit) = limit {
            plan = plan.limit(0, Some(limit))?;
        }
        state.create_physical_plan(&plan.build()?).await
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
        let current = self
            .current(state)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let plan = match current {
            Some(table) => {
                tracing::debug!(view = %self.name, "reading stored rows");
                self.scan_stored(state, &table, projection, filters, limit)
                    .await?
            }
            None => {
                self.computed
                    .scan(state, projection, filters, limit)
                    .await?
            }
        };
        let schema = match projection {
            Some(p) => Arc::new(self.schema().project(p)?),
            None => self.schema(),
        };
        relabeled::relabeled(plan, schema)
    }
}

/// What a refresh did to one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The stored rows were current already.
    Current(Materialization),
    /// The rows were computed and stored.
    Stored(Materialization),
    /// `cdrs` changed while the view was being planned; the next refresh tries again.
    SourceMoved,
}

/// Brings the stored rows of every materialized view up to date with `cdrs` and `settings`,
/// computing each view in `ctx` (a session over `store` with the functions of `settings`).
/// Needs no writer lock: a commit to `cdrs` meanwhile only makes the rows it stores stale,
/// which readers see (they then compute the view).
pub async fn refresh(
    ctx: &SessionContext,
    store: &Store,
    settings: &Settings,
) -> Result<Vec<(String, Refreshed)>> {
    let layout = schema::table(SOURCE)?;
    let mut outcomes = Vec::new();
    for (name, sql) in super::views::definitions()? {
        if !MATERIALIZED.contains(&name.as_str()) {
            continue;
        }
        let fingerprint = fingerprint(&name, sql, settings);
        let version = || async { Ok::<_, Error>(store.table(SOURCE).await?.version()) };
        let Some(before) = version().await? else {
            continue;
        };
        if let Some(record) = store.materialization(&name).await?
            && record.source_version == before
            && record.fingerprint == fingerprint
        {
            outcomes.push((name, Refreshed::Current(record)));
            continue;
        }
        // Each scan of `cdrs` reads its newest version when planned: unchanged before and
        // after planning, that version is `before`.
        let rows = computed_rows(ctx, sql, layout).await?;
        let plan = ctx.sql(&rows).await?.create_physical_plan().await?;
        if version().await? != Some(before) {
            outcomes.push((name, Refreshed::SourceMoved));
            continue;
        }
        let record = store
            .materialize(&name, plan, ctx.task_ctx(), layout, before, fingerprint)
            .await?;
        tracing::info!(view = %name, rows = record.rows, source_version = before, "materialized");
        outcomes.push((name, Refreshed::Stored(record)));
    }
    Ok(outcomes)
}

/// The query that computes the rows of the view `sql`, which keeps every row and column of
/// `cdrs` (`layout`) and adds columns: the added ones computed over `cdrs`'s unique key
/// alone (the grouping's input narrow), then joined to the table's rows by that key (the
/// added columns are the hash join's build side). The view itself would carry every
/// column through its grouping, which holds all its rows until the end (~8 GB at 10M calls
/// where this peaks near 2).
async fn computed_rows(ctx: &SessionContext, sql: &str, layout: &TableDef) -> Result<String> {
    let view = ctx.sql(sql).await?;
    let stored: Vec<&str> = layout.columns.iter().map(|c| c.name.as_str()).collect();
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let mut select = Vec::new();
    let mut added = Vec::new();
    for field in view.schema().fields() {
        let name = field.name().as_str();
        if stored.contains(&name) {
            select.push(format!("t.{}", quote(name)));
        } else {
            select.push(format!("v.{}", quote(name)));
            added.push(quote(name));
        }
    }
    let key: Vec<String> = layout.unique_key.iter().map(|c| quote(c)).collect();
    let on: Vec<String> = key.iter().map(|k| format!("t.{k} = v.{k}")).collect();
    Ok(format!(
        "SELECT {} FROM (SELECT {}, {} FROM ({}) AS w) AS v JOIN {} AS t ON {}",
        select.join(", "),
        key.join(", "),
        added.join(", "),
        sql.trim().trim_end_matches(';'),
        quote(&layout.name),
        on.join(" AND ")
    ))
}

/// Deletes the files of the materialized tables replaced more than `grace` ago; returns how
/// many were deleted. The caller holds the writer lock.
pub async fn vacuum(store: &Store, grace: chrono::Duration) -> Result<usize> {
    let mut deleted = 0;
    for view in MATERIALIZED {
        if store.materialization(view).await?.is_some() {
            deleted += store
                .vacuum(&Store::materialized_table_name(view), grace)
                .await?;
        }
    }
    Ok(deleted)
}

/// One line on what a refresh did to `view`, for people.
pub fn describe(view: &str, refreshed: &Refreshed) -> String {
    match refreshed {
        Refreshed::Current(m) => format!(
            "{view}: stored rows current ({} rows of cdrs version {})",
            m.rows, m.source_version
        ),
        Refreshed::Stored(m) => format!(
            "{view}: stored {} rows computed from cdrs version {}",
            m.rows, m.source_version
        ),
        Refreshed::SourceMoved => {
            format!("{view}: cdrs changed while computing; stored rows left as they were")
        }
    }
}
