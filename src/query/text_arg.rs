//! Text arguments of the query layer's functions (`timezone`, `to_char`): their coercion, and
//! their values read once when constant rather than once a row.

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::ColumnarValue;

/// `Utf8` for any text type or NULL, the argument `what` of `function` being `t`; an error
/// naming both otherwise.
pub(crate) fn text_type(function: &str, what: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null => {
            Ok(DataType::Utf8)
        }
        other => plan_err!("{function}: the {what} must be text, not {other}"),
    }
}

/// A text argument: one value for every row (a literal), or a column.
pub(crate) enum Texts {
    /// The same text, or NULL, for every row.
    Constant(Option<String>),
    /// A text per row.
    Column(StringArray),
}

impl Texts {
    /// Reads a coerced text argument.
    pub(crate) fn of(value: &ColumnarValue) -> Result<Texts> {
        Ok(match value {
            ColumnarValue::Scalar(ScalarValue::Utf8(text))
            | ColumnarValue::Scalar(ScalarValue::Utf8View(text))
            | ColumnarValue::Scalar(ScalarValue::LargeUtf8(text)) => Texts::Constant(text.clone()),
            ColumnarValue::Scalar(other) if other.is_null() => Texts::Constant(None),
            ColumnarValue::Scalar(other) => {
                let array: ArrayRef = cast(&other.to_array()?, &DataType::Utf8)?;
                Texts::Constant(
                    array
                        .as_string::<i32>()
                        .iter()
                        .next()
                        .flatten()
                        .map(str::to_owned),
                )
            }
            ColumnarValue::Array(array) => {
                Texts::Column(cast(array, &DataType::Utf8)?.as_string::<i32>().clone())
            }
        })
    }

    /// The text of row `row`, `None` for NULL.
    pub(crate) fn get(&self, row: usize) -> Option<&str> {
        match self {
            Texts::Constant(text) => text.as_deref(),
            Texts::Column(texts) => texts.is_valid(row).then(|| texts.value(row)),
        }
    }
}
