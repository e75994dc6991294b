//! `isfinite(x)` of a date, timestamp or interval: true, as cdrlake holds no infinite values
//! (PostgreSQL's `'infinity'`); NULL of NULL. Tools that test for infinities before they
//! compute with a value ask it.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// `isfinite(x)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
struct IsFinite {
    signature: Signature,
}

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(IsFinite {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

impl ScalarUDFImpl for IsFinite {
    fn name(&self) -> &str {
        "isfinite"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        let temporal = |t: &DataType| t.is_temporal() || matches!(t, DataType::Null);
        match types {
            [t] if temporal(t) || matches!(t, DataType::Interval(_)) => Ok(DataType::Boolean),
            _ => plan_err!("isfinite takes a date, timestamp or interval, not {types:?}"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(x) = arrays.first() else {
            return plan_err!("isfinite takes one argument");
        };
        let finite = BooleanArray::new(BooleanBuffer::new_set(x.len()), x.logical_nulls());
        super::udf::result(Arc::new(finite), scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "Time and Date Functions",
                "Whether x is finite: true for every date, timestamp and interval cdrlake holds; NULL when x is.",
                "isfinite(x)",
            )
            .with_sql_example("```sql\n> select isfinite(date '2026-11-24');\ntrue\n```")
            .with_argument("x", "A date, timestamp or interval.")
            .build()
        });
        Some(&DOC)
    }
}
