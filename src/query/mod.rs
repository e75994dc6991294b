//! Query: building a SQL session over a store and running statements. Fed by the catalog;
//! feeds the CLI (`cdrlake query`), and later the server and exports.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{SessionConfig, SessionContext};

use cdrlake_udfs::Settings;

use crate::catalog::{StoreSchema, rate_source, settings_table, views};
use crate::error::Result;
use crate::storage::Store;

/// Name of the database (catalog) clients connect to.
pub const DATABASE: &str = "cdr";
/// Name of the schema holding the tables.
pub const SCHEMA: &str = "public";

/// A SQL session over `store`: catalog `cdr`, schema `public`, every table of the store, the
/// `settings` table and the domain functions configured by `settings`, `rate_lookup` reading
/// the store's `rates` table (re-read when its version changes, checked once per query).
pub async fn session(store: &Store, settings: Arc<Settings>) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_default_catalog_and_schema(DATABASE, SCHEMA)
        .with_information_schema(true);
    let ctx = SessionContext::new_with_config(config);
    let catalog = MemoryCatalogProvider::new();
    let schema = StoreSchema::new(store.clone());
    catalog.register_schema(SCHEMA, Arc::new(schema))?;
    ctx.register_catalog(DATABASE, Arc::new(catalog));
    ctx.register_table("settings", Arc::new(settings_table(&settings)?))?;
    cdrlake_udfs::register_all_with_rates(&ctx, settings, rate_source(store));
    views::register(&ctx).await?;
    Ok(ctx)
}

/// Runs one statement and streams its result.
pub async fn stream(ctx: &SessionContext, sql: &str) -> Result<SendableRecordBatchStream> {
    Ok(ctx.sql(sql).await?.execute_stream().await?)
}

/// Runs one statement and collects its result.
pub async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(sql).await?.collect().await?)
}
