//! `cdrlake history [TABLE]`: the commits of one table, or of every table.

use crate::error::Result;
use crate::schema;
use crate::storage::{Location, Store};

/// Arguments of `history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The table (cdrs, refunds, billing_events, rates, ingest_rejects); all when omitted.
    pub table: Option<String>,
}

/// Runs `history`.
pub async fn run(args: HistoryArgs, location: Location) -> Result<()> {
    let names: Vec<String> = match args.table {
        Some(t) => vec![schema::table(&t)?.name.clone()],
        None => schema::tables()?.iter().map(|t| t.name.clone()).collect(),
    };
    let store = Store::open(location).await?;
    println!("table,version,time,operation,files_added,files_removed,rows_added,rows_deleted");
    for name in names {
        for c in store.history(&name).await? {
            let time = c
                .time
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .unwrap_or_default();
            let deleted = c.rows_deleted.map(|n| n.to_string()).unwrap_or_default();
            println!(
                "{name},{},{time},{},{},{},{},{deleted}",
                c.version, c.operation, c.files_added, c.files_removed, c.rows_added
            );
        }
    }
    Ok(())
}
