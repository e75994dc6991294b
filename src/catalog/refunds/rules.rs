//! The rules of a refund (SPEC 2.2), without I/O: [`settle`] checks one asked refund against
//! the call's charge and what is already refunded, and fills what the statement left out.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::DEFAULT_USER;
use crate::catalog::writes::{CallError, call_tenant};

/// Tenant of a custom refund that names none.
const DEFAULT_TENANT: &str = "default";
/// Why a refund statement was rejected; nothing of the statement was written.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    /// The call is not one stored call.
    #[error(transparent)]
    Call(#[from] CallError),
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
pub(super) struct Call {
    pub(super) tenant: String,
    pub(super) cabin: Option<String>,
    pub(super) charge: i128,
    pub(super) refunded: i128,
}

/// One refund as the statement gives it (NULL where left out).
#[derive(Debug, Default)]
pub(super) struct Asked {
    pub(super) refund_id: Option<String>,
    pub(super) tenant: Option<String>,
    pub(super) call_id: Option<String>,
    pub(super) cabin: Option<String>,
    pub(super) amount: Option<i128>,
    pub(super) destination: Option<String>,
    pub(super) reason: Option<String>,
    pub(super) created_at: Option<i64>,
    pub(super) created_by: Option<String>,
}

/// Checks one asked refund against the calls and what this statement already refunded
/// (`taken`), and fills what it left out.
pub(super) fn settle(
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
            let stored = calls.get(&call_id).map(Vec::as_slice).unwrap_or_default();
            let known: Vec<String> = stored.iter().map(|(t, _)| t.clone()).collect();
            let tenant = call_tenant("refund", &call_id, a.tenant.as_deref(), &known)?;
            let Some((_, call)) = stored.iter().find(|(t, _)| *t == tenant) else {
                return Err(CallError::Unknown {
                    what: "refund",
                    call_id,
                }
                .into());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn calls() -> HashMap<String, Vec<(String, Call)>> {
        let call = |tenant: &str, charge, refunded| {
            let c = Call {
                tenant: tenant.into(),
                cabin: Some("7012".into()),
                charge,
                refunded,
            };
            (tenant.to_string(), c)
        };
        HashMap::from([
            ("c1".to_string(), vec![call("ship", 1_000_000, 400_000)]),
            ("free".to_string(), vec![call("ship", 0, 0)]),
            ("twice".to_string(), vec![call("a", 1, 0), call("b", 1, 0)]),
        ])
    }

    fn asked(call_id: Option<&str>, amount: Option<i128>) -> Asked {
        Asked {
            call_id: call_id.map(str::to_string),
            amount,
            ..Asked::default()
        }
    }

    #[test]
    fn the_rest_and_no_further() {
        let (calls, mut taken) = (calls(), HashMap::new());
        let first = settle(asked(Some("c1"), Some(100_000)), &calls, &mut taken, 7, 0).unwrap();
        assert_eq!(first.amount, Some(100_000));
        assert_eq!(first.tenant.as_deref(), Some("ship"));
        assert_eq!(first.cabin.as_deref(), Some("7012"));
        assert_eq!(first.created_at, Some(7));
        assert_eq!(first.created_by.as_deref(), Some(DEFAULT_USER));
        assert!(
            first
                .refund_id
                .as_deref()
                .is_some_and(|id| id.starts_with("rf-"))
        );
        let rest = settle(asked(Some("c1"), None), &calls, &mut taken, 7, 1).unwrap();
        assert_eq!(rest.amount, Some(500_000));
        let err = settle(asked(Some("c1"), None), &calls, &mut taken, 7, 2).unwrap_err();
        assert_eq!(
            err.to_string(),
            "over-refund of call c1: 0.000000 asked, 0.000000 of its charge 1.000000 left to refund"
        );
    }

    #[test]
    fn rejections() {
        let (calls, mut taken) = (calls(), HashMap::new());
        let mut check = |a| settle(a, &calls, &mut taken, 0, 0).unwrap_err().to_string();
        assert_eq!(check(asked(Some("x"), None)), "refund of unknown call x");
        assert!(check(asked(Some("free"), None)).contains("nothing charged"));
        assert!(check(asked(Some("twice"), None)).contains("several tenants (a, b)"));
        assert!(check(asked(Some("c1"), Some(-1))).contains("must be positive"));
        assert!(check(asked(None, Some(5))).contains("needs a cabin"));
    }

    #[test]
    fn custom_refunds_and_tenants() {
        let (calls, mut taken) = (calls(), HashMap::new());
        let custom = Asked {
            cabin: Some("7020".into()),
            ..asked(None, Some(3_000_000))
        };
        let custom = settle(custom, &calls, &mut taken, 0, 0).unwrap();
        assert_eq!(custom.tenant.as_deref(), Some("default"));
        let chosen = Asked {
            tenant: Some("b".into()),
            ..asked(Some("twice"), None)
        };
        let chosen = settle(chosen, &calls, &mut taken, 0, 0).unwrap();
        assert_eq!(
            (chosen.tenant.as_deref(), chosen.amount),
            (Some("b"), Some(1))
        );
        assert_eq!(Money(-1_500_000).to_string(), "-1.500000");
    }
}
