//! Streaming CSV decoding: reads an input one record at a time and turns each into a row of the
//! target table, or into a [`Reject`] with its line number and reason. Memory is bounded by the
//! batch size, whatever the file size.
//!
//! Per row, in order: field count, UTF-8, each field's type and checks ([`super::value`]),
//! constants and defaults, generated columns, a derived call id, non-null columns, the table's
//! order rules, and finally the unique key within the batch (a repeat is a duplicate, not a
//! reject).

use std::collections::HashSet;
use std::io::Read;

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::builder::BatchBuilder;
use super::format::{FieldPlan, Format};
use super::value::{self, Value};
use crate::error::{Error, Result};
use crate::schema::TableDef;

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
    table: &'static TableDef,
    format: Format,
    /// The call-id recipe with its columns resolved: (prefix, positions).
    recipe: Option<(String, Vec<usize>)>,
    plan: FieldPlan,
    /// Value per column when the input leaves it out: constants, `--tenant`, defaults.
    fill: Vec<Option<String>>,
    header_len: usize,
    record: csv::ByteRecord,
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
        Ok(Decoder {
            reader,
            table,
            recipe,
            format,
            plan,
            fill,
            header_len: header.len(),
            record: csv::ByteRecord::new(),
            done: false,
        })
    }

    /// The format being decoded.
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The table the rows are for.
    pub fn table(&self) -> &'static TableDef {
        self.table
    }

    /// Bytes of input consumed so far.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Decodes up to `max_rows` input rows (valid or not). `None` at the end of the input.
    pub fn next_batch(&mut self, max_rows: usize) -> Result<Option<Decoded>> {
        if self.done {
            return Ok(None);
        }
        let mut builder = BatchBuilder::new(self.table);
        let mut rejects = Vec::new();
        let mut keys = HashSet::new();
        let mut ids = CallIds::default();
        let (mut seen, mut duplicates, mut first, mut last) = (0, 0, 0, 0);
        while seen < max_rows {
            let record = &mut self.record;
            if !self.reader.read_byte_record(record).map_err(csv_error)? {
                self.done = true;
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            if first == 0 {
                first = line;
            }
            last = line;
            seen += 1;
            let mut row = Vec::with_capacity(self.table.columns.len());
            let outcome = decode_row(
                self.table,
                self.recipe.as_ref(),
                &self.plan,
                &self.fill,
                self.header_len,
                record,
                &mut row,
                &mut ids,
            );
            match outcome {
                Ok(()) => {
                    let key = unique_key(self.table, &row);
                    if key.is_empty() || keys.insert(key) {
                        builder.push(&row);
                    } else {
                        duplicates += 1;
                    }
                }
                Err(reason) => rejects.push(Reject {
                    line,
                    reason,
                    raw: reencode(record),
                    tenant: tenant_of(self.table, &self.plan, record, &self.fill),
                }),
            }
        }
        if seen == 0 {
            return Ok(None);
        }
        Ok(Some(Decoded {
            batch: builder.finish()?,
            rejects,
            duplicates,
            lines: (first, last),
        }))
    }
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Io(io),
        other => Error::InvalidArgument(format!("CSV: {other:?}")),
    }
}

