//! The coercion of a text argument of the query layer's functions (`timezone`, `to_char`).

use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};

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
