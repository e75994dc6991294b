//! The rate deck of `rate_lookup` from the store's `rates` Delta table. Fed by storage, feeds
//! the functions of `cdrlake-udfs` through their [`RateSource`] trait.
//!
//! [`DeltaRates`] keeps the table open; at each query that calls `rate_lookup` it brings the
//! table's log up to date (one listing of the Delta log), or to the version current at the
//! session's `cdrlake.as_of`, and reads the table into a new [`RateDeck`] only when the
//! version moved. A rates commit is therefore seen by the next
//! query, and a query that does not rate anything never touches the table.

use std::sync::Arc;

use async_trait::async_trait;
use cdrlake_udfs::rates::{RateDeck, RateSource, deck_of};
use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::physical_plan::collect;
use deltalake::DeltaTable;
use tokio::sync::Mutex;

use crate::error::Error;
use crate::storage::{CommitTimes, Store};

/// Name of the rate deck table.
const RATES: &str = "rates";

/// The `rates` table as a [`RateSource`], reloaded when its Delta version changes.
#[derive(Debug)]
pub struct DeltaRates {
    store: Store,
    /// The open table and the version last turned into a deck.
    state: Mutex<Option<(DeltaTable, Option<u64>)>>,
    /// Times of the commits read for `cdrlake.as_of`.
    commit_times: CommitTimes,
}

impl DeltaRates {
    /// The rates of `store`; nothing is read before the first query that needs them.
    pub fn new(store: Store) -> Self {
        DeltaRates {
            store,
            state: Mutex::new(None),
            commit_times: CommitTimes::default(),
        }
    }
}

fn external(e: Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[async_trait]
impl RateSource for DeltaRates {
    async fn changed(&self, session: &dyn Session) -> DfResult<Option<RateDeck>> {
        let mut state = self.state.lock().await;
        let (mut table, loaded) = match state.take() {
            Some(open) => open,
            None => (self.store.table(RATES).await.map_err(external)?, None),
        };
        // The deck of the version the session reads: the newest, or the one current at
        // `cdrlake.as_of`, so that a report as of an earlier day rates as it did then.
        match super::as_of::as_of(session)? {
            None => table
                .update_incremental(None)
                .await
                .map_err(|e| external(Error::delta(RATES)(e)))?,
            Some(at) => {
                let version = self
                    .commit_times
                    .version_at(&table, RATES, at)
                    .await
                    .map_err(external)?;
                if table.version() != Some(version) {
                    table
                        .load_version(version)
                        .await
                        .map_err(|e| external(Error::delta(RATES)(e)))?;
                }
            }
        }
        let version = table.version();
        if loaded.is_some() && loaded == version {
            *state = Some((table, loaded));
            return Ok(None);
        }
        table
            .update_datafusion_session(session)
            .map_err(|e| external(Error::delta(RATES)(e)))?;
        let provider = table.table_provider().await?;
        let plan = provider.scan(session, None, &[], None).await?;
        let deck = deck_of(&collect(plan, session.task_ctx()).await?, RATES)?;
        tracing::debug!(version, rates = deck.len(), "loaded the rate deck");
        *state = Some((table, version));
        Ok(Some(deck))
    }
}

/// The rate source of a session over `store`.
pub fn rate_source(store: &Store) -> Arc<dyn RateSource> {
    Arc::new(DeltaRates::new(store.clone()))
}
