//! `make_timestamp(year, month, day, hour, min, sec)` and `make_timestamptz(…[, zone])`, as in
//! PostgreSQL: a wall-clock time from its fields (seconds with a fraction, rounded to the
//! microsecond), and the instant that wall-clock time is in `zone` or else the session's
//! `TimeZone` (a time a spring-forward night skips takes the offset of before it, a repeated
//! one the offset of after it, as `AT TIME ZONE` reads them). A negative year is a year before
//! the common era (-1 is 1 BC); a field out of range is an error naming the fields (SQLSTATE
//! 22008), as PostgreSQL's is. NULL when any argument is.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use cdrlake_udfs::time::UTC;

use super::text_arg::{Texts, text_type};
use super::time_zone::{instant_of, zone_or_invalid};
use super::to_char::Parsed;

/// `make_timestamp` or `make_timestamptz`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
struct MakeTimestamp {
    signature: Signature,
    /// `make_timestamptz`: the instant, not the wall-clock time.
    instant: bool,
}

/// Both functions, to register in a session.
pub fn udfs() -> [ScalarUDF; 2] {
    [false, true].map(|instant| {
        ScalarUDF::new_from_impl(MakeTimestamp {
            // Stable: make_timestamptz reads the session's zone.
            signature: Signature::user_defined(Volatility::Stable),
            instant,
        })
    })
}

/// A datetime field out of range, as PostgreSQL reports it (SQLSTATE 22008).
fn out_of_range(what: &str, fields: String) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(crate::Error::DatetimeField(format!(
        "{what} field value out of range: {fields}"
    ))))
}

/// The wall-clock time of these fields (PostgreSQL's `make_timestamp_internal`).
fn local(y: i32, m: i32, d: i32, h: i32, mi: i32, sec: f64) -> Result<NaiveDateTime> {
    // chrono counts 1 BC as year 0.
    let year = if y < 0 { y + 1 } else { y };
    let date = u32::try_from(m)
        .ok()
        .zip(u32::try_from(d).ok())
        .filter(|_| y != 0)
        .and_then(|(m, d)| NaiveDate::from_ymd_opt(year, m, d))
        .ok_or_else(|| out_of_range("date", format!("{y}-{m:02}-{d:02}")))?;
    let micros = (sec * 1e6).round();
    // 60 seconds is the next minute (a leap second) and 24:00:00 the next midnight, as in
    // PostgreSQL.
    let in_range = (0..=24).contains(&h) && (0..=59).contains(&mi);
    let past_midnight = h == 24 && (mi > 0 || micros > 0.0);
    if !in_range || past_midnight || !(0.0..=60e6).contains(&micros) {
        return Err(out_of_range("time", format!("{h}:{mi:02}:{sec:02}")));
    }
    let time = i64::from(h) * 3_600_000_000 + i64::from(mi) * 60_000_000 + micros as i64;
    Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::microseconds(time))
}

