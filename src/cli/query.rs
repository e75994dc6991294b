//! `cdrlake query [--csv] SQL`: one statement, printed as a table or as CSV.

use std::io::Write;

use arrow::util::pretty::pretty_format_batches_with_schema;
use futures::StreamExt;

use crate::config::Config;
use crate::error::Result;
use crate::query;
use crate::storage::{Location, Store};

/// Arguments of `query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// Print CSV with a header instead of a table.
    #[arg(long)]
    pub csv: bool,
    /// The SQL statement; several separated by `;` run in order and the last one's result
    /// is printed (`SET cdrlake.as_of = '2026-11-01'; SELECT …`).
    pub sql: String,
}

/// Runs `query`.
pub async fn run(args: QueryArgs, location: Location, config: &Config) -> Result<()> {
    let settings = std::sync::Arc::new(config.settings()?);
    let store = Store::open(location).await?;
    let ctx = query::session(&store, settings).await?;
    let mut stream = query::stream_script(&ctx, &args.sql).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.csv {
        let mut writer = arrow::csv::WriterBuilder::new()
            .with_header(true)
            .with_timestamp_tz_format("%Y-%m-%d %H:%M:%S%:z".to_string())
            .build(&mut out);
        while let Some(batch) = stream.next().await {
            writer.write(&batch?)?;
        }
    } else {
        // A table needs every row to size its columns; `--csv` streams.
        let mut batches = Vec::new();
        while let Some(batch) = stream.next().await {
            batches.push(batch?);
        }
        writeln!(
            out,
            "{}",
            pretty_format_batches_with_schema(stream.schema(), &batches)?
        )?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        writeln!(out, "({rows} row{})", if rows == 1 { "" } else { "s" })?;
    }
    out.flush()?;
    Ok(())
}
