//! Completing stored rows with appended calls, instead of computing a view whole.
//!
//! Calls arrive as appends to `cdrs`: an ingest or a COPY adds files and removes none. For a
//! view whose rows for a call depend on that call alone ([`Appendable`]), the rows of the new
//! calls are the view computed with `cdrs` read as just the files added since the stored rows'
//! version, and the stored rows of older calls do not change — provided nothing else changed
//! either: every other source at the stored version, no file of `cdrs` removed (compaction,
//! retention) and the view's own check ([`Appendable::unless`]) empty. Under a steady stream of
//! calls the stored rows then stay current at the cost of the new calls, where computing the
//! view whole costs every call (benches/RESULTS.md).

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionContext};
use deltalake::DeltaTable;

use super::Appendable;
use crate::error::{Error, Result};
use crate::storage::{Materialization, Store};

/// The table calls are appended to.
const CALLS: &str = "cdrs";

/// The rows to add to `stored` (computed at `cdrs` version `from`), or `None` when they
/// cannot complete them: `cdrs` at version `to` is not `from` plus appended files, or
/// `appendable.unless` finds a stored row the new calls change. `sql` is the view's text,
/// computed in `ctx`.
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
    let Some(added) = appended(store, from, to).await? else {
        return Ok(None);
    };
    let Some(unless) = over_new_calls(ctx, ctx.sql(appendable.unless).await?, &added).await? else {
        return Ok(None);
    };
    if unless.count().await? > 0 {
        tracing::debug!("new calls change stored rows; computing the view whole");
        return Ok(None);
    }
    let Some(view) = over_new_calls(ctx, ctx.sql(sql).await?, &added).await? else {
        return Ok(None);
    };
    let rows = view.parse_sql_expr(appendable.rows)?;
    Ok(Some(view.filter(rows)?))
}

/// `cdrs` at version `to` and the files it has that version `from` had not, when it still
/// has every file `from` had (only appends in between).
async fn appended(store: &Store, from: u64, to: u64) -> Result<Option<(DeltaTable, Vec<String>)>> {
    if to <= from {
        return Ok(None);
    }
    let files = |table: &DeltaTable| -> Result<HashSet<String>> {
        let snapshot = table.snapshot().map_err(Error::delta(CALLS))?;
        Ok(snapshot
            .log_data()
            .iter()
            .map(|f| f.path().into_owned())
            .collect())
    };
    let mut table = store.table(CALLS).await?;
    table
        .load_version(from as _)
        .await
        .map_err(Error::delta(CALLS))?;
    let before = files(&table)?;
    table
        .load_version(to as _)
        .await
        .map_err(Error::delta(CALLS))?;
    let after = files(&table)?;
    if !before.is_subset(&after) {
        return Ok(None);
    }
    let mut added: Vec<String> = after.difference(&before).cloned().collect();
    added.sort();
    Ok(Some((table, added)))
}

/// `frame` with its scans of `cdrs` reading only `added` (the table and its new files);
/// `None` when those files cannot be read with the columns the session's `cdrs` has.
async fn over_new_calls(
    ctx: &SessionContext,
    frame: DataFrame,
    (table, added): &(DeltaTable, Vec<String>),
) -> Result<Option<DataFrame>> {
    table
        .update_datafusion_session(&ctx.state())
        .map_err(Error::delta(CALLS))?;
    let provider = table
        .table_provider()
        .with_file_paths(added.clone())
        .await?;
    let source = provider_as_source(provider);
    let mut same_columns = true;
    let (state, plan) = frame.into_parts();
    let plan = plan
        .transform_up(|node| match node {
            LogicalPlan::TableScan(mut scan) if scan.table_name.table() == CALLS => {
                same_columns &= scan.source.schema() == source.schema();
                scan.source = Arc::clone(&source);
                Ok(Transformed::yes(LogicalPlan::TableScan(scan)))
            }
            other => Ok(Transformed::no(other)),
        })?
        .data;
    Ok(same_columns.then(|| DataFrame::new(state, plan)))
}
