//! `COPY (query) TO STDOUT` and `COPY table [(columns)] TO STDOUT`: the result streamed batch
//! by batch, one CopyData message per row, in PostgreSQL's CSV, text or binary layout
//! ([`super::copy_binary`]), so memory does not grow with the result. `COPY n` counts data
//! rows, not the header.

use std::fmt::Debug;

use bytes::Bytes;
use chrono_tz::Tz;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, Statement,
};
use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::results::{Response, Tag};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use tokio_util::sync::CancellationToken;

use super::cancel;
use super::sqlstate::{self, FEATURE_NOT_SUPPORTED, INVALID_PARAMETER};
use crate::export::{CopyFormat, CopyOptions, ForceQuote};

/// The query a `COPY … TO` reads, and its output options.
pub struct CopyOut {
    /// SQL of the rows to write.
    pub query: String,
    /// Layout and options of text and CSV.
    pub options: CopyOptions,
    /// Whether the layout is PostgreSQL's binary one instead.
    pub binary: bool,
}

impl CopyOut {
    /// Reads a `COPY … TO STDOUT` statement.
    pub fn from_statement(stmt: &Statement) -> PgWireResult<CopyOut> {
        let Statement::Copy {
            source,
            options,
            legacy_options,
            ..
        } = stmt
        else {
            return Err(sqlstate::error(INVALID_PARAMETER, "not a COPY statement"));
        };
        let query = match source {
            CopySource::Query(q) => q.to_string(),
            CopySource::Table {
                table_name,
                columns,
            } => {
                let columns = if columns.is_empty() {
                    "*".to_owned()
                } else {
                    columns
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("SELECT {columns} FROM {table_name}")
            }
        };
        let binary = is_binary(options, legacy_options);
        let options = if binary {
            CopyOptions::new(CopyFormat::Text)
        } else {
            copy_options(options, legacy_options)?
        };
        Ok(CopyOut {
            query,
            options,
            binary,
        })
    }
}

/// Whether a `COPY`'s options ask for the binary layout (`FORMAT binary`, legacy `BINARY`).
pub(super) fn is_binary(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> bool {
    options
        .iter()
        .any(|o| matches!(o, CopyOption::Format(name) if name.value.eq_ignore_ascii_case("binary")))
        || legacy.iter().any(|o| matches!(o, CopyLegacyOption::Binary))
}

/// The options of a `COPY`, in the modern (`WITH (FORMAT csv, HEADER)`) or legacy (`CSV
/// HEADER`, `DELIMITER AS ','`) spelling psql's `\copy` and older drivers send; a binary copy
/// ([`is_binary`]) has none.
pub fn copy_options(
    options: &[CopyOption],
    legacy: &[CopyLegacyOption],
) -> PgWireResult<CopyOptions> {
    let mut format = CopyFormat::Text;
    for o in options {
        if let CopyOption::Format(name) = o {
            format = match name.value.to_lowercase().as_str() {
                "csv" => CopyFormat::Csv,
                "text" => CopyFormat::Text,
                "binary" => {
                    return Err(sqlstate::error(
                        FEATURE_NOT_SUPPORTED,
                        "FORMAT binary has no text layout options (read by is_binary first)",
                    ));
                }
                other => {
                    return Err(sqlstate::error(
                        INVALID_PARAMETER,
                        format!("COPY format \"{other}\" not recognized"),
                    ));
                }
            };
        }
    }
    if legacy.iter().any(|o| matches!(o, CopyLegacyOption::Csv(_))) {
        format = CopyFormat::Csv;
    }
    if legacy.iter().any(|o| matches!(o, CopyLegacyOption::Binary)) {
        return Err(sqlstate::error(
            FEATURE_NOT_SUPPORTED,
            "BINARY has no text layout options (read by is_binary first)",
        ));
    }
    let mut opts = CopyOptions::new(format);
    let mut escape = None;
    for o in options {
        match o {
            CopyOption::Header(h) => opts.header = *h,
            CopyOption::Delimiter(c) => opts.delimiter = *c,
            CopyOption::Null(s) => opts.null = s.clone(),
            CopyOption::Quote(c) => opts.quote = *c,
            CopyOption::Escape(c) => escape = Some(*c),
            CopyOption::ForceQuote(cols) => opts.force_quote = force_quote(cols),
            CopyOption::Encoding(e) if !e.eq_ignore_ascii_case("utf8") => {
                return Err(sqlstate::error(
                    FEATURE_NOT_SUPPORTED,
                    format!("COPY encoding {e} is not supported; only UTF8"),
                ));
            }
            _ => {}
        }
    }
    for o in legacy {
        match o {
            CopyLegacyOption::Delimiter(c) => opts.delimiter = *c,
            CopyLegacyOption::Null(s) => opts.null = s.clone(),
            CopyLegacyOption::Header => opts.header = true,
            CopyLegacyOption::Csv(csv) => {
                for c in csv {
                    match c {
                        CopyLegacyCsvOption::Header => opts.header = true,
                        CopyLegacyCsvOption::Quote(q) => opts.quote = *q,
                        CopyLegacyCsvOption::Escape(e) => escape = Some(*e),
                        CopyLegacyCsvOption::ForceQuote(cols) => {
                            opts.force_quote = force_quote(cols)
                        }
                        CopyLegacyCsvOption::ForceNotNull(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
    opts.escape = escape.unwrap_or(opts.quote);
    Ok(opts)
}

fn force_quote(cols: &[datafusion::sql::sqlparser::ast::Ident]) -> ForceQuote {
    if cols.is_empty() || cols.iter().any(|c| c.value == "*") {
        ForceQuote::All
    } else {
        ForceQuote::Columns(cols.iter().map(|c| c.value.clone()).collect())
    }
}

/// Runs `copy` on `ctx` and streams it to `client`, stopping with 57014 when `token` is
/// cancelled or `timeout` passes.
pub async fn run<C>(
    client: &mut C,
    ctx: &SessionContext,
    copy: CopyOut,
    zone: Tz,
    token: CancellationToken,
    timeout: Option<std::time::Duration>,
) -> PgWireResult<Response>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let api = |e: datafusion::error::DataFusionError| PgWireError::ApiError(Box::new(e));
    let mut stop = cancel::stopped(token, timeout);
    let df = tokio::select! {
        df = ctx.sql(&copy.query) => df.map_err(api)?,
        timed_out = &mut stop => return Err(cancel::canceled(timed_out)),
    };
    // The header names the columns as PostgreSQL does (`count`, not `count(*)`).
    let names = crate::query::column_names::output_names(df.logical_plan());
    let fields = df.schema().as_arrow().fields().iter().zip(names);
    let schema = datafusion::arrow::datatypes::Schema::new(
        fields
            .map(|(f, name)| f.as_ref().clone().with_name(name))
            .collect::<Vec<_>>(),
    );
    let binary = copy
        .binary
        .then(|| super::copy_binary::fields(&schema, df.logical_plan()))
        .transpose()?;
    let mut batches = df.execute_stream().await.map_err(api)?;
    let columns = schema.fields().len();
    let format = i8::from(binary.is_some());
    client
        .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            format,
            columns as i16,
            vec![i16::from(format); columns],
        )))
        .await?;
    // PostgreSQL sends the binary header with the first row (or with the trailer), and
    // psycopg reads it so.
    let mut binary_header = binary.as_ref().map(|_| super::copy_binary::header());
    if let Some(header) = copy
        .options
        .header_line(&schema)
        .filter(|_| binary.is_none())
    {
        let header = Bytes::from(header);
        client
            .feed(PgWireBackendMessage::CopyData(CopyData::new(header)))
            .await?;
    }
    let mut rows = 0usize;
    let mut size_hint = 0;
    loop {
        let batch = tokio::select! {
            b = batches.next() => b,
            timed_out = &mut stop => return Err(cancel::canceled(timed_out)),
        };
        let Some(batch) = batch else { break };
        let batch = batch.map_err(api)?;
        if let Some(fields) = &binary {
            let tuples = super::copy_binary::rows(&batch, fields)?;
            rows += tuples.len();
            for tuple in tuples {
                let tuple = super::copy_binary::after_header(&mut binary_header, tuple);
                client
                    .feed(PgWireBackendMessage::CopyData(CopyData::new(tuple)))
                    .await?;
            }
            continue;
        }
        // The batch's lines in one buffer, sent as slices of it (one allocation a batch,
        // sized by the previous batch).
        let mut text = String::with_capacity(size_hint);
        let mut ends = Vec::new();
        copy.options
            .encode_rows(&batch, zone, &mut text, &mut ends)
            .map_err(|e| api(e.into()))?;
        rows += ends.len();
        size_hint = text.len();
        let text = Bytes::from(text.into_bytes());
        let mut start = 0;
        for end in ends {
            client
                .feed(PgWireBackendMessage::CopyData(CopyData::new(
                    text.slice(start..end),
                )))
                .await?;
            start = end;
        }
    }
    if binary.is_some() {
        let trailer = super::copy_binary::trailer();
        let last = super::copy_binary::after_header(&mut binary_header, trailer);
        client
            .feed(PgWireBackendMessage::CopyData(CopyData::new(last)))
            .await?;
    }
    client
        .feed(PgWireBackendMessage::CopyDone(CopyDone::new()))
        .await?;
    Ok(Response::Execution(Tag::new("COPY").with_rows(rows)))
}
