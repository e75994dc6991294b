//! `cdrlake compact [--target-file-mb N] [--grace-minutes M]`: merge small files of every
//! table, then delete files replaced more than the grace period ago. Prints one line per
//! table; then stores the rows of the materialized views (`call_log`, `call_reports`) computed
//! anew where their tables changed since they were stored, one line each, under the
//! configuration's `query_memory_mb` (as the server does).

use std::sync::Arc;

use crate::catalog::materialized;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::{Location, Store};
use crate::{query, schema};

/// Arguments of `compact`.
#[derive(Debug, clap::Args)]
pub struct CompactArgs {
    /// Size of the files to merge small files into, in MiB.
    #[arg(long, default_value_t = 128)]
    pub target_file_mb: u64,
    /// Minutes a replaced file is kept for queries still reading it (and for time travel)
    /// before it is deleted.
    #[arg(long, default_value_t = 60)]
    pub grace_minutes: u32,
}

/// Runs `compact`.
pub async fn run(args: CompactArgs, location: Location, config: &Config) -> Result<()> {
    if args.target_file_mb == 0 {
        return Err(Error::InvalidArgument(
            "--target-file-mb must be at least 1".into(),
        ));
    }
    let target = args.target_file_mb.saturating_mul(1 << 20);
    let grace = chrono::Duration::minutes(i64::from(args.grace_minutes));
    let (store, _lock) = Store::open_for_writing(location).await?;
    for def in schema::tables()? {
        let outcome = store.compact(def, target).await?;
        let deleted = store.vacuum(&def.name, grace).await?;
        println!(
            "{}: files {} → {} ({} partition(s), {} rows rewritten), {} old file(s) deleted",
            def.name,
            outcome.files_before,
            outcome.files_after,
            outcome.partitions,
            outcome.rows,
            deleted
        );
    }
    let settings = config.settings()?;
    let ctx = query::session(&store, Arc::new(settings.clone())).await?;
    // Under the server's per-query limit, as its own refreshes: bounded, in passes if need be.
    let ctx = query::with_memory_limit(&ctx, config.server.query_memory_bytes())?;
    let mut failed = Vec::new();
    for (view, refreshed) in
        materialized::refresh(&ctx, &store, &settings, materialized::Scope::All).await?
    {
        println!("{}", materialized::describe(&view, &refreshed));
        if let materialized::Refreshed::Failed(_) = refreshed {
            failed.push(view);
        }
    }
    let deleted = materialized::vacuum(&store, grace).await?;
    if deleted > 0 {
        println!("materialized views: {deleted} old file(s) deleted");
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::NotRefreshed(failed))
    }
}
