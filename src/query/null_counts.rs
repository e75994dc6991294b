//! `num_nulls(…)` and `num_nonnulls(…)`: how many of the arguments (of any types) are NULL, or
//! not, row by row; never NULL themselves.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, Int32Array};
use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// `num_nulls` or `num_nonnulls`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
struct NullCount {
    signature: Signature,
    /// Count the NULL arguments (else those not NULL).
    nulls: bool,
}

/// Both functions, to register in a session.
pub fn udfs() -> [ScalarUDF; 2] {
    [true, false].map(|nulls| {
        ScalarUDF::new_from_impl(NullCount {
            signature: Signature::variadic_any(Volatility::Immutable),
            nulls,
        })
    })
}

impl ScalarUDFImpl for NullCount {
    fn name(&self) -> &str {
        if self.nulls {
            "num_nulls"
        } else {
            "num_nonnulls"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        if types.is_empty() {
            return plan_err!("{} takes at least one argument", self.name());
        }
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = super::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut nulls = vec![0i32; args.number_rows];
        for array in &arrays {
            if let Some(mask) = array.logical_nulls() {
                for (count, valid) in nulls.iter_mut().zip(mask.iter()) {
                    *count += i32::from(!valid);
                }
            }
        }
        let total = i32::try_from(arrays.len()).unwrap_or(i32::MAX);
        let counts: Int32Array = if self.nulls {
            nulls.into()
        } else {
            nulls
                .into_iter()
                .map(|n| total - n)
                .collect::<Vec<_>>()
                .into()
        };
        super::udf::result(Arc::new(counts), scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<[Documentation; 2]> = LazyLock::new(|| {
            let doc = |syntax, what, example| {
                super::udf::documentation("Conditional Functions", what, syntax)
                    .with_sql_example(example)
                    .with_argument("value", "Values of any types.")
                    .build()
            };
            [
                doc(
                    "num_nulls(value, ...)",
                    "How many of the arguments are NULL.",
                    "```sql\n> select num_nulls(1, NULL, 'a');\n1\n```",
                ),
                doc(
                    "num_nonnulls(value, ...)",
                    "How many of the arguments are not NULL.",
                    "```sql\n> select num_nonnulls(1, NULL, 'a');\n2\n```",
                ),
            ]
        });
        let [nulls, nonnulls] = &*DOCS;
        Some(if self.nulls { nulls } else { nonnulls })
    }
}
