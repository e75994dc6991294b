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
//! from the clock, `created_by` from [`DEFAULT_USER`] until the server passes its user.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, TimeUnit, TimestampMicrosecondType};
use async_trait::async_trait;
use datafusion::common::ScalarValue;
use datafusion::datasource::sink::DataSink;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::schema::{self, DECIMAL_PRECISION, DECIMAL_SCALE, TableDef, UTC};
use crate::storage::{Store, WriterLock};

/// `created_by` of refunds issued without a user (outside the server).
pub const DEFAULT_USER: &str = "cdrlake";

/// Tenant of a custom refund that names none.
const DEFAULT_TENANT: &str = "default";

/// Stand-in for an `amount` the statement left out (the smallest `DECIMAL(18,6)`): the
/// planner needs a non-NULL value for a non-nullable column, and a real amount is positive.
const AMOUNT_NOT_GIVEN: i128 = -999_999_999_999_999_999;

/// Stand-in for a `created_at` the statement left out.
const INSTANT_NOT_GIVEN: i64 = i64::MIN;

/// Values the planner puts in the non-nullable columns an `INSERT INTO refunds` leaves out;
/// [`RefundSink`] reads them as "not given" and fills the column (an empty text is "not given"
/// too).
pub fn column_defaults() -> HashMap<String, Expr> {
    let text = || Expr::Literal(ScalarValue::Utf8(Some(String::new())), None);
    let mut defaults: HashMap<String, Expr> = ["refund_id", "tenant", "destination", "created_by"]
        .into_iter()
        .map(|c| (c.to_string(), text()))
        .collect();
    let amount = ScalarValue::Decimal128(Some(AMOUNT_NOT_GIVEN), DECIMAL_PRECISION, DECIMAL_SCALE);
    defaults.insert("amount".into(), Expr::Literal(amount, None));
    let at = ScalarValue::TimestampMicrosecond(Some(INSTANT_NOT_GIVEN), Some(Arc::from(UTC)));
    defaults.insert("created_at".into(), Expr::Literal(at, None));
    defaults
}

/// One write statement at a time in this process; the writer lock covers other processes.
static WRITES: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(Default::default);

/// Why a refund statement was rejected; nothing of the statement was written.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// The call does not exist (in the tenant given, or in any tenant).
    #[error("refund of unknown call {call_id}")]
    UnknownCall {
        /// The call id given.
        call_id: String,
    },
    /// The call id exists in several tenants and the statement named none.
    #[error("call {call_id} exists in several tenants ({tenants}); give the tenant")]
    AmbiguousCall {
        /// The call id given.
        call_id: String,
        /// The tenants holding it.
        tenants: String,
    },
    /// The call has no charge to refund.
    #[error("call {call_id} has nothing charged, so nothing to refund")]
    NothingCharged {
        /// The call.
        call_id: String,
    },
    /// The refund would take the total refunded beyond the charge.
    #[error(
        "over-refund of call {call_id}: {amount} asked, {remaining} of its charge {charge} left to refund"
    )]
    OverRefund {
        /// The call.
        call_id: String,
        /// The amount asked (the remaining charge when none was given).
        amount: Money,
        /// What is left to refund before this refund.
        remaining: Money,
        /// The call's charge.
        charge: Money,
    },
    /// A refund without a call must name a cabin and an amount.
    #[error("a custom refund (no call_id) needs a cabin and an amount")]
    CustomWithoutCabinOrAmount,
    /// Amounts are positive.
    #[error("refund amount must be positive, got {amount}")]
    NotPositive {
        /// The amount given.
        amount: Money,
    },
}

/// An exact `DECIMAL(18,6)` amount, displayed with six decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(pub i128);

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
    }
}

/// The refundable state of one call, from `call_reports`.
#[derive(Debug, Clone)]
struct Call {
    tenant: String,
    cabin: Option<String>,
    charge: i128,
    refunded: i128,
}

/// One refund as the statement gives it (NULL where left out).
#[derive(Debug, Default)]
struct Asked {
    refund_id: Option<String>,
    tenant: Option<String>,
    call_id: Option<String>,
    cabin: Option<String>,
    amount: Option<i128>,
    destination: Option<String>,
    reason: Option<String>,
    created_at: Option<i64>,
    created_by: Option<String>,
}

/// The sink of `INSERT INTO refunds`.
pub struct RefundSink {
    store: Store,
    /// The session the statement runs in: its `call_reports` and settings functions.
    ctx: SessionContext,
    schema: arrow::datatypes::SchemaRef,
    /// The clock of `created_at` (microseconds since the Unix epoch).
    clock: fn() -> i64,
}

