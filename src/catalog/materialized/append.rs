//! Completing stored rows with appended calls, instead of computing a view whole.
//!
//! Calls arrive as appends to `cdrs`: an ingest or a COPY adds files and removes none. The rows
//! of the new calls are the view computed with `cdrs` read as the files added since the stored
//! rows' version — together with the stored calls of their callers for a view whose rows
//! depend on the caller's earlier calls ([`Appendable::PerCaller`]) — and the stored rows of
//! older calls do not change, provided nothing else changed either: every other source at the
//! stored version, no file of `cdrs` removed (compaction, retention) and the view's own check
//! empty (a refund stored before its call; a caller's stored call later than a new one).
//! Under a steady stream of calls the stored rows then stay current at the cost of the new
//! calls, where computing the view whole costs every call (benches/RESULTS.md). A bulk load
//! of more calls than one pass of the view holds in its memory limit ([`super::passes()`]) is
//! left to a whole refresh, which computes it in passes.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::JoinType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, col};
use datafusion::prelude::{DataFrame, SessionContext};
use deltalake::DeltaTable;

use super::Appendable;
use super::passes::passes;
use crate::error::{Error, Result};
use crate::storage::{Materialization, Store, file_paths, row_count};

/// The table calls are appended to.
pub(super) const CALLS: &str = "cdrs";

/// The rows to add to `stored` (computed at `cdrs` version `from`), or `None` when they
/// cannot complete them: `cdrs` at version `to` is not `from` plus appended files, or the
/// view's check finds a stored row the new calls change. `sql` is the view's text, computed
/// in `ctx`.
pub(super) async fn new_rows(
    ctx: &SessionContext,
    store: &Store,
    sql: &str,
    appendable: &Appendable,
    stored: &Materialization,
    to: u64,
) -> Result<Option<DataFrame>> {
    let Some(&from) = stored.sources.get(CALLS) else {
        return Ok(None);
    };
    let Some(calls) = appended(ctx, store, from, to).await? else {
        return Ok(None);
    };
    match *appendable {
        Appendable::PerCall { rows, unless } => {
            let unless = over(ctx.sql(unless).await?, calls.new_scan()?)?;
            if unless.count().await? > 0 {
                tracing::debug!("new calls change stored rows; computing the view whole");
                return Ok(None);
            }
            let view = over(ctx.sql(sql).await?, calls.new_scan()?)?;
            let rows = view.parse_sql_expr(rows)?;
            Ok(Some(view.filter(rows)?))
        }
        Appendable::PerCaller => {
            // A bulk load: computed whole, in as many passes as its memory limit needs.
            let limit = ctx.runtime_env().memory_pool.memory_limit();
            if passes(calls.new_calls, limit) > 1 {
                tracing::debug!(
                    new = calls.new_calls,
                    "more new calls than one pass holds; computing the view whole"
                );
                return Ok(None);
            }
            if calls.stored_later_than_new()?.count().await? > 0 {
                tracing::debug!(
                    "a caller's stored call is later than a new one; computing the view whole"
                );
                return Ok(None);
            }
            let view = over(ctx.sql(sql).await?, calls.with_callers_history()?)?;
            let new = calls.frame(&calls.new, "k")?;
            Ok(Some(view.join(
                new,
                JoinType::LeftSemi,
                &["tenant", "call_id"],
                &["tenant", "call_id"],
                None,
            )?))
        }
    }
}

/// The calls of `cdrs` before and after the appends, as providers of one session.
struct Appended {
    ctx: SessionContext,
    /// The new calls: the files added.
    new: Arc<dyn TableProvider>,
    /// How many calls the files added hold.
    new_calls: u64,
    /// The calls stored before.
    before: Arc<dyn TableProvider>,
}

impl Appended {
    /// `provider` read in the session, its columns qualified by `alias`.
    fn frame(&self, provider: &Arc<dyn TableProvider>, alias: &str) -> Result<DataFrame> {
        Ok(self.ctx.read_table(Arc::clone(provider))?.alias(alias)?)
    }

