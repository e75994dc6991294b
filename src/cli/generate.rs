//! `cdrlake generate`: synthetic CDRs for demos, tests and benchmarks.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions, OutputKind};

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// CDR rows to write (in the canonical file, or in the one format chosen).
    #[arg(long)]
    pub rows: u64,
    /// Write only this file: canonical, didww-inbound, didww-outbound, rates, refunds,
    /// billing-events.
    #[arg(long)]
    pub format: Option<String>,
    /// Random seed: the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day of calls (UTC).
    #[arg(long, default_value = "2026-11-01")]
    pub start_date: NaiveDate,
    /// Number of days the calls span.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Number of tenants (cycling through the five seed kinds).
    #[arg(long, default_value_t = 5)]
    pub tenants: u32,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `generate`.
pub fn run(args: GenerateArgs) -> Result<()> {
    let only = match &args.format {
        None => None,
        Some(name) => Some(OutputKind::from_name(name).ok_or_else(|| {
            let known: Vec<_> = OutputKind::ALL.iter().map(|k| k.name()).collect();
            Error::InvalidArgument(format!(
                "unknown format {name}; known: {}",
                known.join(", ")
            ))
        })?),
    };
    let opts = GenerateOptions {
        rows: args.rows,
        only,
        seed: args.seed,
        start_date: args.start_date,
        days: args.days,
        tenants: args.tenants,
        out: args.out,
    };
    let report = generate::generate(&opts).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    for f in &report.files {
        println!(
            "{}: {} rows, {} bytes ({})",
            f.path.display(),
            f.rows,
            f.bytes,
            f.kind.name()
        );
    }
    Ok(())
}
