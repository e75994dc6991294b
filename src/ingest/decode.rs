//! Streaming CSV decoding: reads an input's header, resolves it against a format, then reads
//! records in chunks ([`super::rows`] turns each into a row of the target table or into a
//! [`Reject`] with its line number and reason) and puts chunks together into batches
//! ([`super::assemble`]). Memory is bounded by the batch size, whatever the file size.
//! [`super::parallel`] runs the same steps on several threads.

use std::io::Read;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use super::assemble::BatchAssembler;
use super::format::Format;
use super::rows::{CallIds, RawChunk, RowContext, decode_chunk};
use crate::error::{Error, Result};
use crate::schema::TableDef;

/// Records per chunk: the unit of work of a decoding thread.
pub(super) const CHUNK_ROWS: usize = 8192;

/// A row that could not be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// 1-based line number where the row starts.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
    /// The row as read, re-encoded as CSV (invalid UTF-8 shown as U+FFFD).
    pub raw: String,
    /// The row's tenant, when it could be read.
    pub tenant: Option<String>,
}

/// One batch of decoded input.
#[derive(Debug)]
pub struct Decoded {
    /// Valid rows, in input order, first occurrence of each unique key only.
    pub batch: RecordBatch,
    /// Rejected rows.
    pub rejects: Vec<Reject>,
    /// Rows dropped because an earlier row of the batch had the same unique key.
    pub duplicates: u64,
    /// First and last input line of the batch.
    pub lines: (u64, u64),
}

/// Decodes one input in a given format.
pub struct Decoder<R: Read> {
    reader: csv::Reader<R>,
    format: Format,
    ctx: Arc<RowContext>,
    done: bool,
}

impl<R: Read> Decoder<R> {
    /// Reads the header of `input` and resolves it against `format` (or detects the format
    /// among `formats` when none is given).
    pub fn new(
        name: &str,
        input: R,
        formats: &super::Formats,
        format: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let header: Vec<String> = reader
            .byte_headers()
            .map_err(|e| Error::UnknownFormat {
                file: name.to_string(),
                message: format!("cannot read the header line: {e}"),
            })?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(Error::UnknownFormat {
                file: name.to_string(),
                message: "the file is empty or has no header line".into(),
            });
        }
        let format = match format {
            Some(f) => formats.get(f)?,
            None => formats.detect(name, &header)?,
        }
        .clone();
        let plan = format
            .plan(&header)
            .map_err(|message| Error::UnknownFormat {
                file: name.to_string(),
                message: format!("not in format {}: {message}", format.name),
            })?;
        let table = format.table_def()?;
        let fill = table
            .columns
            .iter()
            .map(|c| {
                let constant = format.constants.get(&c.name).cloned();
                let tenant = (c.name == "tenant")
                    .then(|| tenant.map(str::to_string))
                    .flatten();
                constant.or(tenant).or_else(|| c.default.clone())
            })
            .collect();
        let recipe = format.call_id.as_ref().map(|r| {
            let from = r.from.iter().filter_map(|c| table.index_of(c)).collect();
            (r.prefix.clone(), from)
        });
        let ctx = RowContext {
            table,
            recipe,
            plan,
            fill,
            header_len: header.len(),
            hasher: Default::default(),
        };
        Ok(Decoder {
            reader,
            format,
            ctx: Arc::new(ctx),
            done: false,
        })
    }

    /// The format being decoded.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The table the rows are for.
    pub fn table(&self) -> &'static TableDef {
        self.ctx.table
    }

    /// Bytes of input consumed so far.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// What decoding a record needs, for the decoding threads.
    pub(super) fn context(&self) -> Arc<RowContext> {
        self.ctx.clone()
    }

    /// Reads up to `max` records into `chunk` (fewer only at the end of the input).
    pub(super) fn read_chunk(&mut self, chunk: &mut RawChunk, max: usize) -> Result<()> {
        chunk.len = 0;
        while chunk.len < max && !self.done {
            if chunk.records.len() == chunk.len {
                chunk.records.push(csv::ByteRecord::new());
            }
            let record = &mut chunk.records[chunk.len];
            if self.reader.read_byte_record(record).map_err(csv_error)? {
                chunk.len += 1;
            } else {
                self.done = true;
            }
        }
        chunk.position = self.position();
        Ok(())
    }

    /// Whether the end of the input was reached.
    pub(super) fn at_end(&self) -> bool {
        self.done
    }

    /// Decodes up to `max_rows` input rows (valid or not) on this thread. `None` at the end
    /// of the input.
    pub fn next_batch(&mut self, max_rows: usize) -> Result<Option<Decoded>> {
        let mut assembler = BatchAssembler::new(self.ctx.table);
        let mut ids = CallIds::default();
        let mut chunk = RawChunk::default();
        let mut left = max_rows;
        while left > 0 && !self.done {
            self.read_chunk(&mut chunk, left.min(CHUNK_ROWS))?;
            left -= chunk.len;
            assembler.add(decode_chunk(&self.ctx, &chunk, &mut ids)?);
        }
        assembler.finish()
    }
}

/// A CSV reading error as a cdrlake error.
fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::InvalidArgument(format!("CSV: {other:?}")),
    }
}