impl ScalarUDFImpl for MakeTimestamp {
    fn name(&self) -> &str {
        if self.instant {
            "make_timestamptz"
        } else {
            "make_timestamp"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let number = |t: &DataType| t.is_numeric() || t.is_null();
        let fields = types.len().min(6);
        let zone = types.len() == 7 && self.instant;
        if (types.len() != 6 && !zone) || !types[..fields].iter().all(number) {
            return plan_err!(
                "{}(year, month, day, hour, min, sec{}): not {types:?}",
                self.name(),
                if self.instant { "[, zone]" } else { "" }
            );
        }
        let mut coerced = vec![DataType::Int32; 5];
        coerced.push(DataType::Float64);
        if zone {
            coerced.push(text_type(self.name(), "zone", &types[6])?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Microsecond,
            self.instant.then(|| Arc::from(UTC)),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args[..args.args.len().min(6)])?;
        let [y, m, d, h, mi, s] = arrays.as_slice() else {
            return exec_err!("{} takes six fields", self.name());
        };
        let ints = |a| cast(a, &DataType::Int32);
        let (y, m, d, h, mi) = (ints(y)?, ints(m)?, ints(d)?, ints(h)?, ints(mi)?);
        let ints = [y, m, d, h, mi];
        let ints: Vec<_> = ints.iter().map(|a| a.as_primitive::<Int32Type>()).collect();
        let s = cast(s, &DataType::Float64)?;
        let s = s.as_primitive::<Float64Type>();
        let session = match self.instant {
            true => Some(super::udf::session_zone(&args.config_options)?),
            false => None,
        };
        let zones = args.args.get(6).map(Texts::of).transpose()?;
        // A zone column holds few names, in runs: each read once a run.
        let mut named = Parsed::default();
        let mut out = Vec::with_capacity(args.number_rows);
        for r in 0..args.number_rows {
            if ints.iter().any(|a| a.is_null(r)) || s.is_null(r) {
                out.push(None);
                continue;
            }
            let [y, m, d, h, mi] = [0, 1, 2, 3, 4].map(|i| ints[i].value(r));
            let micros = local(y, m, d, h, mi, s.value(r))?
                .and_utc()
                .timestamp_micros();
            let zone = match (&zones, session) {
                (Some(zones), _) => match zones.get(r) {
                    None => {
                        out.push(None);
                        continue;
                    }
                    Some(name) => Some(*named.of(name, zone_or_invalid)?),
                },
                (None, session) => session,
            };
            out.push(Some(match zone {
                None => micros,
                Some(zone) => instant_of(zone, micros)
                    .ok_or_else(|| out_of_range("timestamp", format!("{y}-{m}-{d}")))?,
            }));
        }
        let out = TimestampMicrosecondArray::from(out);
        let out: Arc<dyn Array> = match self.instant {
            true => Arc::new(out.with_timezone(UTC)),
            false => Arc::new(out),
        };
        super::udf::result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<[Documentation; 2]> = LazyLock::new(|| {
            let doc = |syntax, what, example| {
                super::udf::documentation("Time and Date Functions", what, syntax)
                    .with_sql_example(example)
                    .with_argument("year", "The year; negative before the common era.")
                    .with_argument("month", "The month, 1 to 12.")
                    .with_argument("day", "The day of the month.")
                    .with_argument("hour", "The hour, 0 to 23.")
                    .with_argument("min", "The minute, 0 to 59.")
                    .with_argument("sec", "The seconds, with a fraction (0 to 60).")
                    .build()
            };
            [
                doc(
                    "make_timestamp(year, month, day, hour, min, sec)",
                    "The wall-clock time (timestamp without time zone) of these fields.",
                    "```sql\n> select make_timestamp(2026, 11, 24, 9, 30, 15.5);\n2026-11-24 09:30:15.500\n```",
                ),
                doc(
                    "make_timestamptz(year, month, day, hour, min, sec[, zone])",
                    "The instant at which the wall-clock time of these fields is read in zone (an IANA name), or else in the session's TimeZone.",
                    "```sql\n> select make_timestamptz(2026, 11, 24, 9, 30, 0, 'Europe/Amsterdam');\n2026-11-24 08:30:00+00\n```",
                ),
            ]
        });
        let [timestamp, instant] = &*DOCS;
        Some(if self.instant { instant } else { timestamp })
    }
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn fields_as_postgresql_reads_them() {
        let at = |y, m, d, h, mi, s| local(y, m, d, h, mi, s).map(|t| t.to_string());
        assert_eq!(
            at(2024, 2, 29, 23, 59, 59.5).ok().as_deref(),
            Some("2024-02-29 23:59:59.500")
        );
        assert_eq!(
            at(2024, 1, 1, 23, 59, 60.0).ok().as_deref(),
            Some("2024-01-02 00:00:00")
        );
        assert_eq!(
            at(2024, 1, 1, 24, 0, 0.0).ok().as_deref(),
            Some("2024-01-02 00:00:00")
        );
        assert_eq!(
            at(-1, 1, 1, 0, 0, 0.0).ok().as_deref(),
            Some("0000-01-01 00:00:00")
        );
        for bad in [
            at(2023, 2, 29, 0, 0, 0.0),
            at(0, 1, 1, 0, 0, 0.0),
            at(2024, 13, 1, 0, 0, 0.0),
            at(2024, 1, 1, 24, 0, 0.5),
            at(2024, 1, 1, 0, 60, 0.0),
            at(2024, 1, 1, 0, 0, 60.5),
            at(2024, 1, 1, 0, 0, -1.0),
        ] {
            assert!(bad.is_err(), "{bad:?}");
        }
    }
}
