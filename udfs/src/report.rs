//! `billing_result(direction, excluded, refunded_in_full, newest_event, charge)`: how the
//! billing system handled a call, as the call-report seed labels it (SPEC 4, `call_reports`).
//!
//! The rules, first that matches: refunded in full → `Refunded`; direction `internal` →
//! `Internal`; `inbound` → `Incoming`; destination excluded → `Excluded`; else by the newest
//! billing event: `ok` → `OK`, `failure` → `Failure`, `sent` → `Open`, `retry_sent` →
//! `Retry open`; no event → `Open`, except a call with nothing to charge (charge 0), which is
//! `OK`. Only outbound calls reach the event rules.
//!
//! The function takes what the view has already worked out per call (whether the destination
//! is excluded, whether refunds cover the charge, which event is newest, the charge after
//! rating), so that the rules live in one place and the view only gathers facts.
//!
//! `call_amount(charge, rated_charge)`: the charge a report shows, the stored one, else the
//! rated one, else 0.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Decimal128Array, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};
use crate::billing::{
    CHARGE_PRECISION, CHARGE_SCALE, divide_rounding, fits_charge, overflow, pow10,
};

/// Billing events (`billing_events.result`) and the billing result each gives.
pub const EVENT_RESULTS: &[(&str, &str)] = &[
    ("ok", "OK"),
    ("failure", "Failure"),
    ("sent", "Open"),
    ("retry_sent", "Retry open"),
];

/// Every billing result of the call-report seed.
pub const BILLING_RESULTS: &[&str] = &[
    "OK",
    "Failure",
    "Open",
    "Retry open",
    "Internal",
    "Incoming",
    "Excluded",
    "Refunded",
];

/// The facts about one call that decide its billing result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallBilling<'a> {
    /// `inbound`, `outbound` or `internal`.
    pub direction: &'a str,
    /// Whether the destination is excluded from charging.
    pub excluded: bool,
    /// Whether refunds cover the whole (non-zero) charge.
    pub refunded_in_full: bool,
    /// The newest billing event's result, if any.
    pub newest_event: Option<&'a str>,
    /// Whether the call's charge is zero (`None` when unknown).
    pub charge_is_zero: Option<bool>,
}

