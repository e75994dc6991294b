//! The `cdrlake` binary: parses the command line and reports errors; all logic is in the
//! library.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Warnings and errors, except the Delta kernel's, which logs an ERROR for every table it
/// opens before that table's first commit and reports real failures as errors we show anyway;
/// nor Delta's warning for each commit that lost a race, which our append retries itself.
const DEFAULT_LOG: &str = "warn,buoyant_kernel=off,deltalake_core::kernel::transaction=error";

/// Whether log lines may carry ANSI colours: only on a terminal, and not when `NO_COLOR` is
/// set to anything but the empty string (no-color.org).
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CDRLAKE_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour())
        .init();
    match cdrlake::cli::Cli::parse().run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
