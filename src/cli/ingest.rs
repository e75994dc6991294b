//! `cdrlake ingest [--format F] [--tenant T] [--strict] FILE...`: load files, print what was
//! stored, skipped and rejected. One line per committed batch goes to stdout as soon as the
//! commit is durable, so a caller (or a person) knows exactly what is stored.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ingest::{self, Formats, IngestOptions};
use crate::storage::{Location, Store};

/// Arguments of `ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Input format (canonical, didww-inbound, didww-outbound, rates, billing-events, or a
    /// mapping file's name); detected from the header when omitted.
    #[arg(long)]
    pub format: Option<String>,
    /// Tenant of rows whose input has no tenant column.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Store nothing of a file that has any bad row.
    #[arg(long)]
    pub strict: bool,
    /// Input rows per atomic commit.
    #[arg(long, default_value_t = ingest::DEFAULT_BATCH_ROWS)]
    pub batch_rows: usize,
    /// CSV files to load.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Runs `ingest`.
pub async fn run(args: IngestArgs, location: Location, config: &Config) -> Result<()> {
    if args.batch_rows == 0 {
        return Err(Error::InvalidArgument(
            "--batch-rows must be at least 1".into(),
        ));
    }
    let formats = Formats::load(config.ingest.formats_dir.as_deref())?;
    if let Some(f) = &args.format {
        formats.get(f)?;
    }
    // Fail on a missing file before touching the store.
    for file in &args.files {
        ingest::open_input(file)?;
    }
    let (store, _lock) = Store::open_for_writing(location).await?;
    let opts = IngestOptions {
        format: args.format,
        tenant: args.tenant,
        strict: args.strict,
        batch_rows: args.batch_rows,
    };
    let mut total = (0, 0, 0);
    for file in &args.files {
        let name = file.display().to_string();
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let bar = progress_bar(size);
        let path = file.clone();
        let report = ingest::ingest(
            &store,
            &formats,
            &name,
            move || ingest::open_input(&path),
            &opts,
            |b| {
                bar.set_position(b.position);
                let line = format!(
                    "{name}: batch {} committed: lines {}-{}: stored {}, duplicates {}, rejected {}",
                    b.batch, b.lines.0, b.lines.1, b.stored, b.duplicates, b.rejected
                );
                bar.suspend(|| {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
                });
            },
        )
        .await;
        bar.finish_and_clear();
        let report = report?;
        println!(
            "{name} ({} → {}): stored {}, duplicates {}, rejected {}",
            report.format, report.table, report.stored, report.duplicates, report.rejected
        );
        total = (
            total.0 + report.stored,
            total.1 + report.duplicates,
            total.2 + report.rejected,
        );
    }
    if args.files.len() > 1 {
        println!(
            "total: stored {}, duplicates {}, rejected {}",
            total.0, total.1, total.2
        );
    }
    Ok(())
}

/// A byte progress bar on a terminal, hidden otherwise or for small files.
fn progress_bar(size: u64) -> ProgressBar {
    const SHOW_FROM_BYTES: u64 = 32 << 20;
    if !std::io::stderr().is_terminal() || size < SHOW_FROM_BYTES {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar
}
