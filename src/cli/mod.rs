//! The command line of SPEC section 8: flags declared once here, one file per command.

mod compact;
mod export;
mod generate;
mod history;
mod ingest;
mod query;
mod retention;
mod serve;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::error::Result;
use crate::storage::Location;

/// cdrlake: a SQL engine for call detail records.
#[derive(Debug, Parser)]
#[command(name = "cdrlake", version, about)]
pub struct Cli {
    /// Store location: a directory or an object-store URL (s3://bucket/prefix).
    #[arg(long, global = true, default_value = "./data", env = "CDRLAKE_DATA")]
    pub data: String,

    /// Seconds a writer (ingest, compact, retention, the server's COPY and INSERT) waits for
    /// another writer to release the store's writer lock before giving up.
    #[arg(
        long,
        global = true,
        default_value_t = 300,
        env = "CDRLAKE_LOCK_TIMEOUT",
        value_name = "SECONDS"
    )]
    pub lock_timeout: u64,

    /// Configuration file (default: ./cdrlake.toml when present).
    #[arg(long, global = true, env = "CDRLAKE_CONFIG")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load CDR (or rate deck, billing event) CSV files into the store.
    Ingest(ingest::IngestArgs),
    /// Run one SQL statement and print the result.
    Query(query::QueryArgs),
    /// Write realistic synthetic CDRs in every ingest format.
    Generate(generate::GenerateArgs),
    /// Serve the store over the PostgreSQL wire protocol.
    Serve(serve::ServeArgs),
    /// Merge small files into large ones and delete replaced files after a grace period.
    Compact(compact::CompactArgs),
    /// Remove calls older than their tenant's retention_days, with their refunds and billing
    /// events.
    Retention(retention::RetentionArgs),
    /// List the commits of the tables.
    History(history::HistoryArgs),
    /// Write a query result to a file.
    Export(export::ExportArgs),
}

impl Cli {
    /// Runs the command; the binary maps the error to a message and exit code.
    pub async fn run(self) -> Result<()> {
        let config = Config::load(self.config.as_deref())?;
        let wait = Duration::from_secs(self.lock_timeout);
        let location = || Location::parse(&self.data).map(|l| l.with_lock_wait(wait));
        match self.command {
            Command::Ingest(args) => ingest::run(args, location()?, &config).await,
            Command::Query(args) => query::run(args, location()?, &config).await,
            Command::Generate(args) => generate::run(args),
            Command::Serve(args) => serve::run(args, location()?, &config).await,
            Command::Compact(args) => compact::run(args, location()?, &config).await,
            Command::Retention(args) => retention::run(args, location()?, &config).await,
            Command::History(args) => history::run(args, location()?).await,
            Command::Export(args) => export::run(args, location()?, &config).await,
        }
    }
}
