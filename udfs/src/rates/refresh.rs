//! Refreshing the rate deck once per query: a query planner that wraps the session's own.
//!
//! Functions are synchronous and run per batch, so they cannot ask storage whether the rates
//! changed. Physical planning is async and runs once per statement (and once per view it
//! expands), so [`RefreshPlanner`] refreshes the [`RateBook`] there, and only for statements
//! that call `rate_lookup` or `rate_call`: other statements cost nothing extra.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::Result;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::QueryPlanner;
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use super::{RateBook, RateLookup};

/// Names of the functions whose statements trigger a refresh (`rate_lookup_in_country` is
/// the planner's form of a composed `rate_lookup`: [`super::in_country`]).
const FUNCTIONS: &[&str] = &["rate_lookup", "rate_call", "rate_lookup_in_country"];

/// A query planner that refreshes a [`RateBook`] before handing statements calling
/// `rate_lookup` or `rate_call` to the planner it wraps.
#[derive(Debug)]
pub struct RefreshPlanner {
    inner: Arc<dyn QueryPlanner + Send + Sync>,
    book: Arc<RateBook>,
}

impl RefreshPlanner {
    /// Wraps `inner`, refreshing `book`.
    pub fn new(inner: Arc<dyn QueryPlanner + Send + Sync>, book: Arc<RateBook>) -> Self {
        RefreshPlanner { inner, book }
    }
}

#[async_trait]
impl QueryPlanner for RefreshPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if calls(logical_plan, FUNCTIONS) {
            self.book.refresh(session).await?;
        }
        self.inner.create_physical_plan(logical_plan, session).await
    }
}

/// Whether `plan` (its subqueries included) calls one of the scalar functions `names`.
fn calls(plan: &LogicalPlan, names: &[&str]) -> bool {
    let mut found = false;
    let visit = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                found = matches!(e, Expr::ScalarFunction(f) if names.contains(&f.name()));
                Ok(if found {
                    TreeNodeRecursion::Stop
                } else {
                    TreeNodeRecursion::Continue
                })
            })
        })
    });
    // The visitor never fails; an error could only mean "not found".
    visit.is_ok() && found
}

/// Registers `rate_lookup` over `book` in `ctx` and makes the session's planner refresh the
/// book once per query that calls it. Installing again replaces the previous book rather
/// than stacking planners.
///
/// It also turns off DataFusion's leaf expression pushdown
/// (`datafusion.optimizer.enable_leaf_expression_pushdown`): `rate_lookup` returns a struct
/// read with `get_field`, and that rule of DataFusion 55 moves each `get_field(rate, …)`
/// below the projection computing `rate`, copying the `rate_lookup(…)` call (and the
/// `e164` inside it) into every field read (apache/datafusion#24678, fixed upstream by
/// apache/datafusion#24720). `call_reports` and a rating query read four fields, so rating
/// ran four times per call. The rule only helps struct columns of tables, which no cdrlake
/// table has.
pub fn install(ctx: &SessionContext, book: Arc<RateBook>) {
    ctx.register_udf(ScalarUDF::new_from_impl(RateLookup::new(Arc::clone(&book))));
    let state = ctx.state();
    let current = Arc::clone(state.query_planner());
    let inner = match (current.as_ref() as &dyn std::any::Any).downcast_ref::<RefreshPlanner>() {
        Some(previous) => Arc::clone(&previous.inner),
        None => current,
    };
    let planner = Arc::new(RefreshPlanner::new(inner, book));
    let mut state = SessionStateBuilder::new_from_existing(state)
        .with_query_planner(planner)
        .build();
    state
        .config_mut()
        .options_mut()
        .optimizer
        .enable_leaf_expression_pushdown = false;
    *ctx.state_ref().write() = state;
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{AsArray, Int32Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use datafusion::datasource::MemTable;

    use super::*;
    use crate::rates::RateDeck;

    /// The fields of one rating are read from one `rate_lookup` call, however many are read.
    #[tokio::test]
    async fn fields_of_one_rating_share_one_call() -> Result<()> {
        let ctx = SessionContext::new();
        install(&ctx, Arc::new(RateBook::fixed(RateDeck::default())));
        let sql = "SELECT r['min_s'], r['increment_s'], r['rate_per_min'], r['currency'] \
                   FROM (SELECT rate_lookup(t, d, TIMESTAMP '2026-11-02T10:00:00Z') AS r \
                         FROM (VALUES ('acme', '3120'), ('acme', '4420')) AS v(t, d))";
        let plan = ctx.sql(sql).await?.into_optimized_plan()?;
        let text = plan.display_indent().to_string();
        assert_eq!(text.matches("rate_lookup(").count(), 1, "{text}");
        Ok(())
    }

    /// Installing keeps what the session already had: its tables and options.
    #[tokio::test]
    async fn install_keeps_the_catalog() -> Result<()> {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![Arc::new(Int32Array::from(vec![1, 2, 3]))],
        )?;
        ctx.register_table("t", Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))?;
        install(&ctx, Arc::new(RateBook::fixed(RateDeck::default())));
        let rows = ctx.sql("SELECT count(*) FROM t").await?.collect().await?;
        let counts: Vec<i64> = rows
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(counts, vec![3]);
        Ok(())
    }
}
