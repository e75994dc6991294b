//! Accumulates validated rows into Arrow arrays of a table's schema: one typed builder per
//! column, appended row by row as the CSV is decoded, finished into a `RecordBatch`.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::record_batch::RecordBatch;

use super::value::Value;
use crate::error::Result;
use crate::schema::{ColumnType, DECIMAL_PRECISION, DECIMAL_SCALE, TableDef, UTC};

/// One column's builder.
enum ColumnBuilder {
    Text(StringBuilder),
    Int(Int32Builder),
    Bigint(Int64Builder),
    Decimal(Decimal128Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Bool(BooleanBuilder),
}

/// Bytes reserved per row for a text column's values; builders grow beyond it as needed.
const TEXT_BYTES_PER_ROW: usize = 16;

impl ColumnBuilder {
    fn new(ty: ColumnType, rows: usize) -> Self {
        match ty {
            ColumnType::Text => Self::Text(StringBuilder::with_capacity(
                rows,
                rows * TEXT_BYTES_PER_ROW,
            )),
            ColumnType::Int => Self::Int(Int32Builder::with_capacity(rows)),
            ColumnType::Bigint => Self::Bigint(Int64Builder::with_capacity(rows)),
            ColumnType::Decimal => Self::Decimal(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                    .expect("DECIMAL(18,6) is a valid decimal type"),
            ),
            ColumnType::Timestamptz => {
                Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC))
            }
            ColumnType::Date => Self::Date(Date32Builder::with_capacity(rows)),
            ColumnType::Boolean => Self::Bool(BooleanBuilder::with_capacity(rows)),
        }
    }

    /// Appends a value already parsed for this column's type (so the match is total).
    fn append(&mut self, value: &Value<'_>) {
        match (self, value) {
            (Self::Text(b), Value::Text(s)) => b.append_value(s),
            (Self::Int(b), Value::Int(v)) => b.append_value(*v as i32),
            (Self::Bigint(b), Value::Int(v)) => b.append_value(*v),
            (Self::Decimal(b), Value::Decimal(v)) => b.append_value(*v),
            (Self::Timestamp(b), Value::Timestamp(v)) => b.append_value(*v),
            (Self::Date(b), Value::Date(v)) => b.append_value(*v),
            (Self::Bool(b), Value::Bool(v)) => b.append_value(*v),
            (this, _) => this.append_null(),
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Text(b) => b.append_null(),
            Self::Int(b) => b.append_null(),
            Self::Bigint(b) => b.append_null(),
            Self::Decimal(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
            Self::Bool(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Int(b) => Arc::new(b.finish()),
            Self::Bigint(b) => Arc::new(b.finish()),
            Self::Decimal(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
            Self::Bool(b) => Arc::new(b.finish()),
        }
    }
}

/// Rows of one table under construction.
pub struct BatchBuilder {
    table: &'static TableDef,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl BatchBuilder {
    /// An empty batch of `table`.
    pub fn new(table: &'static TableDef) -> Self {
        Self::with_capacity(table, 0)
    }

    /// An empty batch of `table` with room for `rows` rows.
    pub fn with_capacity(table: &'static TableDef, rows: usize) -> Self {
        let columns = table
            .columns
            .iter()
            .map(|c| ColumnBuilder::new(c.ty, rows))
            .collect();
        BatchBuilder {
            table,
            columns,
            rows: 0,
        }
    }

    /// Appends one row; `row[i]` is the value of column `i`, already validated.
    pub fn push(&mut self, row: &[Value<'_>]) {
        for (builder, value) in self.columns.iter_mut().zip(row) {
            builder.append(value);
        }
        self.rows += 1;
    }

    /// Rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was appended since the last [`finish`](Self::finish).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows as a batch of the table's schema; the builder starts over empty.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        self.rows = 0;
        let arrays = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        Ok(RecordBatch::try_new(self.table.arrow_schema(), arrays)?)
    }
}
