//! `numeric` values in the binary result format, as PostgreSQL sends them: base-10000 digits
//! and the column's scale as the display scale, zero included (`0.000000` of a
//! `numeric(18,6)` column, where arrow-pg's `rust_decimal` encoding sends `0` with display
//! scale 0, and values over 28 digits, which `rust_decimal` cannot hold at all).

use std::error::Error;

use bytes::{BufMut, BytesMut};
use pgwire::types::ToSqlText;
use pgwire::types::format::FormatOptions;
use postgres_types::{IsNull, ToSql, Type, accepts, to_sql_checked};

/// The sign word of a negative `numeric`.
const NEGATIVE: u16 = 0x4000;

/// A decimal of Arrow's representation: `value` × 10^-`scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgNumeric {
    /// The unscaled value.
    pub value: i128,
    /// Digits after the decimal point (Arrow allows a negative scale: trailing zeros).
    pub scale: i8,
}

impl PgNumeric {
    /// The decimal digits without sign, and the display scale (never negative).
    fn digits(self) -> (String, usize) {
        let mut digits = self.value.unsigned_abs().to_string();
        let scale = if self.scale < 0 {
            digits.extend(std::iter::repeat_n(
                '0',
                usize::from(self.scale.unsigned_abs()),
            ));
            0
        } else {
            usize::from(self.scale.unsigned_abs())
        };
        if digits.len() <= scale {
            let zeros = scale + 1 - digits.len();
            digits.insert_str(0, &"0".repeat(zeros));
        }
        (digits, scale)
    }

    /// PostgreSQL's binary `numeric`: ndigits, weight, sign, dscale (i16 each) and the
    /// base-10000 digits, without leading or trailing zero digits.
    fn write_binary(self, out: &mut BytesMut) {
        let (digits, scale) = self.digits();
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        let whole = format!("{}{whole}", "0".repeat((4 - whole.len() % 4) % 4));
        let fraction = format!("{fraction}{}", "0".repeat((4 - fraction.len() % 4) % 4));
        let group = |s: &str| -> Vec<i16> {
            s.as_bytes()
                .chunks(4)
                .map(|c| c.iter().fold(0i16, |n, d| n * 10 + i16::from(d - b'0')))
                .collect()
        };
        let mut groups = group(&whole);
        let mut weight = i16::try_from(groups.len()).unwrap_or(i16::MAX) - 1;
        groups.extend(group(&fraction));
        let leading = groups.iter().take_while(|g| **g == 0).count();
        groups.drain(..leading);
        weight -= i16::try_from(leading).unwrap_or(0);
        while groups.last() == Some(&0) {
            groups.pop();
        }
        let (weight, sign) = if groups.is_empty() {
            (0, 0)
        } else if self.value < 0 {
            (weight, NEGATIVE)
        } else {
            (weight, 0)
        };
        out.put_i16(i16::try_from(groups.len()).unwrap_or(i16::MAX));
        out.put_i16(weight);
        out.put_u16(sign);
        out.put_u16(u16::try_from(scale).unwrap_or(u16::MAX));
        for g in groups {
            out.put_i16(g);
        }
    }
}

impl std::fmt::Display for PgNumeric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (digits, scale) = self.digits();
        let sign = if self.value < 0 { "-" } else { "" };
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        if scale == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{fraction}")
        }
    }
}

impl ToSql for PgNumeric {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.write_binary(out);
        Ok(IsNull::No)
    }

    accepts!(NUMERIC);
    to_sql_checked!();
}

impl ToSqlText for PgNumeric {
    fn to_sql_text(
        &self,
        _: &Type,
        out: &mut BytesMut,
        _: &FormatOptions,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_slice(self.to_string().as_bytes());
        Ok(IsNull::No)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(value: i128, scale: i8) -> Vec<i16> {
        let mut out = BytesMut::new();
        PgNumeric { value, scale }.write_binary(&mut out);
        out.chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn zero_keeps_its_scale() {
        assert_eq!(binary(0, 6), [0, 0, 0, 6]);
        assert_eq!(binary(0, 0), [0, 0, 0, 0]);
    }

    #[test]
    fn digits_in_base_10000() {
        // 1.500000: one digit 1, one 5000, weight 0, dscale 6.
        assert_eq!(binary(1_500_000, 6), [2, 0, 0, 6, 1, 5000]);
        // 12345.67 → 1 2345 6700
        assert_eq!(binary(1_234_567, 2), [3, 1, 0, 2, 1, 2345, 6700]);
        // -0.00001 → weight -2, digit 1000, negative
        assert_eq!(binary(-1, 5), [1, -2, 0x4000, 5, 1000]);
        // 100.00 → one digit 100, trailing zeros dropped
        assert_eq!(binary(10_000, 2), [1, 0, 0, 2, 100]);
        // 10000 → weight 1, digit 1
        assert_eq!(binary(10_000, 0), [1, 1, 0, 0, 1]);
        // 5 with scale -2 is 500
        assert_eq!(binary(5, -2), [1, 0, 0, 0, 500]);
    }

    #[test]
    fn displays_with_scale() {
        assert_eq!(PgNumeric { value: 0, scale: 6 }.to_string(), "0.000000");
        assert_eq!(
            PgNumeric {
                value: -5,
                scale: 1
            }
            .to_string(),
            "-0.5"
        );
        assert_eq!(
            PgNumeric {
                value: 12,
                scale: 0
            }
            .to_string(),
            "12"
        );
        assert_eq!(
            PgNumeric {
                value: i128::MAX,
                scale: 10
            }
            .to_string(),
            "17014118346046923173168730371.5884105727"
        );
    }
}
