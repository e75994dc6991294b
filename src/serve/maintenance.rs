//! The server's housekeeping (SPEC 7): at every interval it merges small files (keeping
//! sort order and bloom filters), deletes replaced files older than the grace period, and
//! drops calls past each tenant's retention. A round is skipped when another process (a CLI
//! ingest, say) holds the store's writer lock; the next round tries again.
//!
//! The materialized views' stored rows are computed anew where stale (without the lock: the
//! server's COPY is not held up meanwhile): at start-up, after every round, and once the
//! tables they read have stayed unchanged for `quiet` (checked every `quiet`), so that a
//! load is followed by stored rows a minute or two later, while a steady stream of writes
//! does not recompute them over and over. In between, at every check that finds the tables
//! changed, the stored rows that appended calls can complete are completed with the new
//! calls' rows ([`materialized::Scope::Appends`]): under a steady stream of calls they stay
//! at most `quiet` behind.

use std::sync::Arc;
use std::time::Duration;

use cdrlake_udfs::Settings;

use super::Shared;
use crate::catalog::materialized::{self, Refreshed, Scope};
use crate::error::Result;
use crate::schema;
use crate::storage::Store;

/// Size compaction merges small files into.
const TARGET_FILE_BYTES: u64 = 128 << 20;

/// How often maintenance runs and what it keeps.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Time between maintenance rounds.
    pub interval: Duration,
    /// Age at which replaced files are deleted.
    pub grace: Duration,
    /// Time the materialized views' tables must stay unchanged before their rows are stored
    /// anew between rounds (zero: only at start-up and after rounds).
    pub quiet: Duration,
}

/// Runs maintenance on `schedule` until the task is dropped.
pub async fn run(shared: Arc<Shared>, settings: Settings, schedule: Schedule) {
    let mut rounds = tokio::time::interval(schedule.interval);
    rounds.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    rounds.tick().await;
    let mut polls = tokio::time::interval(schedule.quiet.max(Duration::from_secs(1)));
    polls.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    polls.tick().await;
    // The table versions of the last poll, and those a refresh last failed at: a refresh
    // that failed (over the memory limit, say) is not tried again every poll, only once the
    // tables change or at the next round.
    let mut seen = materialized::source_versions(&shared.store).await.ok();
    let mut failed = if refresh_views(&shared, &settings, Scope::All).await {
        None
    } else {
        seen.clone()
    };
    loop {
        tokio::select! {
            _ = rounds.tick() => {
                let result = round(&shared, &settings, schedule.grace).await;
                shared.metrics.maintenance(result.is_ok());
                if let Err(e) = result {
                    tracing::warn!("maintenance round skipped: {e}");
                }
                refresh_views(&shared, &settings, Scope::All).await;
            }
            _ = polls.tick(), if !schedule.quiet.is_zero() => {
                let now = materialized::source_versions(&shared.store).await.ok();
                if now.is_some() && now != seen {
                    refresh_views(&shared, &settings, Scope::Appends).await;
                } else if now.is_some() && now != failed {
                    failed = if refresh_views(&shared, &settings, Scope::All).await { None } else { now.clone() };
                }
                seen = now;
            }
        }
    }
}

/// Stores the materialized views' rows anew where stale, as far as `scope` goes, computing
/// them under the per-query memory limit; a failure is logged (and `false` returned), and
/// queries compute the views meanwhile.
async fn refresh_views(shared: &Shared, settings: &Settings, scope: Scope) -> bool {
    let refreshed = async {
        if !materialized::stale(&shared.store, settings, scope).await? {
            return Ok(Vec::new());
        }
        let ctx = crate::query::session(&shared.store, Arc::new(settings.clone())).await?;
        // Under the per-query memory limit, as the view computed by a query would be.
        let ctx = crate::query::with_memory_limit(&ctx, shared.query_memory_bytes)?;
        materialized::refresh(&ctx, &shared.store, settings, scope).await
    };
    match refreshed.await {
        Ok(outcomes) => {
            let mut all = true;
            for (view, refreshed) in outcomes {
                let line = materialized::describe(&view, &refreshed);
                if let Refreshed::Failed(_) = refreshed {
                    tracing::warn!("{line}");
                    all = false;
                } else {
                    tracing::info!("{line}");
                }
            }
            all
        }
        Err(e) => {
            tracing::warn!("materialized views not refreshed: {e}");
            false
        }
    }
}

async fn round(shared: &Shared, settings: &Settings, grace: Duration) -> Result<()> {
    let _serial = shared.writer.lock().await;
    // Try the lock once: a round that waited would hold up the server's COPY and INSERTs.
    let location = shared
        .store
        .location()
        .clone()
        .with_lock_wait(Duration::ZERO);
    let (store, _lock) = Store::open_for_writing(location).await?;
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::hours(24));
    for def in schema::tables()? {
        let outcome = store.compact(def, TARGET_FILE_BYTES).await?;
        let deleted = store.vacuum(&def.name, grace).await?;
        if outcome.files_before != outcome.files_after || deleted > 0 {
            tracing::info!(
                table = %def.name,
                files_before = outcome.files_before,
                files_after = outcome.files_after,
                deleted,
                "compacted"
            );
        }
    }
    materialized::vacuum(&store, grace).await?;
    let report = store
        .apply_retention(settings, chrono::Utc::now().date_naive())
        .await?;
    for (tenant, rows) in &report.calls {
        tracing::info!(%tenant, rows, "retention removed calls");
    }
    Ok(())
}
