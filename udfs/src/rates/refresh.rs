//! Refreshing the rate deck once per query: a query planner that wraps the session's own.
//!
//! Functions are synchronous and run per batch, so they cannot ask storage whether the rates
//! changed. Physical planning is async and runs once per statement (and once per view it
//! expands), so [`RefreshPlanner`] refreshes the [`RateBook`] there, and only for statements
//! that call `rate_lookup`: other statements cost nothing extra.

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

/// Name of the function whose statements trigger a refresh.
const FUNCTION: &str = "rate_lookup";

/// A query planner that refreshes a [`RateBook`] before handing statements calling
/// `rate_lookup` to the planner it wraps.
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
        if calls(logical_plan, FUNCTION) {
            self.book.refresh(session).await?;
        }
        self.inner.create_physical_plan(logical_plan, session).await
    }
}

/// Whether `plan` (its subqueries included) calls the scalar function `name`.
fn calls(plan: &LogicalPlan, name: &str) -> bool {
    let mut found = false;
    let visit = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                found = matches!(e, Expr::ScalarFunction(f) if f.name() == name);
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
pub fn install(ctx: &SessionContext, book: Arc<RateBook>) {
    ctx.register_udf(ScalarUDF::new_from_impl(RateLookup::new(Arc::clone(&book))));
    let state = ctx.state();
    let current = Arc::clone(state.query_planner());
    let inner = match (current.as_ref() as &dyn std::any::Any).downcast_ref::<RefreshPlanner>() {
        Some(previous) => Arc::clone(&previous.inner),
        None => current,
    };
    let planner = Arc::new(RefreshPlanner::new(inner, book));
    let state = SessionStateBuilder::new_from_existing(state)
        .with_query_planner(planner)
        .build();
    *ctx.state_ref().write() = state;
}
