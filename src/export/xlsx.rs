//! A query result as an Excel workbook: one sheet, a bold frozen header row, typed cells
//! (numbers, booleans, text; dates and timestamps as Excel dates with a date format;
//! decimals as numbers shown with 2 to 6 decimals; durations as `[h]:mm:ss`; instants at
//! their wall-clock time in the session's `TimeZone`). Rows are
//! streamed through rust_xlsxwriter's constant-memory mode, so memory does not grow with
//! the row count. A result larger than a sheet is an error, not a truncated file; the
//! output appears only when the workbook is complete.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use arrow::datatypes::{
    DataType, Date32Type, DurationSecondType, Float64Type, SchemaRef, TimeUnit,
    TimestampMicrosecondType,
};
use arrow::record_batch::RecordBatch;
use cdrlake_udfs::time::ZoneClock;
use chrono_tz::Tz;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::error::{Error, Result};

/// Rows in an Excel sheet, the header row included.
pub const MAX_SHEET_ROWS: u32 = 1_048_576;
/// Columns in an Excel sheet.
pub const MAX_SHEET_COLUMNS: usize = 16_384;

/// Days from Excel's epoch (1899-12-30) to the Unix epoch.
const EXCEL_UNIX_EPOCH_DAYS: f64 = 25_569.0;
const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// How the cells of one column are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Decimal,
    Boolean,
    Date,
    Timestamp,
    Duration,
}

fn kind_of(ty: &DataType) -> Kind {
    match ty {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64 => Kind::Number,
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Kind::Decimal,
        DataType::Boolean => Kind::Boolean,
        DataType::Date32 | DataType::Date64 => Kind::Date,
        DataType::Timestamp(..) => Kind::Timestamp,
        DataType::Duration(_) => Kind::Duration,
        _ => Kind::Text,
    }
}

/// The cell formats of a workbook.
struct Formats {
    header: Format,
    decimal: Format,
    date: Format,
    timestamp: Format,
    duration: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            decimal: Format::new().set_num_format("#,##0.00####"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            timestamp: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            duration: Format::new().set_num_format("[h]:mm:ss"),
        }
    }
}

/// Writes the rows of `stream` to the workbook `output`, timestamps with time zone as their
/// wall-clock time in `zone` (a sheet's dates have no zone); `progress` is told the number of
/// rows written after each batch. Returns the number of data rows.
pub async fn write(
    mut stream: SendableRecordBatchStream,
    output: &Path,
    zone: Tz,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let schema = stream.schema();
    if schema.fields().len() > MAX_SHEET_COLUMNS {
        return Err(Error::ExcelLimit(format!(
            "the result has {} columns; an Excel sheet holds at most {MAX_SHEET_COLUMNS}",
            schema.fields().len()
        )));
    }
    let xlsx_err = |source: XlsxError| Error::Xlsx {
        path: output.to_path_buf(),
        source,
    };
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_err)?;
    write_header(sheet, &schema, &formats).map_err(xlsx_err)?;
    let mut rows: u64 = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let first = rows + 1;
        let last = rows + batch.num_rows() as u64;
        if last >= u64::from(MAX_SHEET_ROWS) {
            return Err(Error::ExcelLimit(format!(
                "the result has more than {} rows; an Excel sheet holds {MAX_SHEET_ROWS} \
                 rows including the header. Narrow the query or export CSV",
                MAX_SHEET_ROWS - 1
            )));
        }
        write_batch(sheet, &batch, first as u32, zone, &formats).map_err(xlsx_err)?;
        rows = last;
        progress(rows);
    }
    let partial = partial_path(output);
    workbook.save(&partial).map_err(xlsx_err)?;
    std::fs::rename(&partial, output).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Error::Io(e)
    })?;
    Ok(rows)
}

/// Where the workbook is written before it is complete: beside the output, so the final
/// rename is atomic.
fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