/// The billing result of a call (see the module documentation); an error for a direction or
/// event outside the data model.
pub fn billing_result(call: CallBilling<'_>) -> Result<&'static str> {
    if call.refunded_in_full {
        return Ok("Refunded");
    }
    match call.direction {
        "internal" => return Ok("Internal"),
        "inbound" => return Ok("Incoming"),
        "outbound" => {}
        other => return exec_err!("billing_result: unknown direction '{other}'"),
    }
    if call.excluded {
        return Ok("Excluded");
    }
    match call.newest_event {
        Some(event) => match EVENT_RESULTS.iter().find(|(e, _)| *e == event) {
            Some((_, result)) => Ok(result),
            None => exec_err!("billing_result: unknown billing event '{event}'"),
        },
        None if call.charge_is_zero == Some(true) => Ok("OK"),
        None => Ok("Open"),
    }
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Billing result of a call as the call reports show it, first rule that matches: refunded_in_full -> Refunded; direction internal -> Internal; inbound -> Incoming; excluded -> Excluded; else by the newest billing event: ok -> OK, failure -> Failure, sent -> Open, retry_sent -> Retry open; no event (NULL) -> Open, except a call whose charge is 0, which is OK. NULL excluded or refunded_in_full count as false, a NULL charge as unknown (so Open); a NULL direction gives NULL. The view call_reports computes the arguments: is_excluded_number(tenant, destination), refunds summed against the charge, the newest billing_events row, the charge after rating.",
    syntax_example = "billing_result(direction, excluded, refunded_in_full, newest_event, charge)",
    sql_example = r#"```sql
> select billing_result('outbound', false, false, 'retry_sent', 0.5), billing_result('outbound', false, false, NULL, 0);
Retry open | OK
```"#,
    argument(
        name = "direction",
        description = "cdrs.direction: inbound, outbound or internal."
    ),
    argument(
        name = "excluded",
        description = "Whether the destination is excluded from charging (is_excluded_number)."
    ),
    argument(
        name = "refunded_in_full",
        description = "Whether the call's refunds add up to its whole, non-zero charge."
    ),
    argument(
        name = "newest_event",
        description = "result of the call's newest billing_events row: sent, ok, failure, retry_sent; NULL when none."
    ),
    argument(
        name = "charge",
        description = "The call's charge (stored, or rated); 0 means nothing to charge."
    )
)]
/// `billing_result(direction, excluded, refunded_in_full, newest_event, charge)` → `TEXT`;
/// see [`billing_result`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct BillingResult;

const ARGS: &[Arg] = &[
    arg("direction", Kind::Text),
    arg("excluded", Kind::Bool),
    arg("refunded_in_full", Kind::Bool),
    arg("newest_event", Kind::Text),
    arg("charge", Kind::Money),
];

impl_udf!(BillingResult, name: "billing_result", args: ARGS, required: 5,
    returns: DataType::Utf8, strict: false);

impl BillingResult {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (direction, excluded, refunded) = (rows.texts(0)?, rows.bools(1)?, rows.bools(2)?);
        let (event, charge) = (rows.texts(3)?, rows.decimals(4)?);
        let out = (0..rows.len())
            .map(|r| {
                let Some(direction) = direction.get(r) else {
                    return Ok(None);
                };
                billing_result(CallBilling {
                    direction,
                    excluded: excluded.get(r).unwrap_or(false),
                    refunded_in_full: refunded.get(r).unwrap_or(false),
                    newest_event: event.get(r),
                    charge_is_zero: charge.get(r).map(|c| c == 0),
                })
                .map(Some)
            })
            .collect::<Result<StringArray>>()?;
        Ok(Arc::new(out))
    }
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "The charge of a call as its report shows it, as DECIMAL(18,6): the stored charge; else the charge rated from the rate deck; else 0 (a call to rate without a rate, an inbound or excluded call). Means coalesce(charge, rated_charge, 0), each value brought to 6 decimal places (half away from zero), in one pass over the batch: DataFusion evaluates a three-way coalesce as a CASE that filters the batch's columns for each branch and scatters the results back. Never NULL.",
    syntax_example = "call_amount(charge, rated_charge)",
    sql_example = r#"```sql
> select call_amount(1.5, 2), call_amount(NULL, 2), call_amount(NULL, NULL);
1.500000 | 2.000000 | 0.000000
```"#,
    argument(
        name = "charge",
        description = "The charge stored with the call (cdrs.charge)."
    ),
    argument(
        name = "rated_charge",
        description = "The charge rated from the deck, e.g. rate_call(...)['charge']; NULL when the call was not rated."
    )
)]
/// `call_amount(charge, rated_charge)` → `DECIMAL(18,6)`: the first of them that is not NULL,
/// else 0.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct CallAmount;

const AMOUNT_ARGS: &[Arg] = &[arg("charge", Kind::Money), arg("rated_charge", Kind::Money)];

impl_udf!(CallAmount, name: "call_amount", args: AMOUNT_ARGS, required: 2,
    returns: DataType::Decimal128(CHARGE_PRECISION, CHARGE_SCALE), strict: false);

/// How raw decimals at one scale are brought to [`CHARGE_SCALE`]: multiplied by `up`, then
/// divided by `down` with rounding half away from zero.
#[derive(Debug, Clone, Copy)]
struct Rescale {
    up: i128,
    down: i128,
}

impl Rescale {
    fn from(scale: i8) -> Result<Self> {
        let (up, down) = if scale <= CHARGE_SCALE {
            (pow10(CHARGE_SCALE - scale), Some(1))
        } else {
            (Some(1), pow10(scale - CHARGE_SCALE))
        };
        match (up, down) {
            (Some(up), Some(down)) => Ok(Rescale { up, down }),
            _ => Err(overflow("call_amount")),
        }
    }

    fn apply(self, raw: i128) -> Result<i128> {
        let scaled = raw
            .checked_mul(self.up)
            .ok_or_else(|| overflow("call_amount"))?;
        fits_charge("call_amount", divide_rounding(scaled, self.down))
    }
}

impl CallAmount {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (charge, rated) = (rows.decimals(0)?, rows.decimals(1)?);
        let (charge_at, rated_at) = (Rescale::from(charge.scale)?, Rescale::from(rated.scale)?);
        let values = (0..rows.len())
            .map(|r| match (charge.get(r), rated.get(r)) {
                (Some(stored), _) => charge_at.apply(stored),
                (None, Some(rated)) => rated_at.apply(rated),
                (None, None) => Ok(0),
            })
            .collect::<Result<Vec<i128>>>()?;
        let out = Decimal128Array::from(values)
            .with_precision_and_scale(CHARGE_PRECISION, CHARGE_SCALE)?;
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(direction: &str) -> CallBilling<'_> {
        CallBilling {
            direction,
            excluded: false,
            refunded_in_full: false,
            newest_event: None,
            charge_is_zero: Some(false),
        }
    }

    #[test]
    fn first_rule_that_matches() {
        let refunded = CallBilling {
            refunded_in_full: true,
            ..call("inbound")
        };
        assert_eq!(billing_result(refunded).unwrap(), "Refunded");
        let excluded = CallBilling {
            excluded: true,
            ..call("internal")
        };
        assert_eq!(billing_result(excluded).unwrap(), "Internal");
        let excluded = CallBilling {
            excluded: true,
            newest_event: Some("ok"),
            ..call("outbound")
        };
        assert_eq!(billing_result(excluded).unwrap(), "Excluded");
        assert_eq!(billing_result(call("inbound")).unwrap(), "Incoming");
        assert_eq!(billing_result(call("outbound")).unwrap(), "Open");
        let free = CallBilling {
            charge_is_zero: Some(true),
            ..call("outbound")
        };
        assert_eq!(billing_result(free).unwrap(), "OK");
        for (event, result) in EVENT_RESULTS {
            let billed = CallBilling {
                newest_event: Some(event),
                ..call("outbound")
            };
            assert_eq!(billing_result(billed).unwrap(), *result);
            assert!(BILLING_RESULTS.contains(result));
        }
    }

    #[test]
    fn unknown_values_are_errors() {
        assert!(billing_result(call("sideways")).is_err());
        let odd = CallBilling {
            newest_event: Some("maybe"),
            ..call("outbound")
        };
        assert!(billing_result(odd).is_err());
    }
}
