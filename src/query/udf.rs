//! What the query layer's functions (`timezone`, `to_char`, `interval_mul`, `width_bucket`,
//! `age`, `to_timestamp`…) share: a result that is one value when every argument was, the
//! session's zone, the error of an argument a user got wrong, and their documentation's
//! section.

use arrow::array::ArrayRef;
use chrono_tz::Tz;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, DocSection, DocumentationBuilder};

/// Whether every argument is one value for all rows (a literal).
pub(crate) fn all_scalar(args: &[ColumnarValue]) -> bool {
    args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)))
}

/// `out` as a function's result: its one value when the arguments were all `scalar`, else
/// the column.
pub(crate) fn result(out: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    if scalar {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
    }
    Ok(ColumnarValue::Array(out))
}

/// The session's `TimeZone` in `options` ([`super::time_zone::zone_of`]) as a function's error.
pub(crate) fn session_zone(options: &ConfigOptions) -> Result<Tz> {
    super::time_zone::zone_of(options).map_err(|e| DataFusionError::External(Box::new(e)))
}

/// An argument a user got wrong, `message` saying how (SQLSTATE 22023 on the wire).
pub(crate) fn invalid(message: impl Into<String>) -> DataFusionError {
    DataFusionError::External(Box::new(crate::Error::InvalidArgument(message.into())))
}

/// The documentation of a function in the section `label` of the function list.
pub(crate) fn documentation(
    label: &'static str,
    description: &'static str,
    syntax: &'static str,
) -> DocumentationBuilder {
    let section = DocSection {
        include: true,
        label,
        description: None,
    };
    DocumentationBuilder::new_with_details(section, description, syntax)
}
