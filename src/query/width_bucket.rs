//! `width_bucket(operand, low, high, count)`: the bucket, 1 to `count`, of `count`
//! equal-width buckets from `low` to `high` that `operand` falls in; 0 below the range and
//! `count + 1` at or above its end (a histogram of call durations: `width_bucket(duration_s,
//! 0, 600, 10)`). A range from high to low counts down, as PostgreSQL's does.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, Int32Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::udf::invalid;

/// `width_bucket(operand, low, high, count)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WidthBucket {
    signature: Signature,
}

impl Default for WidthBucket {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for WidthBucket {
    fn name(&self) -> &str {
        "width_bucket"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let number = |t: &DataType| t.is_numeric() || t.is_null();
        match types {
            [o, l, h, c]
                if number(o) && number(l) && number(h) && (c.is_integer() || c.is_null()) =>
            {
                Ok(vec![
                    DataType::Float64,
                    DataType::Float64,
                    DataType::Float64,
                    DataType::Int32,
                ])
            }
            _ => plan_err!("width_bucket(operand, low, high, count): not {types:?}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [operand, low, high, count] = arrays.as_slice() else {
            return exec_err!("width_bucket takes four arguments");
        };
        let floats = |a| cast(a, &DataType::Float64);
        let (operand, low, high) = (floats(operand)?, floats(low)?, floats(high)?);
        let count = cast(count, &DataType::Int32)?;
        let (operand, low, high) = (
            operand.as_primitive::<Float64Type>(),
            low.as_primitive::<Float64Type>(),
            high.as_primitive::<Float64Type>(),
        );
        let count = count.as_primitive::<Int32Type>();
        let mut out = Vec::with_capacity(operand.len());
        for r in 0..operand.len() {
            let valid = [operand.is_valid(r), low.is_valid(r), high.is_valid(r)];
            out.push(if valid.iter().all(|v| *v) && count.is_valid(r) {
                Some(bucket(
                    operand.value(r),
                    low.value(r),
                    high.value(r),
                    count.value(r),
                )?)
            } else {
                None
            });
        }
        let out: Arc<dyn Array> = Arc::new(Int32Array::from(out));
        super::udf::result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation("Math Functions", "The bucket (1 to count) of count equal-width buckets from low to high that operand falls in: 0 below low, count + 1 at or above high; a range from high to low counts down. PostgreSQL's width_bucket for numbers. NULL when any argument is.",
                "width_bucket(operand, low, high, count)",
            )
            .with_sql_example("```sql\n> select width_bucket(125, 0, 600, 10);\n3\n```")
            .with_argument("operand", "The number to place.")
            .with_argument("low", "Where the first bucket starts.")
            .with_argument("high", "Where the last bucket ends.")
            .with_argument("count", "How many buckets, at least 1.")
            .build()
        });
        Some(&DOC)
    }
}

/// PostgreSQL's `width_bucket_float8`.
fn bucket(operand: f64, low: f64, high: f64, count: i32) -> Result<i32> {
    if count <= 0 {
        return Err(invalid("count must be greater than zero"));
    }
    if operand.is_nan() || low.is_nan() || high.is_nan() {
        return Err(invalid(
            "operand, lower bound, and upper bound cannot be NaN",
        ));
    }
    if !low.is_finite() || !high.is_finite() {
        return Err(invalid("lower and upper bounds must be finite"));
    }
    let (below, above, fraction) = if low < high {
        (
            operand < low,
            operand >= high,
            (operand - low) / (high - low),
        )
    } else if low > high {
        (
            operand > low,
            operand <= high,
            (low - operand) / (low - high),
        )
    } else {
        return Err(invalid("lower bound cannot equal upper bound"));
    };
    if below {
        return Ok(0);
    }
    if above {
        return count
            .checked_add(1)
            .ok_or_else(|| invalid("integer out of range"));
    }
    // The fraction may round to 1.0, which would be a lie: the last bucket at most.
    let bucket = (f64::from(count) * fraction) as i32;
    Ok(bucket.min(count - 1) + 1)
}

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn buckets_as_postgresql_counts_them() {
        assert_eq!(bucket(125.0, 0.0, 600.0, 10).ok(), Some(3));
        assert_eq!(bucket(0.0, 0.0, 600.0, 10).ok(), Some(1));
        assert_eq!(bucket(-1.0, 0.0, 600.0, 10).ok(), Some(0));
        assert_eq!(bucket(600.0, 0.0, 600.0, 10).ok(), Some(11));
        assert_eq!(bucket(599.999_999, 0.0, 600.0, 10).ok(), Some(10));
        // Counting down from high to low.
        assert_eq!(bucket(5.35, 10.0, 0.0, 5).ok(), Some(3));
        assert_eq!(bucket(10.0, 10.0, 0.0, 5).ok(), Some(1));
        assert_eq!(bucket(0.0, 10.0, 0.0, 5).ok(), Some(6));
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(bucket(1.0, 0.0, 0.0, 5).is_err());
        assert!(bucket(1.0, 0.0, 10.0, 0).is_err());
        assert!(bucket(f64::NAN, 0.0, 10.0, 3).is_err());
        assert!(bucket(1.0, 0.0, f64::INFINITY, 3).is_err());
    }
}
