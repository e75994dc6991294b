//! Query results in the text format of the simple protocol, rendered by the same
//! PostgreSQL text output as COPY (timestamps without trailing zeros, `timestamptz` in the
//! session's `TimeZone`, PostgreSQL float spelling), and result columns named as PostgreSQL
//! names them (`count`, not `count(*)`).

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::Array;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::{StreamExt, stream};
use pgwire::api::portal::Format;
use pgwire::api::results::{DataRowEncoder, FieldInfo, QueryResponse};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;

use crate::export::pg_text::cell_writers;

/// Runs `sql` and streams its rows as text.
pub async fn query(ctx: &SessionContext, sql: &str, zone: Tz) -> PgWireResult<QueryResponse> {
    let df = ctx.sql(sql).await.map_err(api)?;
    respond(df, &Format::UnifiedText, zone).await
}

fn api(e: datafusion::error::DataFusionError) -> PgWireError {
    PgWireError::ApiError(Box::new(e))
}

/// Streams the rows of `df` in the client's result `format`: text columns in PostgreSQL's
/// spelling (as COPY writes them); a result with binary columns is encoded by arrow-pg
/// (binary values carry no spelling).
pub async fn respond(df: DataFrame, format: &Format, zone: Tz) -> PgWireResult<QueryResponse> {
    let binary = match format {
        Format::UnifiedText => false,
        Format::UnifiedBinary => true,
        Format::Individual(codes) => codes.iter().any(|c| *c != 0),
    };
    if binary {
        let mut response = arrow_pg::datatypes::df::encode_dataframe(df, format, None).await?;
        response.row_schema = rename(&response.row_schema);
        return Ok(response);
    }
    let schema = df.schema().as_arrow().clone();
    let fields =
        arrow_pg::datatypes::arrow_schema_to_pg_fields(&schema, &Format::UnifiedText, None)?;
    let fields = rename(&fields);
    let batches = df.execute_stream().await.map_err(api)?;
    let row_fields = fields.clone();
    let rows = batches.flat_map(move |batch| {
        let rows = match batch {
            Ok(b) => encode(&b, &row_fields, zone),
            Err(e) => vec![Err(api(e))],
        };
        stream::iter(rows)
    });
    Ok(QueryResponse::new(fields, rows))
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
                    encoder.encode_field(&Some(cell.as_str()))?;
                }
            }
            Ok(encoder.take_row())
        })
        .collect()
}

/// The fields with PostgreSQL's names for unaliased expressions.
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
