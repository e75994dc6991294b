//! The `cdrlake` binary: parses the command line and reports errors; all logic is in the
//! library.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Warnings and errors, except the Delta kernel's, which logs an ERROR for every table it
/// opens before that table's first commit and reports real failures as errors we show anyway;
/// nor Delta's warning for each commit that lost a race, which our append retries itself.
const DEFAULT_LOG: &str = "warn,buoyant_kernel=off,deltalake_core::kernel::transaction=error";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CDRLAKE_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .init();
    match cdrlake::cli::Cli::parse().run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
