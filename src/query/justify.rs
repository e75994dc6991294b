//! PostgreSQL's `justify_hours`, `justify_days` and `justify_interval`: an interval with whole
//! days carried out of its time (`26:00:00` → `1 day 02:00:00`), whole 30-day months out of its
//! days (`35 days` → `1 mon 5 days`), or both, the signs of the parts made to agree. A
//! report's summed talk time reads as days and hours with them:
//! `justify_hours(sum(duration_s * interval '1 second'))`.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, IntervalMonthDayNanoArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

const MONTH_DAY_NANO: DataType = DataType::Interval(IntervalUnit::MonthDayNano);
const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
const DAYS_PER_MONTH: i32 = 30;

/// What a justify function carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Carry {
    /// Days out of the time: `justify_hours`.
    Hours,
    /// Months out of the days: `justify_days`.
    Days,
    /// Both: `justify_interval`.
    Both,
}

/// The three functions, to register in a session.
pub fn udfs() -> [ScalarUDF; 3] {
    [Carry::Hours, Carry::Days, Carry::Both].map(|carry| {
        ScalarUDF::new_from_impl(Justify {
            carry,
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Justify {
    carry: Carry,
    signature: Signature,
}

impl ScalarUDFImpl for Justify {
    fn name(&self) -> &str {
        match self.carry {
            Carry::Hours => "justify_hours",
            Carry::Days => "justify_days",
            Carry::Both => "justify_interval",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [DataType::Interval(_) | DataType::Duration(_) | DataType::Null] => {
                Ok(vec![MONTH_DAY_NANO])
            }
            _ => plan_err!("{}(interval): not {types:?}", self.name()),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(MONTH_DAY_NANO)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [intervals] = arrays.as_slice() else {
            return exec_err!("{} takes one interval", self.name());
        };
        let intervals = cast(intervals, &MONTH_DAY_NANO)?;
        let out: IntervalMonthDayNanoArray = intervals
            .as_primitive::<IntervalMonthDayNanoType>()
            .iter()
            .map(|i| i.map(|i| justify(i, self.carry)))
            .collect();
        super::udf::result(Arc::new(out) as Arc<dyn Array>, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<[Documentation; 3]> = LazyLock::new(|| {
            let doc = |syntax, what, example| {
                super::udf::documentation("Time and Date Functions", what, syntax)
                    .with_sql_example(example)
                    .with_argument("interval", "An interval. NULL gives NULL.")
                    .build()
            };
            [
                doc(
                    "justify_hours(interval)",
                    "The interval with each whole 24 hours of its time carried into days, as PostgreSQL's justify_hours.",
                    "```sql\n> select justify_hours(interval '27 hours');\n1 day 03:00:00\n```",
                ),
                doc(
                    "justify_days(interval)",
                    "The interval with each whole 30 days carried into months, as PostgreSQL's justify_days.",
                    "```sql\n> select justify_days(interval '35 days');\n1 mon 5 days\n```",
                ),
                doc(
                    "justify_interval(interval)",
                    "justify_days of justify_hours, the signs of the parts made to agree, as PostgreSQL's justify_interval.",
                    "```sql\n> select justify_interval(interval '1 mon -1 hour');\n29 days 23:00:00\n```",
                ),
            ]
        });
        let [hours, days, both] = &*DOCS;
        Some(match self.carry {
            Carry::Hours => hours,
            Carry::Days => days,
            Carry::Both => both,
        })
    }
}

/// PostgreSQL's justification of `interval`.
fn justify(interval: IntervalMonthDayNano, carry: Carry) -> IntervalMonthDayNano {
    let IntervalMonthDayNano {
        mut months,
        mut days,
        mut nanoseconds,
    } = interval;
    if carry != Carry::Days {
        let whole = nanoseconds / NANOS_PER_DAY;
        nanoseconds -= whole * NANOS_PER_DAY;
        days = days.saturating_add(i32::try_from(whole).unwrap_or(i32::MAX));
    }
    if carry != Carry::Hours {
        let whole = days / DAYS_PER_MONTH;
        days -= whole * DAYS_PER_MONTH;
        months = months.saturating_add(whole);
        let time_sign = match carry {
            Carry::Both => nanoseconds.signum(),
            _ => 0,
        };
        if months > 0 && (days < 0 || (days == 0 && time_sign < 0)) {
            days += DAYS_PER_MONTH;
            months -= 1;
        } else if months < 0 && (days > 0 || (days == 0 && time_sign > 0)) {
            days -= DAYS_PER_MONTH;
            months += 1;
        }
    }
    if carry != Carry::Days {
        if days > 0 && nanoseconds < 0 {
            nanoseconds += NANOS_PER_DAY;
            days -= 1;
        } else if days < 0 && nanoseconds > 0 {
            nanoseconds -= NANOS_PER_DAY;
            days += 1;
        }
    }
    IntervalMonthDayNano::new(months, days, nanoseconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(months: i32, days: i32, hours: i64) -> IntervalMonthDayNano {
        IntervalMonthDayNano::new(months, days, hours * 3_600_000_000_000)
    }

    #[test]
    fn carries_as_postgresql() {
        // justify_hours('27 hours') = '1 day 03:00:00'
        assert_eq!(justify(iv(0, 0, 27), Carry::Hours), iv(0, 1, 3));
        // justify_days('35 days') = '1 mon 5 days'
        assert_eq!(justify(iv(0, 35, 0), Carry::Days), iv(1, 5, 0));
        // justify_interval('1 mon -1 hour') = '29 days 23:00:00'
        assert_eq!(justify(iv(1, 0, -1), Carry::Both), iv(0, 29, 23));
        // justify_hours('1 day -1 hour') = '23:00:00'
        assert_eq!(justify(iv(0, 1, -1), Carry::Hours), iv(0, 0, 23));
        // justify_days('-35 days') = '-1 mons -5 days'
        assert_eq!(justify(iv(0, -35, 0), Carry::Days), iv(-1, -5, 0));
        // justify_interval('-27 hours') = '-1 days -03:00:00'
        assert_eq!(justify(iv(0, 0, -27), Carry::Both), iv(0, -1, -3));
    }
}
