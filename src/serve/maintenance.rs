//! The server's housekeeping (SPEC 7): at every interval it merges small files (keeping
//! sort order and bloom filters), deletes replaced files older than the grace period, and
//! drops calls past each tenant's retention. A round is skipped when another process (a CLI
//! ingest, say) holds the store's writer lock; the next round tries again. At start-up and
//! after every round, the materialized views' stored rows are computed anew if `cdrs`
//! changed (without the lock: the server's COPY is not held up meanwhile).

use std::sync::Arc;
use std::time::Duration;

use cdrlake_udfs::Settings;

use super::Shared;
use crate::catalog::materialized;
use crate::error::Result;
use crate::schema;
use crate::storage::Store;

/// Size compaction merges small files into.
const TARGET_FILE_BYTES: u64 = 128 << 20;

/// Runs maintenance every `interval` until the task is dropped.
pub async fn run(shared: Arc<Shared>, settings: Settings, interval: Duration, grace: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    refresh_views(&shared, &settings).await;
    loop {
        ticks.tick().await;
        let result = round(&shared, &settings, grace).await;
        shared.metrics.maintenance(result.is_ok());
        if let Err(e) = result {
            tracing::warn!("maintenance round skipped: {e}");
        }
        refresh_views(&shared, &settings).await;
    }
}

/// Stores the materialized views' rows anew where `cdrs` changed; a failure is logged, and
/// queries compute the views meanwhile.
async fn refresh_views(shared: &Shared, settings: &Settings) {
    let refreshed = async {
        let ctx = crate::query::session(&shared.store, Arc::new(settings.clone())).await?;
        materialized::refresh(&ctx, &shared.store, settings).await
    };
    match refreshed.await {
        Ok(outcomes) => {
            for (view, refreshed) in outcomes {
                tracing::info!("{}", materialized::describe(&view, &refreshed));
            }
        }
        Err(e) => tracing::warn!("materialized views not refreshed: {e}"),
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
