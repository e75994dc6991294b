//! The catalog: what a SQL session sees. Fed by storage, feeds query and serve.
//!
//! [`StoreSchema`] is the `public` schema: the store's tables, each a [`LatestTable`] that
//! reads the newest commit at every scan, plus the views registered by the session builder
//! (`CREATE VIEW` lands here too). `INSERT INTO refunds` issues refunds ([`refunds`]),
//! `INSERT INTO billing_events` records billing-system responses ([`events`]); [`writes`]
//! routes them.

pub(crate) mod as_of;
mod bloom_index;
pub mod events;
mod latest;
pub mod materialized;
mod pinned_scan;
mod rates;
pub mod refunds;
mod settings;
pub mod views;
pub mod writes;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};

pub use as_of::{CdrlakeOptions, parse_as_of};
pub use latest::LatestTable;
pub use rates::{DeltaRates, rate_source};
pub use settings::{ALL_TENANTS, settings_table};

use crate::schema;
use crate::storage::Store;

/// The `public` schema: one table per table definition, read from the store, and views.
#[derive(Debug)]
pub struct StoreSchema {
    store: Store,
    tables: tokio::sync::Mutex<HashMap<String, Arc<LatestTable>>>,
    views: RwLock<HashMap<String, Arc<dyn TableProvider>>>,
}

impl StoreSchema {
    /// A schema over `store`.
    pub fn new(store: Store) -> Self {
        StoreSchema {
            store,
            tables: Default::default(),
            views: Default::default(),
        }
    }

    fn stored(name: &str) -> bool {
        schema::table(name).is_ok()
    }
}

#[async_trait]
impl SchemaProvider for StoreSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = schema::tables()
            .map(|t| t.iter().map(|t| t.name.clone()).collect())
            .unwrap_or_default();
        if let Ok(views) = self.views.read() {
            names.extend(views.keys().cloned());
        }
        names.sort();
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if let Some(view) = self.views.read().ok().and_then(|v| v.get(name).cloned()) {
            return Ok(Some(view));
        }
        if !Self::stored(name) {
            return Ok(None);
        }
        let mut tables = self.tables.lock().await;
        if let Some(table) = tables.get(name) {
            return Ok(Some(table.clone()));
        }
        let table = LatestTable::open(&self.store, name)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let table = Arc::new(table);
        tables.insert(name.to_string(), table.clone());
        Ok(Some(table))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if Self::stored(&name) {
            return Err(DataFusionError::Plan(format!("{name} is a stored table")));
        }
        let mut views = self
            .views
            .write()
            .map_err(|_| DataFusionError::Internal("view registry poisoned".into()))?;
        Ok(views.insert(name, table))
    }

    fn deregister_table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let mut views = self
            .views
            .write()
            .map_err(|_| DataFusionError::Internal("view registry poisoned".into()))?;
        Ok(views.remove(name))
    }

    fn table_exist(&self, name: &str) -> bool {
        Self::stored(name) || self.views.read().is_ok_and(|v| v.contains_key(name))
    }
}
