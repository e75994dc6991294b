//! Ingest: CSV files in, validated rows out to storage.
//!
//! An input is decoded in batches of bounded size (module `decode`); each batch is appended to its
//! table as one atomic commit that skips already-stored keys ([`crate::storage`]), and its
//! rejected rows go to `ingest_rejects` with file, line and reason ([`rejects`]). Decoding runs
//! on threads of its own ([`parallel`]), a batch ahead of the commits. With `strict`, a first pass looks
//! for bad rows and, finding any, stores nothing of the file.

mod assemble;
mod builder;
mod decode;
mod format;
mod parallel;
mod rejects;
mod rows;
mod value;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

pub use builder::BatchBuilder;
pub use decode::{Decoded, Decoder, Reject};
pub use format::{Format, Formats};
pub use rejects::RejectSource;
pub use value::{Value, days_since_epoch, is_number, parse_decimal, parse_timestamp};

use crate::error::{Error, Result};
use crate::storage::{KnownKeys, Store};

/// Default number of input rows per commit.
pub const DEFAULT_BATCH_ROWS: usize = 500_000;

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Format name; detected from the header when `None`.
    pub format: Option<String>,
    /// Tenant for rows whose input has no tenant column.
    pub tenant: Option<String>,
    /// Store nothing of a file that has any bad row.
    pub strict: bool,
    /// Input rows per commit.
    pub batch_rows: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            tenant: None,
            strict: false,
            batch_rows: DEFAULT_BATCH_ROWS,
        }
    }
}

/// What one committed batch did.
#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    /// 1-based batch number within the file.
    pub batch: u64,
    /// First and last input line of the batch.
    pub lines: (u64, u64),
    /// Rows stored.
    pub stored: u64,
    /// Rows skipped as already stored or repeated in the batch.
    pub duplicates: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Bytes of input consumed so far.
    pub position: u64,
    /// Table version created (`None` when nothing was new).
    pub version: Option<u64>,
}

/// What ingesting one input did.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// The input's name.
    pub file: String,
    /// Format used.
    pub format: String,
    /// Table fed.
    pub table: String,
    /// Totals over all batches.
    pub stored: u64,
    /// Duplicates over all batches.
    pub duplicates: u64,
    /// Rejects over all batches.
    pub rejected: u64,
    /// Input bytes read.
    pub bytes: u64,
}

/// Opens a file for ingest, with an error that names it.
pub fn open_input(path: &Path) -> Result<File> {
    let read_err = |source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    if file.metadata().map_err(read_err)?.is_dir() {
        return Err(read_err(std::io::Error::other("it is a directory")));
    }
    Ok(file)
}

/// Ingests one input into `store`, calling `on_batch` after each committed batch.
pub async fn ingest<R: Read + Send + 'static>(
    store: &Store,
    formats: &Formats,
    name: &str,
    open: impl Fn() -> Result<R>,
    opts: &IngestOptions,
    mut on_batch: impl FnMut(&BatchReport),
) -> Result<FileReport> {
    let make_decoder = || {
        let input = BufReader::with_capacity(1 << 20, open()?);
        Decoder::new(
            name,
            input,
            formats,
            opts.format.as_deref(),
            opts.tenant.as_deref(),
        )
    };
    if opts.strict {
        strict_check(store, name, make_decoder()?, opts.batch_rows).await?;
    }
    let decoder = make_decoder()?;
    let table = decoder.table();
    let mut report = FileReport {
        file: name.to_string(),
        format: decoder.format().name.clone(),
        table: table.name.clone(),
        ..FileReport::default()
    };
    let source_format = report.format.clone();
    let mut batches = parallel::spawn(name, decoder, opts.batch_rows)?;
    let mut number = 0;
    let mut known = KnownKeys::new();
    while let Some(next) = batches.recv().await {
        let (decoded, position) = next?;
        number += 1;
        let source = RejectSource {
            file: name,
            format: &source_format,
            table: &table.name,
        };
        let outcome = store.append_known(table, decoded.batch, &mut known).await?;
        rejects::record(store, source, &decoded.rejects, chrono::Utc::now()).await?;
        let batch = BatchReport {
            batch: number,
            lines: decoded.lines,
            stored: outcome.stored,
            duplicates: outcome.duplicates + decoded.duplicates,
            rejected: decoded.rejects.len() as u64,
            position,
            version: outcome.version,
        };
        report.stored += batch.stored;
        report.duplicates += batch.duplicates;
        report.rejected += batch.rejected;
        report.bytes = position;
        on_batch(&batch);
    }
    Ok(report)
}

/// Strict mode's first pass: records every bad row and fails if there is one.
async fn strict_check<R: Read>(
    store: &Store,
    name: &str,
    mut decoder: Decoder<R>,
    batch_rows: usize,
) -> Result<()> {
    let format = decoder.format().name.clone();
    let table = decoder.table().name.clone();
    let mut first: Option<Reject> = None;
    let mut rejected = 0;
    while let Some(decoded) = decoder.next_batch(batch_rows)? {
        rejected += decoded.rejects.len() as u64;
        let source = RejectSource {
            file: name,
            format: &format,
            table: &table,
        };
        rejects::record(store, source, &decoded.rejects, chrono::Utc::now()).await?;
        if first.is_none() {
            first = decoded.rejects.into_iter().next();
        }
    }
    match first {
        None => Ok(()),
        Some(r) => Err(Error::StrictRejected {
            file: name.to_string(),
            rejected,
            first_line: r.line,
            first_reason: r.reason,
        }),
    }
}
