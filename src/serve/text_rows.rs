//! Query results in the text format of the simple protocol, rendered by the same
//! PostgreSQL text output as COPY (timestamps without trailing zeros, `timestamptz` in the
//! session's `TimeZone`, PostgreSQL float spelling), and result columns named as PostgreSQL
//! names them (`count`, not `count(*)`).

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, UInt64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::{StreamExt, stream};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;

use super::numeric_wire::PgNumeric;
use super::row_description;
use crate::export::pg_text::cell_writers;

/// Runs `sql` and streams its rows as text.
pub async fn query(ctx: &SessionContext, sql: &str, zone: Tz) -> PgWireResult<QueryResponse> {
    let df = ctx.sql(sql).await.map_err(api)?;
    respond(df, &Format::UnifiedText, zone).await
}

fn api(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

/// Streams the rows of `df` in the client's result `format`, its columns named as
/// PostgreSQL names them ([`crate::query::column_names`]): text columns in PostgreSQL's spelling (as COPY
/// writes them); binary columns as arrow-pg encodes them, except `numeric`, which carries
/// its column's scale ([`PgNumeric`]).
pub async fn respond(df: DataFrame, format: &Format, zone: Tz) -> PgWireResult<QueryResponse> {
    let binary = match format {
        Format::UnifiedText => false,
        Format::UnifiedBinary => true,
        Format::Individual(codes) => codes.iter().any(|c| *c != 0),
    };
    let format = if binary { format } else { &Format::UnifiedText };
    let plan = df.logical_plan().clone();
    let batches = df.execute_stream().await.map_err(api)?;
    // The types of the rows: the DataFrame's schema is its plan's before types are coerced
    // (`SELECT 1 UNION SELECT 2.5` is a `bigint` there, decimals in the rows).
    let schema = batches.schema();
    let fields = arrow_pg::datatypes::arrow_schema_to_pg_fields(&schema, format, None)?;
    let fields = row_description::of(&fields, &plan);
    let row_fields = fields.clone();
    let rows = batches.flat_map(move |batch| {
        let rows = match batch {
            Ok(b) if binary => encode_binary(&b, &row_fields),
            Ok(b) => encode(&b, &row_fields, zone),
            Err(e) => vec![Err(api(e))],
        };
        stream::iter(rows)
    });
    Ok(QueryResponse::new(fields, rows))
}

/// The rows of `batch` with some columns in binary: `numeric` by [`PgNumeric`], NULL
/// intervals as NULL, the rest by arrow-pg.
pub(super) fn encode_binary(
    batch: &RecordBatch,
    fields: &Arc<Vec<FieldInfo>>,
) -> Vec<PgWireResult<DataRow>> {
    let schema = batch.schema();
    let mut encoder = DataRowEncoder::new(fields.clone());
    (0..batch.num_rows())
        .map(|row| {
            for (col, (array, field)) in batch.columns().iter().zip(fields.iter()).enumerate() {
                match array.data_type() {
                    DataType::UInt64 if field.datatype() == &Type::INT8 => {
                        let values = array.as_primitive::<UInt64Type>();
                        let value = match values.is_valid(row).then(|| values.value(row)) {
                            Some(v) => Some(i64::try_from(v).map_err(|_| out_of_range(v))?),
                            None => None,
                        };
                        encoder.encode_field(&value)?;
                    }
                    DataType::Decimal128(_, scale) if field.format() == FieldFormat::Binary => {
                        let value = (!array.is_null(row)).then(|| PgNumeric {
                            value: array.as_primitive::<Decimal128Type>().value(row),
                            scale: *scale,
                        });
                        encoder.encode_field(&value)?;
                    }
                    // arrow-pg writes a NULL interval as a zero one.
                    DataType::Interval(_) if array.is_null(row) => {
                        encoder.encode_field(&None::<i64>)?;
                    }
                    _ => arrow_pg::encoder::encode_value(
                        &mut encoder,
                        array,
                        row,
                        schema.field(col),
                        field,
                    )?,
                }
            }
            Ok(encoder.take_row())
        })
        .collect()
}

/// PostgreSQL's error for an unsigned value beyond `bigint` (22003).
fn out_of_range(value: u64) -> PgWireError {
    PgWireError::UserError(Box::new(pgwire::error::ErrorInfo::new(
        "ERROR".to_owned(),
        "22003".to_owned(),
        format!("bigint out of range: {value}"),
    )))
}

fn encode(
    batch: &RecordBatch,
    fields: &Arc<Vec<FieldInfo>>,
    zone: Tz,
) -> Vec<PgWireResult<DataRow>> {
    let writers = match cell_writers(batch.columns(), zone) {
        Ok(w) => w,
        Err(e) => return vec![Err(PgWireError::ApiError(Box::new(e)))],
    };
    let nulls: Vec<_> = batch.columns().iter().map(|c| c.logical_nulls()).collect();
    let mut encoder = DataRowEncoder::new(fields.clone());
    let mut cell = String::new();
    (0..batch.num_rows())
        .map(|row| {
            for (col, writer) in writers.iter().enumerate() {
                if nulls[col].as_ref().is_some_and(|n| n.is_null(row)) {
                    encoder.encode_field(&None::<&str>)?;
                } else {
                    cell.clear();
                    writer(row, &mut cell);
                    // The text as written, whatever the column's type (pgwire would quote
                    // an array's text as one element).
                    encoder.encode_field_with_type_and_format(
                        &Some(cell.as_str()),
                        &Type::TEXT,
                        FieldFormat::Text,
                        &FormatOptions::default(),
                    )?;
                }
            }
            Ok(encoder.take_row())
        })
        .collect()
}

/// The fields with PostgreSQL's names for unaliased expressions, guessed from DataFusion's
/// names, for results whose plan the server does not see (cursors, `SHOW`); results of
/// queries are named from their plans ([`crate::query::column_names`]).
pub fn rename(fields: &[FieldInfo]) -> Arc<Vec<FieldInfo>> {
    Arc::new(
        fields
            .iter()
            .map(|f| {
                FieldInfo::new(
                    pg_column_name(f.name()),
                    f.table_id(),
                    f.column_id(),
                    f.datatype().clone(),
                    f.format(),
                )
            })
            .collect(),
    )
}

/// What PostgreSQL calls a result column DataFusion named after its expression: a function
/// call is named after the function (`count(*)` → `count`), a bare literal `?column?`;
/// aliases and column names are kept.
pub fn pg_column_name(name: &str) -> String {
    const LITERAL_TYPES: [&str; 8] = [
        "Int64",
        "Int32",
        "Float64",
        "Utf8",
        "Boolean",
        "Decimal128",
        "Utf8View",
        "NULL",
    ];
    let Some((head, _)) = name.split_once('(') else {
        return name.to_owned();
    };
    let is_ident = !head.is_empty()
        && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.ends_with(')');
    if !is_ident {
        return name.to_owned();
    }
    if LITERAL_TYPES.contains(&head) {
        "?column?".to_owned()
    } else {
        head.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::pg_column_name;

    #[test]
    fn names_like_postgres() {
        assert_eq!(pg_column_name("count(*)"), "count");
        assert_eq!(pg_column_name("sum(cdrs.duration_s)"), "sum");
        assert_eq!(pg_column_name("Int64(1)"), "?column?");
        assert_eq!(pg_column_name("call_id"), "call_id");
        assert_eq!(
            pg_column_name("Date/Time Start (UTC)"),
            "Date/Time Start (UTC)"
        );
    }
}
