//! Removing data files no commit needs any more (Delta vacuum), once they have been out of
//! the table for a grace period: a query that opened an older snapshot keeps reading its
//! files until then, and time travel reaches back as far as the grace period.

use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Deletes the files of `table` that were removed from it more than `grace` ago; returns
    /// how many were deleted. The caller holds the writer lock.
    pub async fn vacuum(&self, table: &str, grace: chrono::Duration) -> Result<usize> {
        let delta = self.table(table).await?;
        let (_, metrics) = delta
            .vacuum()
            .with_retention_period(grace)
            .with_enforce_retention_duration(false)
            .with_dry_run(false)
            .await
            .map_err(Error::delta(table))?;
        let deleted = metrics.files_deleted.len();
        if deleted > 0 {
            tracing::info!(table, deleted, "vacuumed files");
        }
        Ok(deleted)
    }
}
