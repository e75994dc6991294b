//! Recording billing-system responses with SQL: `INSERT INTO billing_events (call_id, result,
//! detail) VALUES (…)` (SPEC 2.3). Fed by DataFusion's INSERT planning (through
//! [`super::writes`]); feeds storage, which numbers the events in `stored_seq`.
//!
//! Every event must name a stored call and one of the results `sent`, `ok`, `failure`,
//! `retry_sent`; `tenant` is the call's when left out (an error when the call id exists in
//! several tenants), `at` the clock's. A statement with one bad row writes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, Int64Array, RecordBatch, StringBuilder, TimestampMicrosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::TryStreamExt;

use super::writes::{CallError, Input, Target, call_tenant, exclusive, external};
use crate::schema::{self, UTC};

/// Why an `INSERT INTO billing_events` was rejected; nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// A row without call id or result.
    #[error("a billing event needs a call_id and a result")]
    Incomplete,
    /// A result outside the table's values.
    #[error("billing event of call {call_id}: result '{result}' is not one of {allowed}")]
    UnknownResult {
        /// The call.
        call_id: String,
        /// The result given.
        result: String,
        /// The results allowed.
        allowed: String,
    },
    /// The call is not one stored call.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// One event, as stored.
struct Event {
    tenant: String,
    call_id: String,
    at: i64,
    result: String,
    detail: Option<String>,
}

/// What an INSERT gives for one event (`None` where left out).
struct Given {
    tenant: Option<String>,
    call_id: Option<String>,
    at: Option<i64>,
    result: Option<String>,
    detail: Option<String>,
}

/// The sink of `INSERT INTO billing_events`: finds the calls in the session's `cdrs`.
#[derive(Debug)]
pub struct EventSink {
    target: Target,
}

impl EventSink {
    /// A sink writing billing events to `target`.
    pub fn new(target: Target) -> Self {
        EventSink { target }
    }

    /// The tenants of each call id among `ids`.
    async fn tenants(&self, ids: &[&str]) -> DfResult<HashMap<String, Vec<String>>> {
        let mut tenants: HashMap<String, Vec<String>> = HashMap::new();
        if ids.is_empty() {
            return Ok(tenants);
        }
        let list: Vec<String> = ids
            .iter()
            .map(|id| format!("'{}'", id.replace('\'', "''")))
            .collect();
        let sql = format!(
            "SELECT DISTINCT call_id, tenant FROM cdrs WHERE call_id IN ({})",
            list.join(", ")
        );
        for batch in self.target.ctx.sql(&sql).await?.collect().await? {
            let (ids, names) = (
                cast(batch.column(0), &DataType::Utf8)?,
                cast(batch.column(1), &DataType::Utf8)?,
            );
            let (ids, names) = (ids.as_string::<i32>(), names.as_string::<i32>());
            for r in 0..batch.num_rows() {
                let entry = tenants.entry(ids.value(r).to_string()).or_default();
                entry.push(names.value(r).to_string());
            }
        }
        Ok(tenants)
    }
}

impl DisplayAs for EventSink {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EventSink")
    }
}

/// Checks one event and fills its tenant and instant.
fn settle(
    given: Given,
    tenants: &HashMap<String, Vec<String>>,
    allowed: &[String],
    now: i64,
) -> Result<Event, EventError> {
    let (Some(call_id), Some(result)) = (given.call_id, given.result) else {
        return Err(EventError::Incomplete);
    };
    if !allowed.contains(&result) {
        return Err(EventError::UnknownResult {
            call_id,
            result,
            allowed: allowed.join(", "),
        });
    }
    let known = tenants.get(&call_id).map(Vec::as_slice).unwrap_or_default();
    let tenant = call_tenant("billing event", &call_id, given.tenant.as_deref(), known)?;
    Ok(Event {
        tenant,
        call_id,
        at: given.at.unwrap_or(now),
        result,
        detail: given.detail,
    })
}

#[async_trait]
impl DataSink for EventSink {
    fn schema(&self) -> &arrow::datatypes::SchemaRef {
        &self.target.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let batches: Vec<RecordBatch> = data.try_collect().await?;
        let mut rows = Vec::new();
        for batch in &batches {
            let input = Input::new(batch);
            let (tenants, calls, at) = (
                input.texts("tenant")?,
                input.texts("call_id")?,
                input.instants("at")?,
            );
            let (results, details) = (input.texts("result")?, input.texts("detail")?);
            for r in 0..input.len() {
                rows.push(Given {
                    tenant: tenants[r].clone(),
                    call_id: calls[r].clone(),
                    at: at[r],
                    result: results[r].clone(),
                    detail: details[r].clone(),
                });
            }
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let def = schema::table("billing_events").map_err(external)?;
        let allowed = def
            .column("result")
            .map(|c| c.values.clone())
            .unwrap_or_default();
        let _exclusive = exclusive(&self.target.store).await?;
        let ids: Vec<&str> = rows.iter().filter_map(|r| r.call_id.as_deref()).collect();
        let tenants = self.tenants(&ids).await?;
        let now = (self.target.clock)();
        let events = rows
            .into_iter()
            .map(|row| settle(row, &tenants, &allowed, now).map_err(external))
            .collect::<DfResult<Vec<_>>>()?;
        let batch = build(def, &events)?;
        let outcome = self
            .target
            .store
            .append(def, batch)
            .await
            .map_err(external)?;
        Ok(outcome.stored)
    }
}

/// The events as a batch of `billing_events` (`stored_seq` left to the store).
fn build(def: &schema::TableDef, events: &[Event]) -> DfResult<RecordBatch> {
    let text = |f: fn(&Event) -> Option<&str>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for e in events {
            b.append_option(f(e));
        }
        Arc::new(b.finish())
    };
    let at: ArrayRef = Arc::new(
        events
            .iter()
            .map(|e| Some(e.at))
            .collect::<TimestampMicrosecondArray>()
            .with_timezone(UTC),
    );
    let seq: ArrayRef = Arc::new(Int64Array::new_null(events.len()));
    let columns = def
        .columns
        .iter()
        .map(|c| match c.name.as_str() {
            "tenant" => Ok(text(|e| Some(&e.tenant))),
            "call_id" => Ok(text(|e| Some(&e.call_id))),
            "result" => Ok(text(|e| Some(&e.result))),
            "detail" => Ok(text(|e| e.detail.as_deref())),
            "at" => Ok(Arc::clone(&at)),
            "stored_seq" => Ok(Arc::clone(&seq)),
            other => Err(DataFusionError::Internal(format!(
                "billing_events: column {other} has no value"
            ))),
        })
        .collect::<DfResult<Vec<_>>>()?;
    RecordBatch::try_new(def.arrow_schema(), columns).map_err(DataFusionError::from)
}
