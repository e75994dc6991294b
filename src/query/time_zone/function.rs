//! `timezone(zone, ts)`, PostgreSQL's function behind `ts AT TIME ZONE zone`.
//!
//! Both directions of PostgreSQL's operator:
//! - an instant (`timestamptz`) gives its wall-clock time in `zone`, a `timestamp` without
//!   time zone: `TIMESTAMPTZ '2026-11-01 23:30:00+00' AT TIME ZONE 'Europe/Amsterdam'` is
//!   `2026-11-02 00:30:00`;
//! - a wall-clock time (`timestamp`) gives the instant it is in `zone`: `TIMESTAMP
//!   '2026-11-02 00:30:00' AT TIME ZONE 'Europe/Amsterdam'` is `2026-11-01 23:30:00+00`. As
//!   PostgreSQL reads such times, one skipped by a spring-forward night takes the offset of
//!   before the change, and one repeated by a fall-back night the offset of after it (the
//!   later instant).
//!
//! A `date` or an untyped literal is a `timestamptz` to PostgreSQL here: midnight, or the text,
//! in the session's zone ([`super::SessionTimeZone`]), then its wall-clock time in `zone`.
//!
//! DataFusion's own `AT TIME ZONE` only relabels an instant's zone, so the instant prints
//! unchanged; [`super::rewrite`] plans the operator as this function. Zones are IANA names,
//! matched without regard to case as PostgreSQL does; a zone per row works too (`start_time AT
//! TIME ZONE s.timezone` over a join with `settings`). Values are microseconds, PostgreSQL's
//! precision.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, LocalResult, Offset, TimeZone};
use chrono_tz::Tz;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use cdrlake_udfs::time::{UTC, ZoneClock};

use crate::query::text_arg::{Texts, text_type};

/// The function's name, PostgreSQL's.
pub const NAME: &str = "timezone";

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// `timezone(zone, ts)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Timezone {
    signature: Signature,
}

impl Default for Timezone {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// An instant's type: microseconds, labelled UTC as every stored `timestamptz` is.
fn instant() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(UTC)))
}

/// A wall-clock time's type: microseconds, no zone.
fn wall_clock() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

impl ScalarUDFImpl for Timezone {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [zone, ts] = types else {
            return plan_err!("{NAME}(zone, timestamp) takes two arguments");
        };
        let zone = text_type(NAME, "zone", zone)?;
        let ts = match ts {
            DataType::Timestamp(_, None) => wall_clock(),
            // PostgreSQL reads a date, and an untyped literal, as a timestamptz: the session's
            // rule reads them in its zone.
            DataType::Timestamp(_, Some(_))
            | DataType::Date32
            | DataType::Date64
            | DataType::Utf8
            | DataType::Utf8View
            | DataType::LargeUtf8
            | DataType::Null => instant(),
            other => return plan_err!("{NAME}: expected a timestamp, got {other}"),
        };
        Ok(vec![zone, ts])
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        match types.get(1) {
            Some(DataType::Timestamp(_, Some(_))) => Ok(wall_clock()),
            Some(DataType::Timestamp(_, None)) => Ok(instant()),
            other => plan_err!("{NAME}: expected a timestamp, got {other:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [zone, ts] = args.args.as_slice() else {
            return plan_err!("{NAME}(zone, timestamp) takes two arguments");
        };
        let scalar = crate::query::udf::all_scalar(&args.args);
        let zones = Texts::of(zone)?;
        let ts = ts.to_array(rows)?;
        let to_wall_clock = matches!(ts.data_type(), DataType::Timestamp(_, Some(_)));
        // An instant's value is UTC whatever its label: the cast keeps it.
        let values = cast(&ts, &wall_clock())?;
        let values = values.as_primitive::<TimestampMicrosecondType>();
        let mut clocks = Clocks::default();
        let out = (0..values.len())
            .map(|r| {
                let Some(name) = zones.get(r).filter(|_| values.is_valid(r)) else {
                    return Ok(None);
                };
                let (tz, clock) = clocks.get(name)?;
                let value = values.value(r);
                Ok(if to_wall_clock {
                    clock.local_micros(value)
                } else {
                    instant_of(tz, value)
                })
            })
            .collect::<Result<TimestampMicrosecondArray>>()?;
        let out: ArrayRef = if to_wall_clock {
            Arc::new(out)
        } else {
            Arc::new(out.with_timezone(UTC))
        };
        crate::query::udf::result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            crate::query::udf::documentation("Time and Date Functions", "PostgreSQL's timezone(zone, ts), which `ts AT TIME ZONE zone` calls: the wall-clock time in zone of an instant (timestamptz, or a date at midnight in the session's zone → timestamp), or the instant of a wall-clock time in zone (timestamp → timestamptz; a time skipped by a spring-forward night takes the offset of before it, a repeated one the offset of after it). zone is an IANA name, in any case.",
                "timezone(zone, ts)",
            )
            .with_sql_example(
                "```sql\n> select timezone('Europe/Amsterdam', TIMESTAMPTZ '2026-11-01 23:30:00+00');\n2026-11-02 00:30:00\n```",
            )
            .with_argument("zone", "IANA time zone name, e.g. Europe/Amsterdam.")
            .with_argument("ts", "An instant (timestamptz or date), or a wall-clock timestamp.")
            .build()
        });
        Some(&DOC)
    }
}