impl RefundSink {
    /// A sink writing refunds to `store`, checking them against `ctx`'s `call_reports`;
    /// `schema` is the table schema the INSERT was planned against.
    pub fn new(store: Store, ctx: SessionContext, schema: arrow::datatypes::SchemaRef) -> Self {
        RefundSink {
            store,
            ctx,
            schema,
            clock: || chrono::Utc::now().timestamp_micros(),
        }
    }
}

impl std::fmt::Debug for RefundSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefundSink")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl DisplayAs for RefundSink {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RefundSink")
    }
}

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

#[async_trait]
impl DataSink for RefundSink {
    fn schema(&self) -> &arrow::datatypes::SchemaRef {
        &self.schema
    }

    async fn write_all(
        &self,
        data: SendableRecordBatchStream,
        _context: &Arc<TaskContext>,
    ) -> DfResult<u64> {
        let batches: Vec<RecordBatch> = data.try_collect().await?;
        let asked = batches.iter().map(read).collect::<DfResult<Vec<_>>>()?;
        let asked: Vec<Asked> = asked.into_iter().flatten().collect();
        if asked.is_empty() {
            return Ok(0);
        }
        let _serial = WRITES.lock().await;
        let _lock = WriterLock::acquire(self.store.location()).map_err(external)?;
        let ids: Vec<&str> = asked.iter().filter_map(|a| a.call_id.as_deref()).collect();
        let calls = self.calls(&ids).await?;
        let now = (self.clock)();
        let mut refunds = Vec::with_capacity(asked.len());
        let mut taken: HashMap<(String, String), i128> = HashMap::new();
        for (i, a) in asked.into_iter().enumerate() {
            refunds.push(settle(a, &calls, &mut taken, now, i).map_err(external)?);
        }
        let destinations = self.destinations(&refunds).await?;
        for r in &mut refunds {
            if r.destination.is_none() {
                r.destination = r.tenant.as_ref().and_then(|t| destinations.get(t)).cloned();
            }
        }
        let def = schema::table("refunds").map_err(external)?;
        let batch = build(def, &refunds)?;
        let outcome = self.store.append(def, batch).await.map_err(external)?;
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
        for batch in self.ctx.sql(&sql).await?.collect().await? {
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
            let batches = self.ctx.sql(&sql).await?.collect().await?;
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

/// Checks one asked refund against the calls and what this statement already refunded
/// (`taken`), and fills what it left out.
fn settle(
    mut a: Asked,
    calls: &HashMap<String, Vec<(String, Call)>>,
    taken: &mut HashMap<(String, String), i128>,
    now: i64,
    index: usize,
) -> Result<Asked, RefundError> {
    if let Some(amount) = a.amount
        && amount <= 0
    {
        return Err(RefundError::NotPositive {
            amount: Money(amount),
        });
    }
    match a.call_id.clone() {
        None => {
            if a.cabin.is_none() || a.amount.is_none() {
                return Err(RefundError::CustomWithoutCabinOrAmount);
            }
            a.tenant.get_or_insert_with(|| DEFAULT_TENANT.to_string());
        }
        Some(call_id) => {
            let found: Vec<&(String, Call)> = calls
                .get(&call_id)
                .map(|v| {
                    v.iter()
                        .filter(|(t, _)| a.tenant.as_ref().is_none_or(|want| want == t))
                        .collect()
                })
                .unwrap_or_default();
            let call = match found.as_slice() {
                [] => return Err(RefundError::UnknownCall { call_id }),
                [(_, call)] => call,
                many => {
                    let tenants: Vec<&str> = many.iter().map(|(t, _)| t.as_str()).collect();
                    return Err(RefundError::AmbiguousCall {
                        call_id,
                        tenants: tenants.join(", "),
                    });
                }
            };
            if call.charge <= 0 {
                return Err(RefundError::NothingCharged { call_id });
            }
            let already = taken
                .entry((call.tenant.clone(), call_id.clone()))
                .or_insert(call.refunded);
            let remaining = call.charge - *already;
            let amount = a.amount.unwrap_or(remaining);
            if remaining <= 0 || amount > remaining {
                return Err(RefundError::OverRefund {
                    call_id,
                    amount: Money(amount),
                    remaining: Money(remaining.max(0)),
                    charge: Money(call.charge),
                });
            }
            *already += amount;
            a.amount = Some(amount);
            a.tenant = Some(call.tenant.clone());
            if a.cabin.is_none() {
                a.cabin = call.cabin.clone();
            }
        }
    }
    a.created_at.get_or_insert(now);
    a.created_by.get_or_insert_with(|| DEFAULT_USER.to_string());
    if a.refund_id.is_none() {
        a.refund_id = Some(refund_id(&a, index));
    }
    Ok(a)
}

/// A refund id derived from the refund and its position in the statement: `rf-` and 16 hex
/// digits.
fn refund_id(a: &Asked, index: usize) -> String {
    let mut hash = Sha256::new();
    for part in [&a.tenant, &a.call_id, &a.cabin] {
        hash.update(part.as_deref().unwrap_or("").as_bytes());
        hash.update([0x1f]);
    }
    hash.update(a.amount.unwrap_or_default().to_le_bytes());
    hash.update(a.created_at.unwrap_or_default().to_le_bytes());
    hash.update(index.to_le_bytes());
    let digest = hash.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("rf-{hex}")
}

/// The refunds a batch of the INSERT's input asks for.
fn read(batch: &RecordBatch) -> DfResult<Vec<Asked>> {
    let column = |name: &str, ty: &DataType| -> DfResult<Option<ArrayRef>> {
        batch
            .column_by_name(name)
            .map(|c| cast(c, ty).map_err(DataFusionError::from))
            .transpose()
    };
    let texts = |name: &str| -> DfResult<Vec<Option<String>>> {
        Ok(match column(name, &DataType::Utf8)? {
            Some(a) => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.filter(|v| !v.is_empty()).map(str::to_string))
                .collect(),
            None => vec![None; batch.num_rows()],
        })
    };
    let money = DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE);
    let amounts: Vec<Option<i128>> = match column("amount", &money)? {
        Some(a) => a
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|v| v.filter(|&v| v != AMOUNT_NOT_GIVEN))
            .collect(),
        None => vec![None; batch.num_rows()],
    };
    let instant = DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(UTC)));
    let created: Vec<Option<i64>> = match column("created_at", &instant)? {
        Some(a) => a
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect(),
        None => vec![None; batch.num_rows()],
    };
    let (ids, tenants, calls) = (texts("refund_id")?, texts("tenant")?, texts("call_id")?);
    let (cabins, destinations) = (texts("cabin")?, texts("destination")?);
    let (reasons, users) = (texts("reason")?, texts("created_by")?);
    Ok((0..batch.num_rows())
        .map(|r| Asked {
            refund_id: ids[r].clone(),
            tenant: tenants[r].clone(),
            call_id: calls[r].clone(),
            cabin: cabins[r].clone(),
            amount: amounts[r],
            destination: destinations[r].clone(),
            reason: reasons[r].clone(),
            created_at: created[r],
            created_by: users[r].clone(),
        })
        .collect())
}

