//! Writing rejected rows to the `ingest_rejects` table.

use chrono::{DateTime, Utc};

use super::builder::BatchBuilder;
use super::decode::Reject;
use super::value::Value;
use crate::error::Result;
use crate::schema;
use crate::storage::Store;

/// Where a batch of rejects came from.
#[derive(Debug, Clone, Copy)]
pub struct RejectSource<'a> {
    /// Input file name (or `STDIN`).
    pub file: &'a str,
    /// Format name.
    pub format: &'a str,
    /// Target table.
    pub table: &'a str,
}

/// Appends `rejects` to `ingest_rejects` as one commit.
pub async fn record(
    store: &Store,
    source: RejectSource<'_>,
    rejects: &[Reject],
    now: DateTime<Utc>,
) -> Result<()> {
    if rejects.is_empty() {
        return Ok(());
    }
    let def = schema::table("ingest_rejects")?;
    let mut builder = BatchBuilder::new(def);
    let at = Value::Timestamp(now.timestamp_micros());
    for r in rejects {
        let text = |s: &str| Value::Text(s.to_string().into());
        let tenant = r.tenant.as_deref().map_or(Value::Null, text);
        let row = def.columns.iter().map(|c| match c.name.as_str() {
            "tenant" => tenant.clone(),
            "table_name" => text(source.table),
            "format" => text(source.format),
            "file" => text(source.file),
            "line" => Value::Int(r.line as i64),
            "reason" => text(&r.reason),
            "raw" => text(&r.raw),
            "rejected_at" => at.clone(),
            _ => Value::Null,
        });
        builder.push(&row.collect::<Vec<_>>());
    }
    store.append(def, builder.finish()?).await?;
    Ok(())
}
