//! `COPY cdrs|rates|billing_events FROM STDIN WITH (FORMAT csv[, HEADER])`: the rows go
//! through the same ingest pipeline as `cdrlake ingest` (validation, deduplication, rejects
//! with line numbers, atomic commits), so `psql \copy` loads data. The client's bytes are
//! spooled to a temporary file as they arrive (memory stays flat whatever the size) and
//! ingested when the client ends the copy; `COPY n` counts the rows accepted. `FORMAT binary`
//! (ADBC's bulk ingest, psycopg's binary copy) is read into CSV first
//! ([`super::copy_binary_in`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::sql::sqlparser::ast::{CopySource, Statement};
use std::io::Write;
use tokio::io::AsyncWriteExt;

use super::Shared;
use super::copy_binary_in::{self, BinaryCopyError};
use super::copy_out::{copy_options, is_binary};
use super::sqlstate::{self, BAD_COPY_FILE_FORMAT, FEATURE_NOT_SUPPORTED, UNDEFINED_COLUMN};
use crate::export::{CopyFormat, CopyOptions};
use crate::ingest::{self, FileReport, IngestOptions};
use crate::schema::{self, ColumnType, TableDef};
use crate::storage::Store;
use pgwire::error::{PgWireError, PgWireResult};

/// A `COPY … FROM STDIN` receiving data.
pub struct CopyIn {
    table: String,
    path: PathBuf,
    file: tokio::fs::File,
    /// For binary data: the CSV header and the types of the copied columns.
    binary: Option<(String, Vec<ColumnType>)>,
}

static SPOOLS: AtomicU64 = AtomicU64::new(0);

/// A new spool file in the temporary directory.
fn spool_path(extension: &str) -> PathBuf {
    let n = SPOOLS.fetch_add(1, Ordering::Relaxed);
    let name = format!("cdrlake-copy-{}-{n}.{extension}", std::process::id());
    std::env::temp_dir().join(name)
}

/// The types of `names`, columns of `def` (of `table`); an unknown one is an error.
fn column_types(def: &TableDef, names: &[String], table: &str) -> PgWireResult<Vec<ColumnType>> {
    names
        .iter()
        .map(|name| {
            def.columns
                .iter()
                .find(|c| c.name == *name)
                .map(|c| c.ty)
                .ok_or_else(|| {
                    sqlstate::error(
                        UNDEFINED_COLUMN,
                        format!("column \"{name}\" of relation \"{table}\" does not exist"),
                    )
                })
        })
        .collect()
}

/// Writes the binary copy data in `binary` to `csv` as CSV under `header`.
async fn binary_to_csv(
    binary: PathBuf,
    csv: PathBuf,
    header: String,
    types: Vec<ColumnType>,
) -> PgWireResult<()> {
    let convert = move || -> Result<u64, BinaryCopyError> {
        let input = std::io::BufReader::new(std::fs::File::open(&binary)?);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
        out.write_all(format!("{header}\n").as_bytes())?;
        let rows = copy_binary_in::to_csv(input, &types, &mut out)?;
        out.flush()?;
        Ok(rows)
    };
    match tokio::task::spawn_blocking(convert).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(BinaryCopyError::Io(e))) => Err(e.into()),
        Ok(Err(e)) => Err(sqlstate::error(BAD_COPY_FILE_FORMAT, e.to_string())),
        Err(e) => Err(PgWireError::ApiError(Box::new(e))),
    }
}

/// The ingest format that feeds `table` over COPY.
fn format_for(table: &str) -> PgWireResult<&'static str> {
    match table {
        "cdrs" => Ok("canonical"),
        "rates" => Ok("rates"),
        "billing_events" => Ok("billing-events"),
        _ => Err(sqlstate::error(
            FEATURE_NOT_SUPPORTED,
            format!("COPY {table} FROM STDIN is not supported"),
        )),
    }
}

