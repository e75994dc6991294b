//! Issuing refunds with SQL: `INSERT INTO refunds (call_id, amount, reason) VALUES (…)` or
//! `INSERT INTO refunds (cabin, amount, reason) VALUES (…)` (SPEC 2.2). Fed by DataFusion's
//! INSERT planning (through [`super::LatestTable`]); feeds storage.
//!
//! A refund of a call refunds the call's remaining charge unless `amount` is given; the total
//! refunded for a call never exceeds its charge, as `call_reports` computes it (stored or
//! rated). A refund of an unknown call, of a call with nothing charged, or beyond what is left
//! to refund is rejected with a [`RefundError`] and the statement writes nothing: all rows of
//! one statement are checked first and committed as one Delta commit.
//!
//! Concurrent refunds are serialised: one statement at a time per process, and the store's
//! writer lock against other processes (an ingest holding it makes the INSERT fail at once,
//! writing nothing). The checks read the refunds already stored after taking the lock.
//!
//! The statement may leave out every column but `amount` (or `call_id`); the rest is filled:
//! `tenant` from the call (or `default` for a custom refund), `cabin` from the call,
//! `destination` from the tenant's `refund_destination`, `refund_id` generated, `created_at`
//! from the clock. `created_by` is the session's user when the server runs the statement
//! (whatever the statement says: nobody issues refunds in another's name), else the value
//! given or [`DEFAULT_USER`].

mod batch;
mod rules;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type};
use async_trait::async_trait;
use datafusion::datasource::sink::DataSink;
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use futures::TryStreamExt;

use rules::{Asked, Call, settle};
pub use rules::{Money, RefundError};

use super::writes::{Target, exclusive, external};
use crate::schema::{self, DECIMAL_PRECISION, DECIMAL_SCALE};

/// `created_by` of refunds issued without a user (outside the server).
pub const DEFAULT_USER: &str = "cdrlake";

/// The sink of `INSERT INTO refunds`: checks against the session's `call_reports`.
#[derive(Debug)]
pub struct RefundSink {
    target: Target,
}

impl RefundSink {
    /// A sink writing refunds to `target`.
    pub fn new(target: Target) -> Self {
        RefundSink { target }
    }
}

impl DisplayAs for RefundSink {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RefundSink")
    }
}

#[async_trait]
impl DataSink for RefundSink {
    fn schema(&self) -> &arrow::datatypes::SchemaRef {
        &self.target.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let batches: Vec<RecordBatch> = data.try_collect().await?;
        let asked = batches
            .iter()
            .map(batch::read)
            .collect::<DfResult<Vec<_>>>()?;
        let asked: Vec<Asked> = asked.into_iter().flatten().collect();
        if asked.is_empty() {
            return Ok(0);
        }
        let _exclusive = exclusive(&self.target.store).await?;
        let ids: Vec<&str> = asked.iter().filter_map(|a| a.call_id.as_deref()).collect();
        let calls = self.calls(&ids).await?;
        let now = (self.target.clock)();
        let mut refunds = Vec::with_capacity(asked.len());
        let mut taken: HashMap<(String, String), i128> = HashMap::new();
        for (i, a) in asked.into_iter().enumerate() {
            let mut refund = settle(a, &calls, &mut taken, now, i).map_err(external)?;
            if let Some(user) = &self.target.user {
                refund.created_by = Some(user.clone());
            }
            refunds.push(refund);
        }
        let destinations = self.destinations(&refunds).await?;
        for r in &mut refunds {
            if r.destination.is_none() {
                r.destination = r.tenant.as_ref().and_then(|t| destinations.get(t)).cloned();
            }
        }
        let def = schema::table("refunds").map_err(external)?;
        let batch = batch::build(def, &refunds)?;
        let outcome = self
            .target
            .store
            .append(def, batch)
            .await
            .map_err(external)?;
        Ok(outcome.stored)
    }
}

impl RefundSink {
    /// The calls among `ids`, per (tenant, call_id).
    async fn calls(&self, ids: &[&str]) -> DfResult<HashMap<String, Vec<(String, Call)>>> {
        let mut calls: HashMap<String, Vec<(String, Call)>> = HashMap::new();
        if ids.is_empty() {
            return Ok(calls);
        }
        let list: Vec<String> = ids
            .iter()
            .map(|id| format!("'{}'", id.replace('\'', "''")))
            .collect();
        let sql = format!(
            "SELECT tenant, call_id, cabin, charge, refunded_amount FROM call_reports \
             WHERE record_type = 'charge' AND call_id IN ({})",
            list.join(", ")
        );
        for batch in self.target.ctx.sql(&sql).await?.collect().await? {
            let text = |i: usize| cast(batch.column(i), &DataType::Utf8);
            let money = |i: usize| {
                cast(
                    batch.column(i),
                    &DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
                )
            };
            let (tenant, call_id, cabin) = (text(0)?, text(1)?, text(2)?);
            let (charge, refunded) = (money(3)?, money(4)?);
            let (tenant, call_id, cabin) = (
                tenant.as_string::<i32>(),
                call_id.as_string::<i32>(),
                cabin.as_string::<i32>(),
            );
            let charge = charge.as_primitive::<Decimal128Type>();
            let refunded = refunded.as_primitive::<Decimal128Type>();
            for r in 0..batch.num_rows() {
                let call = Call {
                    tenant: tenant.value(r).to_string(),
                    cabin: cabin.is_valid(r).then(|| cabin.value(r).to_string()),
                    charge: charge.value(r),
                    refunded: refunded.value(r),
                };
                calls
                    .entry(call_id.value(r).to_string())
                    .or_default()
                    .push((call.tenant.clone(), call));
            }
        }
        Ok(calls)
    }

    /// `refund_destination(tenant)` of every tenant among `refunds`.
    async fn destinations(&self, refunds: &[Asked]) -> DfResult<HashMap<String, String>> {
        let mut out = HashMap::new();
        for tenant in refunds.iter().filter_map(|r| r.tenant.as_deref()) {
            if out.contains_key(tenant) {
                continue;
            }
            let sql = format!(
                "SELECT refund_destination('{}')",
                tenant.replace('\'', "''")
            );
            let batches = self.target.ctx.sql(&sql).await?.collect().await?;
            if let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) {
                let value = cast(batch.column(0), &DataType::Utf8)?;
                out.insert(
                    tenant.to_string(),
                    value.as_string::<i32>().value(0).to_string(),
                );
            }
        }
        Ok(out)
    }
}
