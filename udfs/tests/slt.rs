//! The executable specification of the cdrlake functions: runs every `*.slt` file under the
//! workspace's `tests/slt/functions/` (sqllogictest format) against a DataFusion session
//! with [`cdrlake_udfs::register_all`], one test per file.
//!
//! Column types and value spelling: `support/slt_engine.rs` (shared with the views' runner).
//!
//! Tenants configured for the files: `acme` (`default_country = "NL"`, `excluded_numbers =
//! ["0800", "0900"]`), `us` (`default_country = "US"`, `timezone = "America/New_York"`,
//! `target_call_s = 60`, `sales_cycle_days = 7`, `refund_destination = "REF1"`) and `hotel`
//! (`default_country = "GB"`, `excluded_numbers = ["*999", "+3190???????"]`); any other tenant
//! has the defaults (`NL`, nothing excluded, `Europe/Amsterdam`, target 30 s, 1-day cycles,
//! refunds to `REF0`).
//!
//! Run one file: `cargo test -p cdrlake-udfs --test slt -- billing`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cdrlake_udfs::{Settings, TenantSettings, register_all};
use datafusion::prelude::SessionContext;
use sqllogictest::Runner;
use sqllogictest::harness::{Arguments, Failed, Trial, run};

#[path = "support/slt_engine.rs"]
mod slt_engine;
use slt_engine::Engine;

fn settings() -> Arc<Settings> {
    let mut settings = Settings::default();
    let acme = TenantSettings {
        default_country: "NL".into(),
        excluded_numbers: vec!["0800".into(), "0900".into()],
        ..TenantSettings::default()
    };
    let us = TenantSettings {
        default_country: "US".into(),
        timezone: "America/New_York".into(),
        target_call_s: 60,
        sales_cycle_days: 7,
        refund_destination: "REF1".into(),
        ..TenantSettings::default()
    };
    let hotel = TenantSettings {
        default_country: "GB".into(),
        excluded_numbers: vec!["*999".into(), "+3190???????".into()],
        ..TenantSettings::default()
    };
    settings.tenants.insert("acme".into(), acme);
    settings.tenants.insert("us".into(), us);
    settings.tenants.insert("hotel".into(), hotel);
    Arc::new(settings)
}

fn run_file(path: &Path) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(e.to_string()))?;
    runtime.block_on(async {
        let mut runner = Runner::new(|| async {
            let ctx = SessionContext::new();
            register_all(&ctx, settings());
            Ok(Engine { ctx, rewrite: None })
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        runner
            .run_file_async(path)
            .await
            .map_err(|e| Failed::from(e.display(false).to_string()))
    })
}

fn slt_files() -> std::io::Result<Vec<PathBuf>> {
    // Where `cargo test` runs this from: a build reused from another clone of the repository
    // holds that clone's compile-time path.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let dir = manifest.join("../tests/slt/functions");
    let dir = dir.canonicalize().unwrap_or(dir);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "slt") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn main() {
    let files = match slt_files() {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => panic!("no .slt files found under tests/slt/functions"),
        Err(e) => panic!("cannot list tests/slt/functions: {e}"),
    };
    let trials = files
        .into_iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            Trial::test(name, move || run_file(&path))
        })
        .collect();
    run(&Arguments::from_args(), trials).exit();
}
