//! `COPY cdrs|rates|billing_events FROM STDIN WITH (FORMAT csv[, HEADER])`: the rows go
//! through the same ingest pipeline as `cdrlake ingest` (validation, deduplication, rejects
//! with line numbers, atomic commits), so `psql \copy` loads data. The client's bytes are
//! spooled to a temporary file as they arrive (memory stays flat whatever the size) and
//! ingested when the client ends the copy; `COPY n` counts the rows accepted.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::sql::sqlparser::ast::{CopySource, Statement};
use tokio::io::AsyncWriteExt;

use super::Shared;
use super::copy_out::copy_options;
use super::sqlstate::{self, FEATURE_NOT_SUPPORTED};
use crate::export::CopyFormat;
use crate::ingest::{self, FileReport, IngestOptions};
use crate::schema;
use crate::storage::Store;
use pgwire::error::{PgWireError, PgWireResult};

/// A `COPY … FROM STDIN` receiving data.
pub struct CopyIn {
    table: String,
    path: PathBuf,
    file: tokio::fs::File,
}

static SPOOLS: AtomicU64 = AtomicU64::new(0);

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
        let opts = copy_options(options, legacy_options)?;
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
        let n = SPOOLS.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("cdrlake-copy-{}-{n}.csv", std::process::id()));
        let mut file = tokio::fs::File::create(&path).await?;
        if !opts.header {
            file.write_all(format!("{}\n", names.join(",")).as_bytes())
                .await?;
        }
        let copy = CopyIn {
            table: table.to_owned(),
            path,
            file,
        };
        Ok((copy, names.len()))
    }

    /// Appends a chunk of the client's data.
    pub async fn write(&mut self, data: &[u8]) -> PgWireResult<()> {
        Ok(self.file.write_all(data).await?)
    }

    /// Ingests what was received, holding the store's writer lock.
    pub async fn finish(mut self, shared: &Shared) -> PgWireResult<FileReport> {
        self.file.flush().await?;
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
