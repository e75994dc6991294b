//! The executable specification of the cdrlake functions: runs every `*.slt` file under the
//! workspace's `tests/slt/functions/` (sqllogictest format) against a DataFusion session
//! with [`cdrlake_udfs::register_all`], one test per file.
//!
//! Column types in `query` headers: `T` text, `I` integer, `R` decimal or float, `B`
//! boolean, `P` timestamp, `?` anything else. Values print as Arrow displays them; NULL is
//! `NULL` and the empty string `(empty)`.
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
use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::harness::{Arguments, Failed, Trial, run};
use sqllogictest::{AsyncDB, ColumnType, DBOutput, Runner};

/// Result column types as the `.slt` files spell them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Text,
    Integer,
    Real,
    Boolean,
    Timestamp,
    Other,
}

impl ColumnType for Column {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'T' => Self::Text,
            'I' => Self::Integer,
            'R' => Self::Real,
            'B' => Self::Boolean,
            'P' => Self::Timestamp,
            _ => Self::Other,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Text => 'T',
            Self::Integer => 'I',
            Self::Real => 'R',
            Self::Boolean => 'B',
            Self::Timestamp => 'P',
            Self::Other => '?',
        }
    }
}

fn column_of(data_type: &DataType) -> Column {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Column::Text,
        t if t.is_integer() => Column::Integer,
        t if t.is_floating() || t.is_decimal() => Column::Real,
        DataType::Boolean => Column::Boolean,
        DataType::Timestamp(..) => Column::Timestamp,
        _ => Column::Other,
    }
}

/// A DataFusion session with every cdrlake function.
struct Engine {
    ctx: SessionContext,
}

#[async_trait::async_trait]
impl AsyncDB for Engine {
    type Error = DataFusionError;
    type ColumnType = Column;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Column>, DataFusionError> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            return Ok(DBOutput::StatementComplete(0));
        };
        let types: Vec<Column> = schema
            .fields()
            .iter()
            .map(|f| column_of(f.data_type()))
            .collect();
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()?;
            for row in 0..batch.num_rows() {
                let cells = formatters.iter().zip(batch.columns()).map(|(f, c)| {
                    match f.value(row).to_string() {
                        s if s.is_empty() && c.is_valid(row) => "(empty)".to_owned(),
                        s => s,
                    }
                });
                rows.push(cells.collect());
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "cdrlake-udfs"
    }
}

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
            Ok(Engine { ctx })
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        runner
            .run_file_async(path)
            .await
            .map_err(|e| Failed::from(e.display(false).to_string()))
    })
}

fn slt_files() -> std::io::Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/slt/functions");
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
