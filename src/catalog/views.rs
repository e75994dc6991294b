//! The views of SPEC section 4, one `SELECT` per file under `schemas/views/` (the file name is
//! the view name), embedded in the binary and registered in every session.

use datafusion::prelude::SessionContext;

use crate::error::{Error, Result};
use crate::schema::SCHEMAS_DIR;

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

/// Registers every view in `ctx`'s default schema.
pub async fn register(ctx: &SessionContext) -> Result<()> {
    for (name, sql) in definitions()? {
        let create = format!(
            "CREATE OR REPLACE VIEW \"{name}\" AS {}",
            sql.trim().trim_end_matches(';')
        );
        ctx.sql(&create)
            .await
            .map_err(|e| Error::schema_file(format!("schemas/views/{name}.sql"), e.to_string()))?;
    }
    Ok(())
}
