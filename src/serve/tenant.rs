//! Tenant isolation in the logical plan: for a user bound to tenants, every scan of a table
//! with a `tenant` column — named in the query, inside a view, a subquery, a join or a
//! `COPY` — gets `tenant IN (…)` directly above it, before anything else can see its rows.
//! Being an analyzer rule, it applies to every plan the session executes, whatever path
//! (simple or extended protocol, cursors, COPY) built it.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result, plan_err};
use datafusion::datasource::{provider_as_source, source_as_provider};
use datafusion::logical_expr::{
    Expr, Filter, LogicalPlan, Projection, TableProviderFilterPushDown, TableScan,
    TableScanBuilder, TableType, lit,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_plan::ExecutionPlan;

/// The column that names a row's tenant.
pub const TENANT_COLUMN: &str = "tenant";

/// Restricts every scan of a tenant table to `tenants`.
#[derive(Debug)]
pub struct TenantFilter {
    tenants: Vec<String>,
}

impl TenantFilter {
    /// A rule for a user who sees only `tenants`.
    pub fn new(tenants: Vec<String>) -> TenantFilter {
        TenantFilter { tenants }
    }

    fn restrict(&self, scan: TableScan) -> Result<Transformed<LogicalPlan>> {
        let Ok(index) = scan.source.schema().index_of(TENANT_COLUMN) else {
            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
        };
        let provider = match source_as_provider(&scan.source) {
            Ok(p) => p,
            Err(_) => {
                return plan_err!(
                    "table {} cannot be restricted to your tenants",
                    scan.table_name
                );
            }
        };
        if provider.is::<Restricted>() {
            return Ok(Transformed::no(LogicalPlan::TableScan(scan)));
        }
        let source = provider_as_source(Arc::new(Restricted(provider)));
        let predicate = Expr::Column(Column::new(Some(scan.table_name.clone()), TENANT_COLUMN))
            .in_list(
                self.tenants.iter().map(|t| lit(t.as_str())).collect(),
                false,
            );
        let original_schema = scan.projected_schema.clone();
        let projection = match scan.projection.clone() {
            Some(p) if !p.contains(&index) => Some([p, vec![index]].concat()),
            _ => None,
        };
        let filtered = match projection {
            None => {
                let mut scan = scan;
                scan.source = source;
                Filter::try_new(predicate, Arc::new(LogicalPlan::TableScan(scan)))?
            }
            Some(widened) => {
                let scan = TableScanBuilder::new(scan.table_name, source)
                    .with_projection(Some(widened))
                    .with_filters(scan.filters)
                    .with_fetch(scan.fetch)
                    .build()?;
                let filter = Filter::try_new(predicate, Arc::new(LogicalPlan::TableScan(scan)))?;
                let columns = original_schema
                    .columns()
                    .into_iter()
                    .map(Expr::Column)
                    .collect();
                let projection =
                    Projection::try_new(columns, Arc::new(LogicalPlan::Filter(filter)))?;
                return Ok(Transformed::yes(LogicalPlan::Projection(projection)));
            }
        };
        Ok(Transformed::yes(LogicalPlan::Filter(filtered)))
    }
}

impl AnalyzerRule for TenantFilter {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| match node {
            LogicalPlan::TableScan(scan) => self.restrict(scan),
            other => Ok(Transformed::no(other)),
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "cdrlake_tenant_filter"
    }
}

/// Marks a table whose scan already has the tenant filter above it, so the rule (which the
/// analyzer may run more than once on a plan) adds it once. Reads delegate to the table.
#[derive(Debug)]
struct Restricted(Arc<dyn TableProvider>);

#[async_trait]
impl TableProvider for Restricted {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        self.0.table_type()
    }

    fn get_logical_plan(&self) -> Option<Cow<'_, LogicalPlan>> {
        self.0.get_logical_plan()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.0.scan(state, projection, filters, limit).await
    }

    fn statistics(&self) -> Option<datafusion::common::Statistics> {
        self.0.statistics()
    }
}
