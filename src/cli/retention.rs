//! `cdrlake retention [--today DATE]`: remove calls older than their tenant's
//! `retention_days`, with their refunds and billing events; print what was removed.

use chrono::NaiveDate;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::{Location, Store};

/// Arguments of `retention`.
#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    /// The day (UTC, YYYY-MM-DD) retention counts back from; default today.
    #[arg(long)]
    pub today: Option<String>,
}

/// Runs `retention`.
pub async fn run(args: RetentionArgs, location: Location, config: &Config) -> Result<()> {
    let settings = config.settings()?;
    let today = match &args.today {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| {
            Error::InvalidArgument(format!("--today {d}: {e} (expected YYYY-MM-DD)"))
        })?,
        None => chrono::Utc::now().date_naive(),
    };
    let (store, _lock) = Store::open_for_writing(location).await?;
    let report = store.apply_retention(&settings, today).await?;
    if report.calls.is_empty() {
        println!("nothing expired as of {today}");
        return Ok(());
    }
    for (tenant, rows) in &report.calls {
        let days = settings.for_tenant(tenant).retention_days;
        println!("{tenant}: removed {rows} call(s) older than {days} day(s)");
    }
    for (table, rows) in &report.followers {
        println!("{table}: removed {rows} row(s) of removed calls");
    }
    let dropped: Vec<String> = report
        .partitions_dropped
        .iter()
        .map(|d| d.to_string())
        .collect();
    println!(
        "partitions dropped whole: {}",
        if dropped.is_empty() {
            "none".to_string()
        } else {
            dropped.join(", ")
        }
    );
    Ok(())
}