/// The settled refunds as a batch of the `refunds` table.
fn build(def: &TableDef, refunds: &[Asked]) -> DfResult<RecordBatch> {
    let text = |f: fn(&Asked) -> &Option<String>| -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in refunds {
            b.append_option(f(r).as_deref());
        }
        Arc::new(b.finish())
    };
    let mut amount = Decimal128Builder::new();
    let mut created = TimestampMicrosecondBuilder::new();
    for r in refunds {
        amount.append_option(r.amount);
        created.append_option(r.created_at);
    }
    let amount = amount
        .finish()
        .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)?;
    let columns: Vec<ArrayRef> = def
        .columns
        .iter()
        .map(|c| match c.name.as_str() {
            "refund_id" => Ok(text(|r| &r.refund_id)),
            "tenant" => Ok(text(|r| &r.tenant)),
            "call_id" => Ok(text(|r| &r.call_id)),
            "cabin" => Ok(text(|r| &r.cabin)),
            "amount" => Ok(Arc::new(amount.clone()) as ArrayRef),
            "destination" => Ok(text(|r| &r.destination)),
            "reason" => Ok(text(|r| &r.reason)),
            "created_at" => Ok(Arc::new(created.finish().with_timezone(UTC)) as ArrayRef),
            "created_by" => Ok(text(|r| &r.created_by)),
            other => Err(DataFusionError::Internal(format!(
                "refunds: column {other} has no value"
            ))),
        })
        .collect::<DfResult<_>>()?;
    RecordBatch::try_new(def.arrow_schema(), columns).map_err(DataFusionError::from)
}