/// Decodes one record into `row` (one value per table column), or says why it cannot be.
#[allow(clippy::too_many_arguments)]
fn decode_row<'r>(
    table: &TableDef,
    recipe: Option<&(String, Vec<usize>)>,
    plan: &'r FieldPlan,
    fill: &'r [Option<String>],
    header_len: usize,
    record: &'r csv::ByteRecord,
    row: &mut Vec<Value<'r>>,
    ids: &mut CallIds,
) -> std::result::Result<(), String> {
    row.resize(table.columns.len(), Value::Null);
    if record.len() != header_len {
        return Err(format!(
            "expected {header_len} fields, found {}",
            record.len()
        ));
    }
    for (i, (field, target)) in record.iter().zip(&plan.fields).enumerate() {
        let Some((col, values)) = target else {
            continue;
        };
        let column = &table.columns[*col];
        let text = std::str::from_utf8(field).map_err(|e| {
            format!(
                "{}: invalid UTF-8 at byte {} of field {}",
                column.name,
                e.valid_up_to(),
                i + 1
            )
        })?;
        let text = values.get(text).map(String::as_str).unwrap_or(text);
        row[*col] = value::parse(column, text)?;
    }
    for (i, column) in table.columns.iter().enumerate() {
        if row[i] == Value::Null
            && let Some(text) = &fill[i]
        {
            row[i] = value::parse(column, text)?;
        }
    }
    let positions = table.positions();
    for &(i, src) in &positions.generated {
        if let (Value::Null, Value::Timestamp(us)) = (&row[i], &row[src]) {
            row[i] = Value::Date(us.div_euclid(86_400_000_000) as i32);
        }
    }
    if let (Some(recipe), Some(id_col)) = (recipe, positions.call_id) {
        row[id_col] = Value::Text(ids.derive(&recipe.0, &recipe.1, row).into());
    }
    for (column, value) in table.columns.iter().zip(row.iter()) {
        if !column.nullable && *value == Value::Null {
            return Err(format!(
                "{}: missing (the column may not be empty)",
                column.name
            ));
        }
    }
    for &(e, l) in &positions.order {
        if let (Value::Timestamp(earlier), Value::Timestamp(later)) = (&row[e], &row[l])
            && later < earlier
        {
            return Err(format!(
                "{} {} is before {} {}",
                table.columns[l].name,
                show_ts(*later),
                table.columns[e].name,
                show_ts(*earlier)
            ));
        }
    }
    Ok(())
}

fn show_ts(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| us.to_string())
}

/// The unique key of a decoded row as one string, or empty when the table has none.
fn unique_key(table: &TableDef, row: &[Value<'_>]) -> String {
    let mut key = String::new();
    for &i in &table.positions().unique_key {
        render(&row[i], &mut key);
        key.push('\u{1f}');
    }
    key
}

fn render(value: &Value<'_>, out: &mut String) {
    use std::fmt::Write;
    let _ = match value {
        Value::Null => write!(out, "\u{0}"),
        Value::Text(s) => write!(out, "{s}"),
        Value::Int(v) | Value::Timestamp(v) => write!(out, "{v}"),
        Value::Decimal(v) => write!(out, "{v}"),
        Value::Date(v) => write!(out, "{v}"),
        Value::Bool(v) => write!(out, "{v}"),
    };
}

/// Derives stable call ids: a hash of the identifying fields, plus the number of identical
/// rows seen before in the same batch, so two genuinely identical calls stay two calls and
/// re-reading the same input derives the same ids.
#[derive(Default)]
struct CallIds {
    seen: std::collections::HashMap<[u8; 32], u32>,
}

impl CallIds {
    fn derive(&mut self, prefix: &str, from: &[usize], row: &[Value<'_>]) -> String {
        let mut text = String::new();
        for &i in from {
            render(&row[i], &mut text);
            text.push('\u{1f}');
        }
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        let n = self.seen.entry(digest).or_default();
        let id = if *n == 0 {
            format!("{prefix}{}", hex(&digest[..12]))
        } else {
            format!("{prefix}{}-{n}", hex(&digest[..12]))
        };
        *n += 1;
        id
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tenant of a row, read from its raw field so that even a row too broken to decode is
/// attributed to its tenant.
fn tenant_of(
    table: &TableDef,
    plan: &FieldPlan,
    record: &csv::ByteRecord,
    fill: &[Option<String>],
) -> Option<String> {
    let i = table.positions().tenant?;
    let field = plan
        .fields
        .iter()
        .position(|f| f.as_ref().is_some_and(|(c, _)| *c == i));
    field
        .and_then(|f| record.get(f))
        .and_then(|raw| std::str::from_utf8(raw).ok())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| fill[i].clone())
}

fn reencode(record: &csv::ByteRecord) -> String {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let bytes = out
        .write_byte_record(record)
        .ok()
        .and_then(|()| out.into_inner().ok())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}