fn write_header(
    sheet: &mut Worksheet,
    schema: &SchemaRef,
    formats: &Formats,
) -> std::result::Result<(), XlsxError> {
    for (col, field) in schema.fields().iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, field.name(), &formats.header)?;
        let width = match kind_of(field.data_type()) {
            Kind::Timestamp => 20.0,
            Kind::Date | Kind::Decimal => 12.0,
            _ => (field.name().len() as f64 + 2.0).clamp(8.0, 30.0),
        };
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes `batch` from sheet row `first` on, row by row (constant-memory mode flushes a
/// row once a later one is started, so cells go in row order).
fn write_batch(
    sheet: &mut Worksheet,
    batch: &RecordBatch,
    first: u32,
    zone: Tz,
    formats: &Formats,
) -> std::result::Result<(), XlsxError> {
    let columns: Vec<Column> = batch
        .columns()
        .iter()
        .map(|array| Column::new(array, zone))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| XlsxError::ParameterError(e.to_string()))?;
    for i in 0..batch.num_rows() {
        let row = first + i as u32;
        for (c, column) in columns.iter().enumerate() {
            column.write(sheet, row, c as u16, i, formats)?;
        }
    }
    Ok(())
}

/// A column normalised for writing: numbers as f64, dates as days, timestamps as wall-clock
/// microseconds (those with a time zone in the session's), durations as seconds, anything
/// else as text.
struct Column {
    kind: Kind,
    values: ArrayRef,
}

impl Column {
    fn new(array: &ArrayRef, zone: Tz) -> std::result::Result<Column, arrow::error::ArrowError> {
        let kind = kind_of(array.data_type());
        let target = match kind {
            Kind::Number | Kind::Decimal => DataType::Float64,
            Kind::Boolean => DataType::Boolean,
            Kind::Date => DataType::Date32,
            Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Kind::Duration => DataType::Duration(TimeUnit::Second),
            Kind::Text => DataType::Utf8,
        };
        // An instant's cast keeps its UTC clock: read it in the session's zone instead.
        let values = arrow::compute::cast(array, &target)?;
        let values = match array.data_type() {
            DataType::Timestamp(_, Some(_)) => {
                let mut clock = ZoneClock::new(zone);
                let utc = values.as_primitive::<TimestampMicrosecondType>();
                let local: TimestampMicrosecondArray = utc
                    .iter()
                    .map(|v| v.and_then(|v| clock.local_micros(v)))
                    .collect();
                Arc::new(local) as ArrayRef
            }
            _ => values,
        };
        Ok(Column { kind, values })
    }

    fn write(
        &self,
        sheet: &mut Worksheet,
        row: u32,
        col: u16,
        i: usize,
        formats: &Formats,
    ) -> std::result::Result<(), XlsxError> {
        let v = &self.values;
        if v.is_null(i) {
            return Ok(());
        }
        match self.kind {
            Kind::Text => {
                sheet.write_string(row, col, v.as_string::<i32>().value(i))?;
            }
            Kind::Number => {
                sheet.write_number(row, col, v.as_primitive::<Float64Type>().value(i))?;
            }
            Kind::Decimal => {
                let n = v.as_primitive::<Float64Type>().value(i);
                sheet.write_number_with_format(row, col, n, &formats.decimal)?;
            }
            Kind::Boolean => {
                sheet.write_boolean(row, col, v.as_boolean().value(i))?;
            }
            Kind::Date => {
                let days = f64::from(v.as_primitive::<Date32Type>().value(i));
                let serial = days + EXCEL_UNIX_EPOCH_DAYS;
                sheet.write_number_with_format(row, col, serial, &formats.date)?;
            }
            Kind::Timestamp => {
                let micros = v.as_primitive::<TimestampMicrosecondType>().value(i) as f64;
                let serial = micros / MICROS_PER_DAY + EXCEL_UNIX_EPOCH_DAYS;
                sheet.write_number_with_format(row, col, serial, &formats.timestamp)?;
            }
            Kind::Duration => {
                let secs = v.as_primitive::<DurationSecondType>().value(i) as f64;
                sheet.write_number_with_format(row, col, secs / 86_400.0, &formats.duration)?;
            }
        }
        Ok(())
    }
}
