//! Billing arithmetic: `billable_seconds` (increment rounding of a call's duration) and
//! `call_charge` (its price).
//!
//! A tariff `a/b` charges at least `a` seconds (the first block) and then blocks of `b`
//! seconds: `60/60` rounds every call up to whole minutes, `30/6` charges 30 s and then
//! 6-second steps, `1/1` is per-second billing. A 32 s call costs 60 s under `60/60`, 36 s
//! under `30/6` and 32 s under `1/1`.
//!
//! Money is exact: `call_charge` works on the raw `i128` values of its decimal arguments and
//! rounds exactly once, when it divides by 60 into the result's six decimal places
//! (half away from zero). No intermediate value is ever rounded, and no float is involved
//! unless the caller passes floats (which are converted to `DECIMAL(18,6)` on the way in).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Decimal128Array, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, exec_datafusion_err, exec_err};
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};

/// Precision of `call_charge` results (`DECIMAL(18,6)`).
pub const CHARGE_PRECISION: u8 = 18;
/// Scale of `call_charge` results (`DECIMAL(18,6)`).
pub const CHARGE_SCALE: i8 = 6;

/// Billable seconds of a call of `duration_s` seconds under an `min_s/increment_s` tariff:
/// 0 when `duration_s <= 0`; `min_s` when `duration_s <= min_s`; otherwise `min_s` plus
/// `duration_s - min_s` rounded up to whole increments.
///
/// Errors when the tariff is unusable for a connected call (`min_s < 0`, or
/// `increment_s <= 0` while the call outlasts `min_s`) or the result exceeds `INT`.
pub fn billable(duration_s: i64, min_s: i64, increment_s: i64) -> Result<i32> {
    if duration_s <= 0 {
        return Ok(0);
    }
    if min_s < 0 {
        return exec_err!("billable_seconds: min_s must not be negative, got {min_s}");
    }
    let seconds = if duration_s <= min_s {
        min_s
    } else if increment_s <= 0 {
        return exec_err!("billable_seconds: increment_s must be positive, got {increment_s}");
    } else {
        // Both positive here, so this is the ceiling of the division.
        let excess = duration_s - min_s;
        let blocks = excess / increment_s + i64::from(excess % increment_s != 0);
        blocks
            .checked_mul(increment_s)
            .and_then(|s| s.checked_add(min_s))
            .ok_or_else(|| overflow("billable_seconds"))?
    };
    i32::try_from(seconds).map_err(|_| overflow("billable_seconds"))
}

/// A decimal value: raw integer and scale (`value = raw / 10^scale`).
pub type Decimal = (i128, i8);

/// Charge of a call billed for `billed_s` seconds at `rate_per_min` per minute plus
/// `connect_fee`, as a raw `DECIMAL(18,6)` value (millionths).
///
/// 0 when `billed_s <= 0` (nothing connected, so no connect fee either); otherwise
/// `connect_fee + billed_s * rate_per_min / 60`, computed exactly and rounded once, half
/// away from zero, to six decimal places. Errors when the result does not fit
/// `DECIMAL(18,6)`.
pub fn charge(billed_s: i64, rate_per_min: Decimal, connect_fee: Decimal) -> Result<i128> {
    let scales = ChargeScales::new(rate_per_min.1, connect_fee.1)?;
    scales.charge(billed_s, rate_per_min.0, connect_fee.0)
}

/// [`charge`]'s arithmetic for one pair of input scales, worked out once (a column's values
/// share its scale): at k, the larger input scale, the amount is a number of units of
/// 1 / (60 * 10^k), `fee * 60 * 10^(k - fee_scale) + billed * rate * 10^(k - rate_scale)`,
/// brought to millionths by multiplying by `up` and dividing by `divisor`, with the single
/// rounding point in that division.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChargeScales {
    fee: i128,
    rate: i128,
    up: i128,
    divisor: i128,
    /// `[fee, rate, up, divisor]` in 64 bits when they fit (input scales up to 18): the
    /// arithmetic of values that fit 64 bits too, every real tariff's, is then done in 64
    /// bits, several times cheaper than 128 bits' checked multiplications.
    narrow: Option<[i64; 4]>,
}

