//! What the query layer's functions (`timezone`, `to_char`, `interval_mul`, `width_bucket`)
//! share: a result that is one value when every argument was, and their documentation's
//! section.

use arrow::array::ArrayRef;
use datafusion::common::{Result, ScalarValue};
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
