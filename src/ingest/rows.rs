//! Turning raw CSV records into rows of the target table, a chunk of records at a time.
//!
//! Per row, in order: field count, UTF-8, each field's type and checks ([`super::value`]),
//! constants and defaults, generated columns, a derived call id, non-null columns and the
//! table's order rules. A row that passes is appended to the chunk's Arrow builders together
//! with its unique key (for the batch's duplicate check, [`super::assemble`]); one that fails
//! becomes a [`Reject`] with its line number and reason. Chunks are independent of each other
//! except for derived call ids, which count repeats within a batch ([`CallIds`]), so chunks of
//! a format without a call-id recipe can be decoded on several threads.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::builder::BatchBuilder;
use super::decode::Reject;
use super::format::FieldPlan;
use super::value::{self, Value};
use crate::error::Result;
use crate::schema::TableDef;

/// What decoding a record needs to know about the input, shared by the decoding threads.
#[derive(Debug)]
pub(super) struct RowContext {
    /// The table the rows are for.
    pub table: &'static TableDef,
    /// The call-id recipe with its columns resolved: (prefix, positions).
    pub recipe: Option<(String, Vec<usize>)>,
    /// Where each input field goes.
    pub plan: FieldPlan,
    /// Value per column when the input leaves it out: constants, `--tenant`, defaults.
    pub fill: Vec<Option<String>>,
    /// Fields per record, from the header.
    pub header_len: usize,
    /// Hashes unique keys (randomly seeded, like `HashMap`'s).
    pub hasher: RandomState,
}

/// Raw records read from the input, in input order; the buffers are reused between chunks.
#[derive(Debug, Default)]
pub(super) struct RawChunk {
    /// Records; only the first `len` are this chunk's.
    pub records: Vec<csv::ByteRecord>,
    /// Records in this chunk.
    pub len: usize,
    /// The chunk is the first of its batch.
    pub starts_batch: bool,
    /// The chunk is the last of its batch.
    pub ends_batch: bool,
    /// Bytes of input consumed after reading the chunk.
    pub position: u64,
    /// The input ends with this chunk.
    pub last: bool,
}

/// The unique keys of a chunk's valid rows: rendered one after another into one string.
#[derive(Debug, Default)]
pub(super) struct Keys {
    text: String,
    ends: Vec<usize>,
    /// Hash of each key.
    pub hashes: Vec<u64>,
}

impl Keys {
    /// The key of valid row `i` (empty when the table has no unique key).
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn push(&mut self, table: &TableDef, row: &[Value<'_>], hasher: &RandomState) {
        let start = self.text.len();
        for &i in &table.positions().unique_key {
            render(&row[i], &mut self.text);
            self.text.push('\u{1f}');
        }
        self.hashes.push(hasher.hash_one(&self.text[start..]));
        self.ends.push(self.text.len());
    }
}

/// One decoded chunk.
#[derive(Debug)]
pub(super) struct DecodedChunk {
    /// Valid rows, in input order (duplicates within the batch not yet removed).
    pub batch: RecordBatch,
    /// The unique key of each valid row.
    pub keys: Keys,
    /// Rejected rows.
    pub rejects: Vec<Reject>,
    /// Records read (valid or not).
    pub seen: usize,
    /// First and last input line (0 when the chunk is empty).
    pub lines: (u64, u64),
    /// See [`RawChunk`].
    pub ends_batch: bool,
    /// See [`RawChunk`].
    pub position: u64,
    /// See [`RawChunk`].
    pub last: bool,
}

/// Decodes the records of `chunk`. `ids` carries derived call ids across the chunks of a batch
/// (it must be fresh at the start of each batch).
pub(super) fn decode_chunk(
    ctx: &RowContext,
    chunk: &RawChunk,
    ids: &mut CallIds,
) -> Result<DecodedChunk> {
    let records = &chunk.records[..chunk.len];
    let mut builder = BatchBuilder::with_capacity(ctx.table, records.len());
    let mut keys = Keys::default();
    let mut rejects = Vec::new();
    let mut row = Vec::with_capacity(ctx.table.columns.len());
    for record in records {
        row.clear();
        match decode_row(ctx, record, &mut row, ids) {
            Ok(()) => {
                keys.push(ctx.table, &row, &ctx.hasher);
                builder.push(&row);
            }
            Err(reason) => rejects.push(Reject {
                line: line_of(record),
                reason,
                raw: reencode(record),
                tenant: tenant_of(ctx, record),
            }),
        }
    }
    let lines = match (records.first(), records.last()) {
        (Some(first), Some(last)) => (line_of(first), line_of(last)),
        _ => (0, 0),
    };
    Ok(DecodedChunk {
        batch: builder.finish()?,
        keys,
        rejects,
        seen: records.len(),
        lines,
        ends_batch: chunk.ends_batch,
        position: chunk.position,
        last: chunk.last,
    })
}

/// 1-based line number where a record starts.
fn line_of(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// Decodes one record into `row` (one value per table column), or says why it cannot be.
fn decode_row<'r>(
    ctx: &'r RowContext,
    record: &'r csv::ByteRecord,
    row: &mut Vec<Value<'r>>,
    ids: &mut CallIds,
) -> std::result::Result<(), String> {
    let table = ctx.table;
    row.resize(table.columns.len(), Value::Null);
    if record.len() != ctx.header_len {
        return Err(format!(
            "expected {} fields, found {}",
            ctx.header_len,
            record.len()
        ));
    }
    for (i, (field, target)) in record.iter().zip(&ctx.plan.fields).enumerate() {
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
        let text = if values.is_empty() {
            text
        } else {
            values.get(text).map(String::as_str).unwrap_or(text)
        };
        row[*col] = value::parse(column, text)?;
    }
    for (i, column) in table.columns.iter().enumerate() {
        if row[i] == Value::Null
            && let Some(text) = &ctx.fill[i]
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
    if let (Some(recipe), Some(id_col)) = (&ctx.recipe, positions.call_id) {
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

fn render(value: &Value<'_>, out: &mut String) {
    use std::fmt::Write;
    let _ = match value {
        Value::Null => write!(out, "\u{0}"),
        Value::Text(s) => {
            out.push_str(s);
            Ok(())
        }
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
pub(super) struct CallIds {
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
fn tenant_of(ctx: &RowContext, record: &csv::ByteRecord) -> Option<String> {
    let i = ctx.table.positions().tenant?;
    let field = ctx
        .plan
        .fields
        .iter()
        .position(|f| f.as_ref().is_some_and(|(c, _)| *c == i));
    field
        .and_then(|f| record.get(f))
        .and_then(|raw| std::str::from_utf8(raw).ok())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| ctx.fill[i].clone())
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
