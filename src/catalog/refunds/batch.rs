//! The INSERT's rows in and the `refunds` rows out: reading what a statement gives (with the
//! stand-ins of [`column_defaults`] read as "not given") and building the batch to append.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, AsArray, Decimal128Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Decimal128Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::ScalarValue;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;

use super::rules::Asked;
use crate::schema::{DECIMAL_PRECISION, DECIMAL_SCALE, TableDef, UTC};

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

/// The refunds a batch of the INSERT's input asks for.
pub(super) fn read(batch: &RecordBatch) -> DfResult<Vec<Asked>> {
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
pub(super) fn build(def: &TableDef, refunds: &[Asked]) -> DfResult<RecordBatch> {
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
