//! Order arguments as the row format's columns, a struct's fields flattened into columns of
//! their own.
//!
//! Arrow's row format encodes a struct by encoding its fields with a second converter, into
//! rows of their own, then copying each row behind a validity byte: two copies and a fresh
//! buffer per batch. `struct(start_time, call_id)` is how the call log orders its rows
//! (`schemas/views/call_log.sql`), so [`GroupFirsts`](super::GroupFirsts) encodes it as the
//! format would a struct, in one pass: a mark column that orders NULL structs first or last as
//! the struct's direction says, then the fields in the struct's direction, NULL on every NULL
//! struct so that NULL structs tie whatever their fields hold. The bytes differ from the
//! struct's encoding; their order is the same.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, make_array};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::row::SortField;
use datafusion::common::Result;

/// The mark column's direction: `false` before `true`; it is never NULL.
const MARK: SortOptions = SortOptions {
    descending: false,
    nulls_first: false,
};

/// Appends the row format's fields for one order argument of type `data_type` sorted in
/// `direction`: none for `Null` (every row ties), the mark and the fields for a struct with
/// fields, else the argument itself.
pub(super) fn sort_fields(data_type: &DataType, direction: SortOptions, out: &mut Vec<SortField>) {
    match data_type {
        DataType::Null => {}
        DataType::Struct(fields) if !fields.is_empty() => {
            out.push(SortField::new_with_options(DataType::Boolean, MARK));
            out.extend(
                fields
                    .iter()
                    .map(|f| SortField::new_with_options(f.data_type().clone(), direction)),
            );
        }
        other => out.push(SortField::new_with_options(other.clone(), direction)),
    }
}

/// Appends the columns [`sort_fields`] describes for `value`, sorted in `direction`.
pub(super) fn columns(
    value: &ArrayRef,
    direction: SortOptions,
    out: &mut Vec<ArrayRef>,
) -> Result<()> {
    let struct_array = match value.data_type() {
        DataType::Null => return Ok(()),
        DataType::Struct(fields) if !fields.is_empty() => value.as_struct(),
        _ => {
            out.push(Arc::clone(value));
            return Ok(());
        }
    };
    let len = struct_array.len();
    let nulls = struct_array.nulls().filter(|n| n.null_count() > 0);
    // NULL structs first: the mark is whether the struct is valid; last: whether it is NULL.
    let mark = match (nulls, direction.nulls_first) {
        (None, true) => BooleanBuffer::new_set(len),
        (None, false) => BooleanBuffer::new_unset(len),
        (Some(nulls), true) => nulls.inner().clone(),
        (Some(nulls), false) => !nulls.inner(),
    };
    out.push(Arc::new(BooleanArray::new(mark, None)));
    for field in struct_array.columns() {
        let Some(nulls) = nulls else {
            out.push(Arc::clone(field));
            continue;
        };
        let masked = field
            .to_data()
            .into_builder()
            .nulls(NullBuffer::union(field.nulls(), Some(nulls)))
            .build()?;
        out.push(make_array(masked));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray, StructArray};
    use datafusion::arrow::datatypes::{Field, Fields};
    use datafusion::arrow::row::RowConverter;

    use super::*;

    /// Every pair of rows orders the same flattened as in the row format's own struct
    /// encoding, in every direction, with NULL structs, NULL fields and ties.
    #[test]
    fn flattened_structs_order_as_the_struct_encoding() {
        let fields = Fields::from(vec![
            Field::new("t", DataType::Int64, true),
            Field::new("id", DataType::Utf8, true),
        ]);
        let t: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(2),
            Some(1),
            None,
            Some(2),
            Some(1),
            Some(7),
            None,
            Some(1),
        ]));
        let id: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            Some("a"),
            Some("a"),
            None,
            Some("a"),
            Some("z"),
            None,
            Some("c"),
        ]));
        let valid = NullBuffer::from(vec![true, true, true, true, false, false, true, true]);
        let with_nulls: ArrayRef = Arc::new(StructArray::new(
            fields.clone(),
            vec![t.clone(), id.clone()],
            Some(valid),
        ));
        let without: ArrayRef = Arc::new(StructArray::new(fields, vec![t, id], None));
        for value in [with_nulls, without] {
            // A slice too: the struct's validity and its fields' offsets must stay aligned.
            for value in [Arc::clone(&value), value.slice(1, 6)] {
                for (descending, nulls_first) in
                    [(false, false), (false, true), (true, false), (true, true)]
                {
                    let direction = SortOptions {
                        descending,
                        nulls_first,
                    };
                    let whole = RowConverter::new(vec![SortField::new_with_options(
                        value.data_type().clone(),
                        direction,
                    )])
                    .expect("struct converter");
                    let expected = whole.convert_columns(&[Arc::clone(&value)]).expect("rows");
                    let mut flat_fields = Vec::new();
                    sort_fields(value.data_type(), direction, &mut flat_fields);
                    let flat = RowConverter::new(flat_fields).expect("flat converter");
                    let mut flat_columns = Vec::new();
                    columns(&value, direction, &mut flat_columns).expect("columns");
                    let got = flat.convert_columns(&flat_columns).expect("rows");
                    for i in 0..value.len() {
                        for j in 0..value.len() {
                            assert_eq!(
                                got.row(i).cmp(&got.row(j)),
                                expected.row(i).cmp(&expected.row(j)),
                                "rows {i}, {j} in {direction:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
