//! The catalog: what a SQL session sees. Fed by storage, feeds query and serve.
//!
//! Tables are served by [`StoreSchema`], a DataFusion schema provider that loads the latest
//! Delta snapshot of a table each time a statement names it: a statement reads one
//! consistent snapshot, and the next statement sees commits made in between.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionStateBuilder;

use crate::schema;
use crate::storage::Store;

/// The `public` schema: one table per table definition, read from the store.
#[derive(Debug)]
pub struct StoreSchema {
    store: Store,
    runtime: Arc<RuntimeEnv>,
}

impl StoreSchema {
    /// A schema over `store`, registering object stores in `runtime` as tables are opened.
    pub fn new(store: Store, runtime: Arc<RuntimeEnv>) -> Self {
        StoreSchema { store, runtime }
    }
}

#[async_trait]
impl SchemaProvider for StoreSchema {
    fn table_names(&self) -> Vec<String> {
        schema::tables()
            .map(|t| t.iter().map(|t| t.name.clone()).collect())
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        if !self.table_exist(name) {
            return Ok(None);
        }
        let external = |e: crate::error::Error| DataFusionError::External(Box::new(e));
        let table = self.store.table(name).await.map_err(external)?;
        let state = SessionStateBuilder::new()
            .with_runtime_env(self.runtime.clone())
            .build();
        table
            .update_datafusion_session(&state)
            .map_err(|e| external(crate::error::Error::delta(name)(e)))?;
        let provider = table.table_provider().await?;
        Ok(Some(provider))
    }

    fn table_exist(&self, name: &str) -> bool {
        schema::table(name).is_ok()
    }
}
