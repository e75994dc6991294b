//! Removing data files no commit needs any more (Delta vacuum), once they have been out of
//! the table for a grace period: a query that opened an older snapshot keeps reading its
//! files until then, and time travel reaches back as far as the grace period.

use deltalake::DeltaTable;
use futures::{StreamExt, TryStreamExt};
use object_store::GetOptions;
use object_store::path::Path;

use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Deletes the files of `table` that were removed from it more than `grace` ago; returns
    /// how many were deleted. The caller holds the writer lock.
    ///
    /// delta-rs plans a vacuum from the removals the log still remembers, deleted already or
    /// not, and commits a `VACUUM START` and a `VACUUM END` whenever it plans any. Every
    /// maintenance round after a compaction would then give the table two new versions
    /// without a change to its rows, and the materialized views computed from the previous
    /// version would be computed again. So the plan is made first (a dry run) and carried out
    /// only when one of its files is still there.
    pub async fn vacuum(&self, table: &str, grace: chrono::Duration) -> Result<usize> {
        let delta = self.table(table).await?;
        let run = |delta: DeltaTable, dry_run| {
            delta
                .vacuum()
                .with_retention_period(grace)
                .with_enforce_retention_duration(false)
                .with_dry_run(dry_run)
        };
        let (delta, plan) = run(delta, true).await.map_err(Error::delta(table))?;
        if !any_present(&delta, &plan.files_deleted).await? {
            return Ok(0);
        }
        let (_, metrics) = run(delta, false).await.map_err(Error::delta(table))?;
        let deleted = metrics.files_deleted.len();
        tracing::info!(table, deleted, "vacuumed files");
        Ok(deleted)
    }
}

/// HEAD requests [`any_present`] has in flight at once: an object store answers each in
/// tens of milliseconds, and a week of compactions can leave thousands of removals in the log.
const HEADS_AT_ONCE: usize = 16;

/// Whether any of `files` (paths in `delta`'s directory, as a vacuum plan names them) exists.
async fn any_present(delta: &DeltaTable, files: &[String]) -> Result<bool> {
    let store = delta.object_store();
    // Owned paths, and the object store's own `get_opts` (`ObjectStoreExt::head` is the same
    // request, but its future is not known to be `Send`, which the server's maintenance task
    // needs once the requests go through a stream).
    let mut present = futures::stream::iter(files.to_vec())
        .map(|file| {
            let store = store.clone();
            async move {
                let path = Path::parse(&file).map_err(object_store::Error::from)?;
                match store
                    .get_opts(&path, GetOptions::new().with_head(true))
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(Error::from(e)),
                }
            }
        })
        .buffer_unordered(HEADS_AT_ONCE);
    while let Some(found) = present.try_next().await? {
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}
