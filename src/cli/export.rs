//! `cdrlake export --format csv|xlsx --output FILE SQL`: a query result written to a file,
//! with a row counter on a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::error::Result;
use crate::storage::{Location, Store};
use crate::{export, query};

/// File formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// CSV in PostgreSQL's dialect.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// File format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The file to write (replaced when it exists).
    #[arg(long)]
    pub output: PathBuf,
    /// The query whose result is exported; `;`-separated statements run in order and the
    /// last one's result is exported.
    pub sql: String,
}

/// Runs `export`.
pub async fn run(args: ExportArgs, location: Location, config: &Config) -> Result<()> {
    let settings = std::sync::Arc::new(config.settings()?);
    let store = Store::open(location).await?;
    let ctx = query::session(&store, settings).await?;
    let stream = query::stream_script(&ctx, &args.sql).await?;
    // Instants in the zone the script set (`SET TimeZone = …`), as COPY writes them.
    let zone = query::time_zone::session_zone(&ctx)?;
    let bar = row_counter();
    let progress = |n| bar.set_position(n);
    let rows = match args.format {
        ExportFormat::Csv => export::csv::write(stream, &args.output, zone, progress).await,
        ExportFormat::Xlsx => export::xlsx::write(stream, &args.output, zone, progress).await,
    };
    bar.finish_and_clear();
    let rows = rows?;
    println!("{}: {rows} row(s)", args.output.display());
    Ok(())
}

/// A row counter on a terminal, hidden otherwise.
fn row_counter() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} rows ({per_sec})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
