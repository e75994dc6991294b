//! SQL writes into stored tables: which `INSERT`s are accepted (refunds and billing events,
//! SPEC 2.2–2.3; every other table is loaded by ingest), the stand-in values the planner puts
//! in the non-nullable columns a statement leaves out, and the exclusive section every write
//! runs in. Fed by [`super::LatestTable`]'s `insert_into`; feeds the sinks of [`super::refunds`]
//! and [`super::events`].

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, TimeUnit, TimestampMicrosecondType};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use super::events::EventSink;
use super::refunds::RefundSink;
use crate::schema::{DECIMAL_PRECISION, DECIMAL_SCALE, UTC};
use crate::storage::{Store, WriterLock};

/// Stand-in for an amount a statement left out (the smallest `DECIMAL(18,6)`; real amounts
/// are positive).
pub const AMOUNT_NOT_GIVEN: i128 = -999_999_999_999_999_999;

/// Stand-in for an instant a statement left out.
pub const INSTANT_NOT_GIVEN: i64 = i64::MIN;

/// One write statement at a time in this process; the writer lock covers other processes.
static WRITES: LazyLock<tokio::sync::Mutex<()>> = LazyLock::new(Default::default);

/// Held while a statement checks and writes: nothing else writes the store meanwhile.
pub struct Exclusive {
    _serial: tokio::sync::MutexGuard<'static, ()>,
    _lock: WriterLock,
}

/// Waits for the other writes of this process, then takes the store's writer lock (waiting,
/// up to the location's `lock_wait`, while another process such as an ingest holds it).
pub async fn exclusive(store: &Store) -> DfResult<Exclusive> {
    let serial = WRITES.lock().await;
    let lock = WriterLock::acquire(store).await.map_err(external)?;
    Ok(Exclusive {
        _serial: serial,
        _lock: lock,
    })
}

/// The rows of an INSERT's input, column by column, with the stand-ins of
/// [`column_defaults`] (and empty texts) read as "not given".
pub struct Input<'a> {
    batch: &'a RecordBatch,
}

impl<'a> Input<'a> {
    /// The rows of `batch`.
    pub fn new(batch: &'a RecordBatch) -> Self {
        Input { batch }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    fn column(&self, name: &str, ty: &DataType) -> DfResult<Option<ArrayRef>> {
        self.batch
            .column_by_name(name)
            .map(|c| cast(c, ty).map_err(DataFusionError::from))
            .transpose()
    }

    /// Column `name` as text; all `None` when the table has no such column.
    pub fn texts(&self, name: &str) -> DfResult<Vec<Option<String>>> {
        Ok(match self.column(name, &DataType::Utf8)? {
            Some(a) => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.filter(|v| !v.is_empty()).map(str::to_string))
                .collect(),
            None => vec![None; self.len()],
        })
    }

    /// Column `name` as raw `DECIMAL(18,6)` amounts.
    pub fn amounts(&self, name: &str) -> DfResult<Vec<Option<i128>>> {
        let money = DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE);
        Ok(match self.column(name, &money)? {
            Some(a) => a
                .as_primitive::<Decimal128Type>()
                .iter()
                .map(|v| v.filter(|&v| v != AMOUNT_NOT_GIVEN))
                .collect(),
            None => vec![None; self.len()],
        })
    }

    /// Column `name` as instants (microseconds since the Unix epoch).
    pub fn instants(&self, name: &str) -> DfResult<Vec<Option<i64>>> {
        let instant = DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(UTC)));
        Ok(match self.column(name, &instant)? {
            Some(a) => a
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .map(|v| v.filter(|&v| v != INSTANT_NOT_GIVEN))
                .collect(),
            None => vec![None; self.len()],
        })
    }
}

/// What a write statement writes to and checks against: the store, the statement's session
/// (its views and settings functions), the table schema the INSERT was planned against and
/// the clock of the instants it fills (microseconds since the Unix epoch).
pub struct Target {
    /// The user issuing the write over the wire, when a server session runs it.
    pub user: Option<String>,
    /// The store written.
    pub store: Store,
    /// The session the statement runs in.
    pub ctx: SessionContext,
    /// The table schema the INSERT was planned against.
    pub schema: arrow::datatypes::SchemaRef,
    /// The clock.
    pub clock: fn() -> i64,
}