/// The instant whose wall-clock time in `tz` is `local` (microseconds of the local calendar),
/// by PostgreSQL's rules for skipped and repeated times; `None` outside chrono's range.
pub fn instant_of(tz: Tz, local: i64) -> Option<i64> {
    let naive = DateTime::from_timestamp_micros(local)?.naive_utc();
    let offset = match tz.from_local_datetime(&naive) {
        LocalResult::Single(at) => return Some(at.timestamp_micros()),
        // Repeated: the offset of after the change, which gives the later instant.
        LocalResult::Ambiguous(_, later) => return Some(later.timestamp_micros()),
        // Skipped: the offset of before the change (no zone changes twice within a day).
        LocalResult::None => tz
            .offset_from_utc_datetime(&(naive - chrono::Duration::microseconds(DAY_MICROS)))
            .fix()
            .local_minus_utc(),
    };
    local.checked_sub(i64::from(offset) * 1_000_000)
}

/// The IANA zone `name` names, in any case (`europe/amsterdam`), as PostgreSQL matches them.
pub fn zone_named(name: &str) -> Option<Tz> {
    name.parse().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
            .copied()
    })
}

/// The IANA zone `name` names, or PostgreSQL's error for a name that is none (SQLSTATE 22023).
pub fn zone_or_invalid(name: &str) -> Result<Tz> {
    zone_named(name)
        .ok_or_else(|| crate::query::udf::invalid(format!("time zone \"{name}\" not recognized")))
}

/// The clocks of the zones met, each parsed once; the last one used is looked at first (a
/// literal zone, or a column of few zones in runs).
#[derive(Default)]
struct Clocks {
    zones: Vec<(String, Tz, ZoneClock)>,
    last: usize,
}

impl Clocks {
    fn get(&mut self, name: &str) -> Result<(Tz, &mut ZoneClock)> {
        let found = match self.zones.get(self.last) {
            Some((last, ..)) if last == name => Some(self.last),
            _ => self.zones.iter().position(|(known, ..)| known == name),
        };
        self.last = match found {
            Some(i) => i,
            None => {
                let tz = zone_or_invalid(name)?;
                self.zones.push((name.to_owned(), tz, ZoneClock::new(tz)));
                self.zones.len() - 1
            }
        };
        match self.zones.get_mut(self.last) {
            Some((_, tz, clock)) => Ok((*tz, clock)),
            None => plan_err!("{NAME}: zone {name} lost"),
        }
    }
}
