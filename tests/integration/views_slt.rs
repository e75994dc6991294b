//! The views' executable specification: every `tests/slt/views/*.slt` file runs against a
//! fresh store built from fixture CSVs, in one session configured by
//! `tests/slt/fixtures/cdrlake.toml` (the tenants' settings), one test per file.
//!
//! A file names its fixtures in header comments, loaded in order before its first record:
//!
//! ```text
//! # fixture canonical calls/call_log.csv
//! # fixture didww-outbound carrier/outbound.csv tenant=carrier
//! ```
//!
//! — the ingest format, the file under `tests/slt/fixtures/`, and optionally the tenant of rows
//! without one. Writes (`INSERT INTO refunds …`) go through the same session as queries, so
//! the refund rules of the catalog run. Result types and value spelling are the functions'
//! runner's (`udfs/tests/support/slt_engine.rs`).
//!
//! Run one file: `cargo test --test integration views_slt::call_log`.

use std::path::PathBuf;
use std::sync::Arc;

use cdrlake::config::Config;
use cdrlake::ingest::IngestOptions;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use sqllogictest::Runner;

use crate::inproc::Lake;

#[path = "../../udfs/tests/support/slt_engine.rs"]
mod slt_engine;
use slt_engine::Engine;

/// The directive naming a fixture in a file's header.
const FIXTURE: &str = "# fixture ";

fn slt_root() -> PathBuf {
    crate::support::manifest_dir().join("tests/slt")
}

/// One `# fixture FORMAT FILE [tenant=T]` line.
#[derive(Debug)]
struct Fixture {
    format: String,
    file: String,
    tenant: Option<String>,
}

impl Fixture {
    fn parse(line: &str) -> Result<Fixture, String> {
        let mut words = line.split_whitespace();
        let (Some(format), Some(file)) = (words.next(), words.next()) else {
            return Err(format!(
                "`{FIXTURE}{line}`: expected FORMAT FILE [tenant=T]"
            ));
        };
        let tenant = match words.next() {
            None => None,
            Some(word) => Some(
                word.strip_prefix("tenant=")
                    .ok_or_else(|| format!("`{FIXTURE}{line}`: unknown option {word}"))?
                    .to_string(),
            ),
        };
        Ok(Fixture {
            format: format.to_string(),
            file: file.to_string(),
            tenant,
        })
    }
}

/// The fixtures a `.slt` file names, in order.
fn fixtures(slt: &str) -> Result<Vec<Fixture>, String> {
    slt.lines()
        .filter_map(|l| l.strip_prefix(FIXTURE))
        .map(Fixture::parse)
        .collect()
}

/// Builds the file's store, then runs its records in one configured session.
fn run_view_slt(name: &str) -> Result<(), String> {
    let root = slt_root();
    let path = root.join("views").join(format!("{name}.slt"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config_path = root.join("fixtures/cdrlake.toml");
    let config = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let settings = Config::parse(&config)
        .and_then(|c| c.settings().map_err(|e| e.to_string()))
        .map_err(|e| format!("{}: {e}", config_path.display()))?;

    let lake = Lake::new();
    for fixture in fixtures(&text)? {
        let file = root.join("fixtures").join(&fixture.file);
        let csv = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let opts = IngestOptions {
            format: Some(fixture.format.clone()),
            tenant: fixture.tenant.clone(),
            ..IngestOptions::default()
        };
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let (_, _, rejected) = lake.ingest_with(&name.unwrap_or_default(), opts, &csv);
        if rejected > 0 {
            let reasons = lake.rows("SELECT line, reason FROM ingest_rejects ORDER BY line");
            return Err(format!(
                "{fixture:?}: {rejected} rows rejected: {reasons:?}"
            ));
        }
    }
    let ctx = lake.session_with(Arc::new(settings));
    let mut runner = Runner::new(move || {
        let ctx = ctx.clone();
        async move {
            Ok(Engine {
                ctx,
                rewrite: Some(client_sql),
            })
        }
    });
    runner.with_column_validator(sqllogictest::strict_column_validator);
    lake.block_on(runner.run_file_async(&path))
        .map_err(|e| e.display(false).to_string())
}

/// A statement as the server and the command line plan it (`AT TIME ZONE`, `FETCH FIRST`…).
fn client_sql(sql: &str) -> datafusion::error::Result<String> {
    cdrlake::query::syntax::rewrite_sql(sql, &GenericDialect {})
}

/// One test per `.slt` file; [`every_slt_file_has_a_test`] keeps the list complete.
macro_rules! view_slt_tests {
    ($($name:ident),* $(,)?) => {
        const FILES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                if let Err(e) = run_view_slt(stringify!($name)) {
                    panic!("tests/slt/views/{}.slt:\n{e}", stringify!($name));
                }
            }
        )*
    };
}

view_slt_tests!(
    call_log,
    call_reports,
    call_records,
    call_data_records,
    didww_inbound,
    didww_outbound,
    session_time_zone,
    cdr_anomalies,
    settings,
    refunds,
    analyst_questions,
);

#[test]
fn every_slt_file_has_a_test() {
    let dir = slt_root().join("views");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/slt/views")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    found.sort();
    let mut listed: Vec<&str> = FILES.to_vec();
    listed.sort();
    assert_eq!(found, listed, "tests/slt/views/*.slt vs view_slt_tests!");
}
