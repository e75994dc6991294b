//! `cdrlake serve [--listen ADDR] [--demo]`: the PostgreSQL wire server. `--demo` fills an
//! empty store with a month of generated CDRs and, when no users are configured, creates the
//! demo users the README lists, on loopback only.

use std::path::PathBuf;

use chrono::{Datelike, Utc};

use crate::config::{Config, Role, UserConfig};
use crate::error::{Error, Result};
use crate::generate::{self, GenerateOptions, OutputKind};
use crate::ingest::{self, Formats, IngestOptions};
use crate::serve::Server;
use crate::storage::{Location, Store};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default: `[server] listen`, 127.0.0.1:5433).
    #[arg(long)]
    pub listen: Option<String>,
    /// Fill an empty store with generated CDRs and create the demo users.
    #[arg(long)]
    pub demo: bool,
    /// CDRs the demo generates.
    #[arg(long, default_value_t = 200_000)]
    pub demo_rows: u64,
}

/// The demo users: (name = password, role, tenants).
pub const DEMO_USERS: [(&str, Role, Option<&str>); 5] = [
    ("admin", Role::Admin, None),
    ("analyst", Role::Analyst, None),
    ("billing", Role::Billing, None),
    ("ingest", Role::Ingest, None),
    ("cruise", Role::Analyst, Some("cruise")),
];

/// Runs `serve` until SIGTERM or Ctrl-C.
pub async fn run(args: ServeArgs, location: Location, config: &Config) -> Result<()> {
    let mut config = config.clone();
    if args.demo {
        let listen = args.listen.as_deref().unwrap_or(&config.server.listen);
        let loopback = listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback());
        if !loopback {
            return Err(Error::InvalidArgument(format!(
                "--demo serves on loopback only, not {listen}"
            )));
        }
        fill_demo(&location, &config, args.demo_rows).await?;
        if config.users.is_empty() {
            config.users = demo_users();
        }
    }
    // libphonenumber's metadata takes ~0.1 s to load: load it now, not in the first report.
    tokio::task::spawn_blocking(cdrlake_udfs::phone::load_metadata);
    let store = Store::open(location).await?;
    let server = Server::bind(&store, &config, args.listen.as_deref()).await?;
    let addr = server.local_addr()?;
    if let Some(metrics) = server.metrics_addr() {
        eprintln!("metrics on http://{metrics}/metrics, health on http://{metrics}/health");
    }
    eprintln!(
        "cdrlake serving {} on {addr} (database cdr): psql -h {} -p {} -U <user> cdr",
        store.location().display,
        addr.ip(),
        addr.port()
    );
    if args.demo {
        eprintln!(
            "demo users (password = name): admin, analyst, billing, ingest, cruise (tenant cruise only)"
        );
    }
    server.run(shutdown_signal()).await
}

fn demo_users() -> Vec<UserConfig> {
    DEMO_USERS
        .iter()
        .map(|(name, role, tenant)| UserConfig {
            name: (*name).into(),
            password: (*name).into(),
            role: *role,
            tenants: tenant.map(|t| vec![t.to_owned()]),
        })
        .collect()
}

/// Generates and ingests demo data unless the store already exists: every generated file,
/// the cruise PMS's refunds and billing events included, so that `call_reports` shows every
/// billing result of its seed (refund rows and `Refunded` calls too).
async fn fill_demo(location: &Location, config: &Config, rows: u64) -> Result<()> {
    if Store::open(location.clone()).await.is_ok() {
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("cdrlake-demo-{}", std::process::id()));
    let today = Utc::now().date_naive();
    let start = today.with_day(1).unwrap_or(today) - chrono::Duration::days(30);
    eprintln!(
        "demo: generating {rows} CDRs from {start} in {}",
        dir.display()
    );
    let report = generate::generate(&GenerateOptions {
        rows,
        only: None,
        seed: 1,
        start_date: start,
        days: 60,
        tenants: 5,
        out: dir.clone(),
    })
    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let (store, _lock) = Store::open_for_writing(location.clone()).await?;
    let formats = Formats::load(config.ingest.formats_dir.as_deref())?;
    for file in &report.files {
        let tenant = match file.kind {
            OutputKind::DidwwInbound | OutputKind::DidwwOutbound => Some("carrier".to_owned()),
            _ => None,
        };
        let opts = IngestOptions {
            format: None,
            tenant,
            strict: false,
            batch_rows: ingest::DEFAULT_BATCH_ROWS,
        };
        let path: PathBuf = file.path.clone();
        let name = path.display().to_string();
        let r = ingest::ingest(
            &store,
            &formats,
            &name,
            move || ingest::open_input(&path),
            &opts,
            |_| {},
        )
        .await?;
        eprintln!(
            "demo: {} → {}: stored {}",
            file.kind.name(),
            r.table,
            r.stored
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
