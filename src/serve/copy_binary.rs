//! `COPY … TO STDOUT (FORMAT binary)`: PostgreSQL's binary copy file, which ADBC, Polars and
//! DuckDB's PostgreSQL scanner read every result with. A signature and two zero words, then
//! per row its field count and each field as a length (-1 for NULL) and the value in the binary
//! result format, then -1. A row so laid out is a `DataRow` message's body, so the rows are
//! the ones binary query results send ([`super::text_rows::encode_binary`]): the same bytes
//! for the same values, `numeric` with its column's scale included. As PostgreSQL does, the
//! header travels with the first row, or with the trailer when there is none.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::logical_expr::LogicalPlan;
use pgwire::api::portal::Format;
use pgwire::api::results::FieldInfo;
use pgwire::error::PgWireResult;

use super::row_description;

/// The file's signature, flags (none) and header extension length (0).
pub fn header() -> Bytes {
    let mut header = BytesMut::with_capacity(19);
    header.put_slice(b"PGCOPY\n\xff\r\n\0");
    header.put_u32(0);
    header.put_u32(0);
    header.freeze()
}

/// The file's trailer: a field count of -1.
pub fn trailer() -> Bytes {
    Bytes::from_static(&[0xff, 0xff])
}

/// `data` with the header before it while the header is still unsent (taken from `header`),
/// in one buffer: one CopyData message.
pub fn after_header(header: &mut Option<Bytes>, data: Bytes) -> Bytes {
    let Some(first) = header.take() else {
        return data;
    };
    let mut both = BytesMut::with_capacity(first.len() + data.len());
    both.put_slice(&first);
    both.put_slice(&data);
    both.freeze()
}

/// The binary fields of a result of `schema`, planned as `plan`.
pub fn fields(schema: &Schema, plan: &LogicalPlan) -> PgWireResult<Arc<Vec<FieldInfo>>> {
    let fields =
        arrow_pg::datatypes::arrow_schema_to_pg_fields(schema, &Format::UnifiedBinary, None)?;
    Ok(row_description::of(&fields, plan))
}

/// The rows of `batch`, one buffer each, all slices of one allocation.
pub fn rows(batch: &RecordBatch, fields: &Arc<Vec<FieldInfo>>) -> PgWireResult<Vec<Bytes>> {
    let encoded = super::text_rows::encode_binary(batch, fields)
        .into_iter()
        .collect::<PgWireResult<Vec<_>>>()?;
    let size = encoded.iter().map(|row| 2 + row.data.len()).sum();
    let mut all = BytesMut::with_capacity(size);
    for row in &encoded {
        all.put_i16(row.field_count);
        all.put_slice(&row.data);
    }
    Ok(encoded
        .iter()
        .map(|row| all.split_to(2 + row.data.len()).freeze())
        .collect())
}