impl ChargeScales {
    /// The arithmetic for rates at `rate_scale` and fees at `fee_scale`.
    pub(crate) fn new(rate_scale: i8, fee_scale: i8) -> Result<Self> {
        let k = rate_scale.max(fee_scale).max(0);
        let scales = (|| {
            let fee = pow10(k - fee_scale)?.checked_mul(60)?;
            let rate = pow10(k - rate_scale)?;
            Some(if k >= CHARGE_SCALE {
                let divisor = pow10(k - CHARGE_SCALE)?.checked_mul(60)?;
                (fee, rate, 1, divisor)
            } else {
                (fee, rate, pow10(CHARGE_SCALE - k)?, 60)
            })
        })();
        let (fee, rate, up, divisor) = scales.ok_or_else(|| overflow("call_charge"))?;
        let narrow = [fee, rate, up, divisor].map(|v| i64::try_from(v).ok());
        let narrow = match narrow {
            [Some(fee), Some(rate), Some(up), Some(divisor)] => Some([fee, rate, up, divisor]),
            _ => None,
        };
        Ok(ChargeScales {
            fee,
            rate,
            up,
            divisor,
            narrow,
        })
    }

    /// [`charge`] of raw values at these scales.
    pub(crate) fn charge(
        &self,
        billed_s: i64,
        rate_per_min: i128,
        connect_fee: i128,
    ) -> Result<i128> {
        if billed_s <= 0 {
            return Ok(0);
        }
        if let Some(raw) = self.charge_narrow(billed_s, rate_per_min, connect_fee) {
            return fits_charge("call_charge", raw);
        }
        self.charge_wide(billed_s, rate_per_min, connect_fee)
    }

    /// [`ChargeScales::charge`] of a connected call in 64 bits; `None` when a value or a
    /// product does not fit them.
    fn charge_narrow(&self, billed_s: i64, rate_per_min: i128, connect_fee: i128) -> Option<i128> {
        let [fee_factor, rate_factor, up, divisor] = self.narrow?;
        let fee = i64::try_from(connect_fee).ok()?.checked_mul(fee_factor)?;
        let usage = i64::try_from(rate_per_min)
            .ok()?
            .checked_mul(billed_s)?
            .checked_mul(rate_factor)?;
        let scaled = fee.checked_add(usage)?.checked_mul(up)?;
        Some(i128::from(divide_rounding_narrow(scaled, divisor)))
    }

    /// [`ChargeScales::charge`] of a connected call in 128 bits.
    fn charge_wide(&self, billed_s: i64, rate_per_min: i128, connect_fee: i128) -> Result<i128> {
        let scaled = (|| {
            let fee = connect_fee.checked_mul(self.fee)?;
            let usage = rate_per_min
                .checked_mul(i128::from(billed_s))?
                .checked_mul(self.rate)?;
            fee.checked_add(usage)?.checked_mul(self.up)
        })()
        .ok_or_else(|| overflow("call_charge"))?;
        fits_charge("call_charge", divide_rounding(scaled, self.divisor))
    }
}

/// `raw` (millionths) when it fits `DECIMAL(18,6)`, else an error of `function`.
pub(crate) fn fits_charge(function: &str, raw: i128) -> Result<i128> {
    if raw.unsigned_abs() >= 10u128.pow(u32::from(CHARGE_PRECISION)) {
        return Err(exec_datafusion_err!(
            "{function}: {raw}e-6 does not fit DECIMAL(18,6)"
        ));
    }
    Ok(raw)
}

/// `n / d` rounded half away from zero; `d` must be positive.
pub(crate) fn divide_rounding(n: i128, d: i128) -> i128 {
    if let (Ok(n), Ok(d)) = (i64::try_from(n), i64::try_from(d)) {
        // Charges fit 64 bits, whose division is several times cheaper than 128 bits'.
        return i128::from(divide_rounding_narrow(n, d));
    }
    let (q, r) = (n / d, n % d);
    // |r| < d, so 2|r| cannot overflow for any divisor built here (< 10^35).
    if 2 * r.unsigned_abs() >= d.unsigned_abs() {
        q + n.signum()
    } else {
        q
    }
}

/// [`divide_rounding`] in 64 bits.
fn divide_rounding_narrow(n: i64, d: i64) -> i64 {
    let (q, r) = (n / d, n % d);
    // |r| < d <= i64::MAX, so 2|r| fits a u64.
    if 2 * r.unsigned_abs() >= d.unsigned_abs() {
        q + n.signum()
    } else {
        q
    }
}

pub(crate) fn pow10(exp: i8) -> Option<i128> {
    10i128.checked_pow(u32::try_from(exp).ok()?)
}