impl Target {
    /// A target with the system clock.
    pub fn new(store: Store, ctx: SessionContext, schema: arrow::datatypes::SchemaRef) -> Self {
        let user = ctx
            .state_ref()
            .read()
            .config()
            .get_extension::<SessionUser>()
            .map(|u| u.0.clone());
        Target {
            user,
            store,
            ctx,
            schema,
            clock: || chrono::Utc::now().timestamp_micros(),
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// The authenticated user of a server session, kept in its configuration (an extension) so
/// that writes record who issued them (`refunds.created_by`).
#[derive(Debug, Clone)]
pub struct SessionUser(pub String);

/// A write naming a call that is not one stored call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The call is not stored (in the tenant given).
    #[error("{what} of unknown call {call_id}")]
    Unknown {
        /// What was being written (`refund`, `billing event`).
        what: &'static str,
        /// The call id given.
        call_id: String,
    },
    /// The call id exists in several tenants and the statement named none.
    #[error("call {call_id} exists in several tenants ({tenants}); give the tenant")]
    Ambiguous {
        /// The call id given.
        call_id: String,
        /// The tenants holding it.
        tenants: String,
    },
}

/// The tenant of the call `call_id` a `what` names: `given` when the call is stored there,
/// else the one tenant of `known` (the tenants storing that call id).
pub fn call_tenant(
    what: &'static str,
    call_id: &str,
    given: Option<&str>,
    known: &[String],
) -> Result<String, CallError> {
    match (given, known) {
        (Some(t), known) if known.iter().any(|k| k == t) => Ok(t.to_string()),
        (None, [one]) => Ok(one.clone()),
        (None, many) if many.len() > 1 => Err(CallError::Ambiguous {
            call_id: call_id.to_string(),
            tenants: many.join(", "),
        }),
        _ => Err(CallError::Unknown {
            what,
            call_id: call_id.to_string(),
        }),
    }
}

/// An error of ours as a DataFusion error.
pub fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Values the planner puts in the non-nullable columns of `table` an INSERT leaves out; the
/// sinks read them as "not given" (an empty text too) and fill or reject the column.
pub fn column_defaults(table: &str) -> HashMap<String, Expr> {
    let text = || Expr::Literal(ScalarValue::Utf8(Some(String::new())), None);
    let at = || {
        let at = ScalarValue::TimestampMicrosecond(Some(INSTANT_NOT_GIVEN), Some(Arc::from(UTC)));
        Expr::Literal(at, None)
    };
    let (texts, instant): (&[&str], &str) = match table {
        "refunds" => (
            &["refund_id", "tenant", "destination", "created_by"],
            "created_at",
        ),
        "billing_events" => (&["tenant", "call_id", "result"], "at"),
        _ => return HashMap::new(),
    };
    let mut defaults: HashMap<String, Expr> =
        texts.iter().map(|c| (c.to_string(), text())).collect();
    defaults.insert(instant.to_string(), at());
    if table == "refunds" {
        let amount =
            ScalarValue::Decimal128(Some(AMOUNT_NOT_GIVEN), DECIMAL_PRECISION, DECIMAL_SCALE);
        defaults.insert("amount".into(), Expr::Literal(amount, None));
    }
    defaults
}

/// The plan of `INSERT INTO table …` (appending `input`), or an error for a table that is
/// not written with SQL.
pub fn insert(
    table: &str,
    store: &Store,
    state: &dyn Session,
    input: Arc<dyn ExecutionPlan>,
    schema: arrow::datatypes::SchemaRef,
) -> DfResult<Arc<dyn ExecutionPlan>> {
    let session = || match state.as_any().downcast_ref::<SessionState>() {
        Some(state) => Ok(SessionContext::new_with_state(state.clone())),
        None => Err(DataFusionError::Internal(format!(
            "INSERT INTO {table} needs a full session"
        ))),
    };
    let sink: Arc<dyn DataSink> = match table {
        "refunds" => Arc::new(RefundSink::new(Target::new(
            store.clone(),
            session()?,
            schema,
        ))),
        "billing_events" => Arc::new(EventSink::new(Target::new(
            store.clone(),
            session()?,
            schema,
        ))),
        _ => {
            return Err(DataFusionError::Plan(format!(
                "{table} cannot be written with INSERT: load it with COPY or `cdrlake ingest`"
            )));
        }
    };
    Ok(Arc::new(DataSinkExec::new(input, sink, None)))
}
