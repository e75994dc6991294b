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
        match self.command {
            Command::Ingest(args) => ingest::run(args, Location::parse(&self.data)?, &config).await,
            Command::Query(args) => query::run(args, Location::parse(&self.data)?, &config).await,
            Command::Generate(args) => generate::run(args),
            Command::Serve(args) => serve::run(args, Location::parse(&self.data)?, &config).await,
            Command::Compact(args) => compact::run(args, Location::parse(&self.data)?).await,
            Command::Retention(args) => {
                retention::run(args, Location::parse(&self.data)?, &config).await
            }
            Command::History(args) => history::run(args, Location::parse(&self.data)?).await,
            Command::Export(args) => export::run(args, Location::parse(&self.data)?, &config).await,
        }
    }
}