pub(crate) fn overflow(function: &str) -> DataFusionError {
    exec_datafusion_err!("{function}: arithmetic overflow")
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Billable seconds of a call under a tariff of a first block of `min_s` seconds and then blocks of `increment_s` seconds: 0 when duration_s <= 0, min_s when duration_s <= min_s, else min_s + ceil((duration_s - min_s) / increment_s) * increment_s.",
    syntax_example = "billable_seconds(duration_s, min_s, increment_s)",
    sql_example = r#"```sql
> select billable_seconds(32, 60, 60), billable_seconds(32, 30, 6), billable_seconds(32, 1, 1);
60 | 36 | 32
```"#,
    argument(
        name = "duration_s",
        description = "Connected seconds of the call (any integer)."
    ),
    argument(
        name = "min_s",
        description = "First billing block in seconds, e.g. 60, 30 or 1."
    ),
    argument(
        name = "increment_s",
        description = "Following billing blocks in seconds, e.g. 60, 6 or 1."
    )
)]
/// `billable_seconds(duration_s, min_s, increment_s)` → `INT`; see [`billable`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct BillableSeconds;

const BILLABLE_ARGS: &[Arg] = &[
    arg("duration_s", Kind::Int),
    arg("min_s", Kind::Int),
    arg("increment_s", Kind::Int),
];

impl_udf!(BillableSeconds, name: "billable_seconds", args: BILLABLE_ARGS, required: 3,
    returns: DataType::Int32, strict: true);

impl BillableSeconds {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (duration, min, increment) = (rows.ints(0)?, rows.ints(1)?, rows.ints(2)?);
        let out: Int32Array = rows.map_valid(&[0, 1, 2], |r| {
            billable(duration.value(r), min.value(r), increment.value(r))
        })?;
        Ok(Arc::new(out))
    }
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Charge of a call as DECIMAL(18,6): 0 when billed_s = 0; else connect_fee + billed_s * rate_per_min / 60, computed exactly and rounded once, half away from zero, to 6 decimal places.",
    syntax_example = "call_charge(billed_s, rate_per_min, connect_fee)",
    sql_example = r#"```sql
> select call_charge(60, 0.0123, 0), call_charge(36, 0.006, 0.01);
0.012300 | 0.013600
```"#,
    argument(
        name = "billed_s",
        description = "Billable seconds, e.g. from billable_seconds (any integer)."
    ),
    argument(
        name = "rate_per_min",
        description = "Price per minute (decimal; floats are read as DECIMAL(18,6))."
    ),
    argument(
        name = "connect_fee",
        description = "Price charged once for a connected call (decimal)."
    )
)]
/// `call_charge(billed_s, rate_per_min, connect_fee)` → `DECIMAL(18,6)`; see [`charge`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct CallCharge;

const CHARGE_ARGS: &[Arg] = &[
    arg("billed_s", Kind::Int),
    arg("rate_per_min", Kind::Money),
    arg("connect_fee", Kind::Money),
];

impl_udf!(CallCharge, name: "call_charge", args: CHARGE_ARGS, required: 3,
    returns: DataType::Decimal128(CHARGE_PRECISION, CHARGE_SCALE), strict: true);

impl CallCharge {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let (billed, rate, fee) = (rows.ints(0)?, rows.decimals(1)?, rows.decimals(2)?);
        let scales = ChargeScales::new(rate.scale, fee.scale)?;
        let out: Decimal128Array = rows
            .map_valid(&[0, 1, 2], |r| {
                scales.charge(billed.value(r), rate.value(r), fee.value(r))
            })?
            .with_precision_and_scale(CHARGE_PRECISION, CHARGE_SCALE)?;
        Ok(Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero_on_both_sides_of_64_bits() {
        let big = i128::from(i64::MAX) * 60;
        for (n, d, q) in [
            (90, 60, 2),
            (89, 60, 1),
            (-90, 60, -2),
            (-89, 60, -1),
            (0, 60, 0),
            (big + 30, 60, i128::from(i64::MAX) + 1),
            (big + 29, 60, i128::from(i64::MAX)),
            (-(big + 30), 60, -i128::from(i64::MAX) - 1),
        ] {
            assert_eq!(divide_rounding(n, d), q, "{n} / {d}");
        }
    }

    /// The 64-bit arithmetic answers as the 128-bit one wherever it applies, and leaves
    /// values or products past 64 bits to it.
    #[test]
    fn charges_in_64_bits_are_the_charges_in_128() {
        let big = i128::from(i64::MAX);
        let values = [
            0,
            1,
            29,
            30,
            -30,
            12_300,
            999_999,
            -5_000_001,
            big / 60,
            big,
            big + 1,
            -big,
        ];
        let billed = [1, 7, 59, 60, 61, 3_600, i64::MAX / 1_000, i64::MAX];
        let mut narrow = 0;
        for (rate_scale, fee_scale) in [(6, 6), (4, 2), (0, 0), (9, 3), (18, 18), (19, 6)] {
            let scales = ChargeScales::new(rate_scale, fee_scale).expect("scales");
            for &rate in &values {
                for &fee in &values {
                    for &b in &billed {
                        let wide = scales.charge_wide(b, rate, fee).ok();
                        match scales.charge_narrow(b, rate, fee) {
                            Some(raw) => {
                                narrow += 1;
                                assert_eq!(fits_charge("t", raw).ok(), wide, "{rate} {fee} {b}");
                            }
                            None => {
                                // Some value or product past 64 bits.
                                let fits =
                                    |v: Option<i128>| v.is_some_and(|v| i64::try_from(v).is_ok());
                                let b = i128::from(b);
                                let fee_part = fee.checked_mul(scales.fee);
                                let usage =
                                    rate.checked_mul(b).and_then(|u| u.checked_mul(scales.rate));
                                let sum = fee_part.zip(usage).and_then(|(f, u)| f.checked_add(u));
                                let scaled = sum.and_then(|s| s.checked_mul(scales.up));
                                let all_fit = [
                                    Some(rate),
                                    Some(fee),
                                    fee_part,
                                    rate.checked_mul(b),
                                    usage,
                                    sum,
                                    scaled,
                                ]
                                .into_iter()
                                .all(fits);
                                assert!(
                                    scales.narrow.is_none() || !all_fit,
                                    "{rate} {fee} {b} at {rate_scale}/{fee_scale}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(narrow > 1_000, "the 64-bit path ran ({narrow})");
    }

    #[test]
    fn billable_matches_the_test_vectors() {
        // (min, increment, duration, billable): mission anchors D1.
        let vectors = [
            (60, 60, 0, 0),
            (60, 60, 1, 60),
            (60, 60, 32, 60),
            (60, 60, 60, 60),
            (60, 60, 61, 120),
            (60, 60, 80, 120),
            (30, 6, 1, 30),
            (30, 6, 32, 36),
            (30, 6, 57, 60),
            (30, 6, 75, 78),
            (1, 1, 1, 1),
            (1, 1, 32, 32),
            (6, 6, 1, 6),
            (6, 6, 7, 12),
            (90, 60, 100, 150),
            (90, 60, 151, 210),
            (10, 6, 30, 34),
            (0, 60, 1, 60),
        ];
        for (min, inc, d, want) in vectors {
            assert_eq!(billable(d, min, inc).unwrap(), want, "{d} s at {min}/{inc}");
        }
        assert_eq!(billable(-5, 60, 60).unwrap(), 0);
    }

    #[test]
    fn billable_rejects_unusable_tariffs() {
        assert!(billable(61, 60, 0).is_err());
        assert!(billable(10, -1, 60).is_err());
        assert_eq!(
            billable(30, 60, 0).unwrap(),
            60,
            "increment unused within min_s"
        );
        assert_eq!(billable(0, -1, 0).unwrap(), 0, "nothing to bill");
        assert!(billable(i64::MAX, 1, 1).is_err());
    }

    #[test]
    fn charge_is_exact_with_one_rounding_point() {
        // 60 s at 0.0123/min = 0.0123.
        assert_eq!(charge(60, (123, 4), (0, 0)).unwrap(), 12_300);
        // 36 s at 0.006/min = 0.0036; plus a 0.01 connect fee.
        assert_eq!(charge(36, (6, 3), (1, 2)).unwrap(), 13_600);
        // 1 s at 0.000001/min = 1.666…e-8 → 0.
        assert_eq!(charge(1, (1, 6), (0, 0)).unwrap(), 0);
        // 30 s at 0.000001/min = 5e-7: the 7th decimal is 5 → rounds away from zero.
        assert_eq!(charge(30, (1, 6), (0, 0)).unwrap(), 1);
        assert_eq!(charge(30, (-1, 6), (0, 0)).unwrap(), -1);
        // Rounding happens once, after adding the fee: 0.0000004 + 0.0000001 = 0.0000005 → 1e-6.
        assert_eq!(charge(24, (1, 6), (1, 7)).unwrap(), 1);
        // 0.50/min per second for 60 s is exactly 0.5, not 60 × 0.0083.
        assert_eq!(charge(60, (50, 2), (0, 0)).unwrap(), 500_000);
        assert_eq!(charge(0, (50, 2), (99, 2)).unwrap(), 0);
    }

    #[test]
    fn charge_rejects_results_outside_decimal_18_6() {
        assert!(charge(i64::MAX, (i128::MAX / 2, 0), (0, 0)).is_err());
        assert!(charge(60, (1_000_000_000_000, 0), (0, 0)).is_err());
        assert!(charge(60, (999_999_999_999, 0), (0, 0)).is_ok());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(divide_rounding(5, 10), 1);
        assert_eq!(divide_rounding(4, 10), 0);
        assert_eq!(divide_rounding(-5, 10), -1);
        assert_eq!(divide_rounding(-15, 10), -2);
        assert_eq!(divide_rounding(14, 10), 1);
    }
}