    /// The new calls, as a plan standing for `cdrs`.
    fn new_scan(&self) -> Result<LogicalPlan> {
        as_calls(self.frame(&self.new, "n")?)
    }

    /// The new calls and every stored call of their callers, as a plan standing for `cdrs`.
    fn with_callers_history(&self) -> Result<LogicalPlan> {
        let callers = self
            .frame(&self.new, "c")?
            .select_columns(&["tenant", "source"])?
            .distinct()?;
        let history = self.frame(&self.before, "o")?.join(
            callers,
            JoinType::LeftSemi,
            &["tenant", "source"],
            &["tenant", "source"],
            None,
        )?;
        as_calls(self.frame(&self.new, "n")?.union(history)?)
    }

    /// The pairs of a new call and a stored call of the same caller that comes after it.
    fn stored_later_than_new(&self) -> Result<DataFrame> {
        let key = ["tenant", "source", "start_time", "call_id"];
        let new = self.frame(&self.new, "n")?.select_columns(&key)?;
        let stored = self.frame(&self.before, "o")?.select_columns(&key)?;
        let later = col("o.start_time")
            .gt(col("n.start_time"))
            .or(col("o.start_time")
                .eq(col("n.start_time"))
                .and(col("o.call_id").gt(col("n.call_id"))));
        Ok(new
            .join_on(
                stored,
                JoinType::Inner,
                [
                    col("n.tenant").eq(col("o.tenant")),
                    col("n.source").eq(col("o.source")),
                    later,
                ],
            )?
            .limit(0, Some(1))?)
    }
}

/// `calls` as a relation named `cdrs`.
pub(super) fn as_calls(calls: DataFrame) -> Result<LogicalPlan> {
    Ok(LogicalPlanBuilder::from(calls.into_unoptimized_plan())
        .alias(CALLS)?
        .build()?)
}

/// `frame` with its scans of `cdrs` replaced by `calls` (a plan of the same columns).
pub(super) fn over(frame: DataFrame, calls: LogicalPlan) -> Result<DataFrame> {
    let (state, plan) = frame.into_parts();
    let plan = plan
        .transform_up(|node| match node {
            LogicalPlan::TableScan(scan) if scan.table_name.table() == CALLS => {
                Ok(Transformed::yes(calls.clone()))
            }
            other => Ok(Transformed::no(other)),
        })?
        .data;
    Ok(DataFrame::new(state, plan))
}

/// `cdrs` at version `from` and the files added by version `to`, when version `to` still has
/// every file `from` had (only appends in between) and both read as the session's `cdrs`.
async fn appended(
    ctx: &SessionContext,
    store: &Store,
    from: u64,
    to: u64,
) -> Result<Option<Appended>> {
    if to <= from {
        return Ok(None);
    }
    let files = |table: &DeltaTable| file_paths(table).map_err(Error::delta(CALLS));
    let mut table = store.table(CALLS).await?;
    table
        .load_version(from as _)
        .await
        .map_err(Error::delta(CALLS))?;
    let before = table.clone();
    let old_files = files(&before)?;
    table
        .load_version(to as _)
        .await
        .map_err(Error::delta(CALLS))?;
    let new_files = files(&table)?;
    if !old_files.is_subset(&new_files) {
        return Ok(None);
    }
    let mut added: Vec<String> = new_files.difference(&old_files).cloned().collect();
    added.sort();
    table
        .update_datafusion_session(&ctx.state())
        .map_err(Error::delta(CALLS))?;
    // Only files were added: the difference is their rows.
    let new_calls = row_count(&table).saturating_sub(row_count(&before));
    let new = table.table_provider().with_file_paths(added).await?;
    let before = before.table_provider().await?;
    let schema = ctx.table_provider(CALLS).await?.schema();
    if new.schema() != schema || before.schema() != schema {
        return Ok(None);
    }
    Ok(Some(Appended {
        ctx: ctx.clone(),
        new,
        new_calls,
        before,
    }))
}
