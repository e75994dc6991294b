//! The views of SPEC section 4, one `SELECT` per file under `schemas/views/` (the file name is
//! the view name), embedded in the binary and registered in every session. The views named
//! in [`materialized::MATERIALIZED`] are read from their stored rows when current.

use std::sync::Arc;

use cdrlake_udfs::Settings;
use datafusion::prelude::SessionContext;

use super::LatestTable;
use super::materialized::{self, MaterializedView};
use crate::error::{Error, Result};
use crate::schema::SCHEMAS_DIR;
use crate::storage::Store;

/// The view definitions: (name, SELECT text), in name order.
pub fn definitions() -> Result<Vec<(String, &'static str)>> {
    let dir = SCHEMAS_DIR
        .get_dir("views")
        .ok_or_else(|| Error::schema_file("schemas/views", "directory missing"))?;
    let mut views = Vec::new();
    for file in dir.files() {
        let path = file.path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| Error::schema_file(path.display().to_string(), "bad file name"))?;
        let sql = file
            .contents_utf8()
            .ok_or_else(|| Error::schema_file(path.display().to_string(), "not UTF-8"))?;
        views.push((name.to_string(), sql));
    }
    views.sort();
    Ok(views)
}

/// Registers every view in `ctx`'s default schema, whose functions follow `settings`.
pub async fn register(ctx: &SessionContext, store: &Store, settings: &Settings) -> Result<()> {
    for (name, sql) in definitions()? {
        let file = || format!("schemas/views/{name}.sql");
        let create = format!(
            "CREATE OR REPLACE VIEW \"{name}\" AS {}",
            sql.trim().trim_end_matches(';')
        );
        ctx.sql(&create)
            .await
            .map_err(|e| Error::schema_file(file(), e.to_string()))?;
        let Some(spec) = materialized::spec(&name) else {
            continue;
        };
        let computed = ctx.table_provider(name.as_str()).await?;
        let mut sources = Vec::new();
        for table in spec.sources {
            let source: Arc<dyn std::any::Any + Send + Sync> = ctx.table_provider(*table).await?;
            sources.push(
                source
                    .downcast::<LatestTable>()
                    .map_err(|_| Error::schema_file(file(), format!("{table} is not stored")))?,
            );
        }
        let fingerprint = materialized::fingerprint(&name, sql, settings);
        let view = MaterializedView::new(&name, computed, sources, store.clone(), fingerprint);
        ctx.register_table(name.as_str(), Arc::new(view))?;
    }
    Ok(())
}
