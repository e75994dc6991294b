//! The INSERT's rows in and the `refunds` rows out: reading what a statement gives (with the
//! stand-ins of [`crate::catalog::writes::column_defaults`] read as "not given") and building
//! the batch to append.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Decimal128Builder, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::error::{DataFusionError, Result as DfResult};

use super::rules::Asked;
use crate::catalog::writes::Input;
use crate::schema::{DECIMAL_PRECISION, DECIMAL_SCALE, TableDef, UTC};

/// The refunds a batch of the INSERT's input asks for.
pub(super) fn read(batch: &RecordBatch) -> DfResult<Vec<Asked>> {
    let input = Input::new(batch);
    let texts = |name| input.texts(name);
    let (amounts, created) = (input.amounts("amount")?, input.instants("created_at")?);
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