impl CopyIn {
    /// Starts a copy into `table`; without HEADER, a header naming the listed columns (or
    /// every column of the table, in order) is written first, as the ingest formats need one.
    pub async fn start(stmt: &Statement, table: &str) -> PgWireResult<(CopyIn, usize)> {
        format_for(table)?;
        let Statement::Copy {
            source: CopySource::Table { columns, .. },
            options,
            legacy_options,
            ..
        } = stmt
        else {
            return Err(sqlstate::error(FEATURE_NOT_SUPPORTED, "not a COPY FROM"));
        };
        let binary = is_binary(options, legacy_options);
        let opts = match binary {
            true => CopyOptions::new(CopyFormat::Csv),
            false => copy_options(options, legacy_options)?,
        };
        if opts.format != CopyFormat::Csv || opts.delimiter != ',' || opts.quote != '"' {
            return Err(sqlstate::error(
                FEATURE_NOT_SUPPORTED,
                "COPY FROM STDIN takes FORMAT csv with the default delimiter and quote",
            ));
        }
        let def = schema::table(table).map_err(|e| PgWireError::ApiError(Box::new(e)))?;
        let names: Vec<String> = if columns.is_empty() {
            def.columns
                .iter()
                .filter(|c| c.generated_from.is_none())
                .map(|c| c.name.clone())
                .collect()
        } else {
            columns.iter().map(|c| c.value.clone()).collect()
        };
        let binary = match binary {
            false => None,
            true => Some((names.join(","), column_types(def, &names, table)?)),
        };
        let path = spool_path(if binary.is_some() { "bin" } else { "csv" });
        let mut file = tokio::fs::File::create(&path).await?;
        if !opts.header && binary.is_none() {
            file.write_all(format!("{}\n", names.join(",")).as_bytes())
                .await?;
        }
        let copy = CopyIn {
            table: table.to_owned(),
            path,
            file,
            binary,
        };
        Ok((copy, names.len()))
    }

    /// The copy's format code on the wire: 1 for binary, 0 for text.
    pub fn format(&self) -> i8 {
        i8::from(self.binary.is_some())
    }

    /// Appends a chunk of the client's data.
    pub async fn write(&mut self, data: &[u8]) -> PgWireResult<()> {
        Ok(self.file.write_all(data).await?)
    }

    /// Ingests what was received, holding the store's writer lock.
    pub async fn finish(mut self, shared: &Shared) -> PgWireResult<FileReport> {
        self.file.flush().await?;
        if let Some((header, types)) = self.binary.take() {
            let csv = spool_path("csv");
            let converted = binary_to_csv(self.path.clone(), csv.clone(), header, types).await;
            let _ = tokio::fs::remove_file(&self.path).await;
            self.path = csv;
            converted?;
        }
        let api = |e: crate::Error| PgWireError::ApiError(Box::new(e));
        let _serial = shared.writer.lock().await;
        let (store, _lock) = Store::open_for_writing(shared.store.location().clone())
            .await
            .map_err(api)?;
        let opts = IngestOptions {
            format: Some(format_for(&self.table)?.to_owned()),
            tenant: None,
            strict: false,
            batch_rows: ingest::DEFAULT_BATCH_ROWS,
        };
        let path = self.path.clone();
        let mut batches = 0;
        let report = ingest::ingest(
            &store,
            &shared.formats,
            &format!("COPY {}", self.table),
            move || ingest::open_input(&path),
            &opts,
            |_| batches += 1,
        )
        .await
        .map_err(api);
        let _ = tokio::fs::remove_file(&self.path).await;
        let report = report?;
        shared
            .metrics
            .ingested(report.stored + report.duplicates, report.rejected, batches);
        Ok(report)
    }

    /// Abandons the copy: nothing is stored and the spool file goes (see [`Drop`]).
    pub async fn abort(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

impl Drop for CopyIn {
    /// A client that disconnects in the middle of a copy drops it with its session: nothing
    /// was ingested, and the spooled bytes must not stay behind in the temporary directory.
    fn drop(&mut self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::info!(table = %self.table, "COPY FROM STDIN abandoned; nothing stored")
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a COPY spool file")
            }
        }
    }
}
