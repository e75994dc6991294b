//! Sorting a batch into a table's file order (partition columns, then sort columns, each
//! ascending with nulls last, as `ORDER BY` sorts them) without a query plan: one comparison
//! of row-encoded sort keys per step and one `take` of the rows.

use arrow::array::UInt32Array;
use arrow::compute::{SortOptions, take_record_batch};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use crate::error::Result;
use crate::schema::TableDef;

/// `batch` (rows of `def`) in file order; rows that tie keep their input order.
pub(super) fn sort_into_file_order(def: &TableDef, batch: &RecordBatch) -> Result<RecordBatch> {
    let names: Vec<&String> = def.partition_by.iter().chain(&def.sort_by).collect();
    if names.is_empty() || batch.num_rows() < 2 {
        return Ok(batch.clone());
    }
    let schema = batch.schema();
    let options = SortOptions {
        descending: false,
        nulls_first: false,
    };
    let mut fields = Vec::with_capacity(names.len());
    let mut columns = Vec::with_capacity(names.len());
    for name in names {
        let i = schema.index_of(name)?;
        fields.push(SortField::new_with_options(
            schema.field(i).data_type().clone(),
            options,
        ));
        columns.push(batch.column(i).clone());
    }
    let rows = RowConverter::new(fields)?.convert_columns(&columns)?;
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    if order
        .windows(2)
        .all(|w| rows.row(w[0] as usize) <= rows.row(w[1] as usize))
    {
        return Ok(batch.clone());
    }
    // Stable: ties stay in input (arrival) order.
    order.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    Ok(take_record_batch(batch, &UInt32Array::from(order))?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, AsArray, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn def() -> TableDef {
        TableDef::parse(
            "t.toml",
            r#"
            name = "t"
            doc = "d"
            partition_by = ["p"]
            sort_by = ["s"]
            [[columns]]
            name = "p"
            type = "text"
            doc = "p"
            [[columns]]
            name = "s"
            type = "int"
            doc = "s"
            [[columns]]
            name = "v"
            type = "text"
            doc = "v"
            "#,
        )
        .unwrap()
    }

    /// Partition, then sort column, ascending, nulls last; ties keep input order.
    #[test]
    fn sorts_like_order_by_and_keeps_ties_in_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("p", DataType::Utf8, true),
            Field::new("s", DataType::Int64, true),
            Field::new("v", DataType::Utf8, true),
        ]));
        let p = StringArray::from(vec![
            Some("b"),
            Some("a"),
            None,
            Some("a"),
            Some("a"),
            Some("b"),
        ]);
        let s = Int64Array::from(vec![Some(1), Some(2), Some(0), None, Some(2), Some(0)]);
        let v = StringArray::from(vec!["0", "1", "2", "3", "4", "5"]);
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(p), Arc::new(s), Arc::new(v)]).unwrap();
        let sorted = sort_into_file_order(&def(), &batch).unwrap();
        let v = sorted.column(2).as_string::<i32>();
        let got: Vec<&str> = (0..v.len()).map(|i| v.value(i)).collect();
        assert_eq!(got, ["1", "4", "3", "5", "0", "2"]);
        // Already in order: returned as it is.
        let again = sort_into_file_order(&def(), &sorted).unwrap();
        assert_eq!(again, sorted);
    }
}
