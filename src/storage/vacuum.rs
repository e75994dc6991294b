//! Removing data files no commit needs any more (Delta vacuum), once they have been out of
//! the table for a grace period: a query that opened an older snapshot keeps reading its
//! files until then, and time travel reaches back as far as the grace period.

use deltalake::DeltaTable;
use object_store::ObjectStoreExt;
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

/// Whether any of `files` (paths in `delta`'s directory, as a vacuum plan names them) exists.
async fn any_present(delta: &DeltaTable, files: &[String]) -> Result<bool> {
    let store = delta.object_store();
    for file in files {
        let path = Path::parse(file).map_err(object_store::Error::from)?;
        match store.head(&path).await {
            Ok(_) => return Ok(true),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}
