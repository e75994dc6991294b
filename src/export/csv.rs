//! CSV files in PostgreSQL's dialect (`COPY … TO STDOUT WITH (FORMAT csv, HEADER)`): the same
//! bytes psql's `\copy` writes for the same result, streamed batch by batch to a file that
//! appears under its name only once complete.

use std::io::{BufWriter, Write};
use std::path::Path;

use chrono_tz::Tz;
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;

use super::{CopyFormat, CopyOptions};
use crate::error::{Error, Result};

/// Writes the rows of `stream` to `output` with a header line, timestamps with time zone in
/// `zone`; `progress` is told the number of rows written after each batch. Returns the
/// number of data rows.
pub async fn write(
    mut stream: SendableRecordBatchStream,
    output: &Path,
    zone: Tz,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut options = CopyOptions::new(CopyFormat::Csv);
    options.header = true;
    let partial = output.with_extension("partial");
    let write_err = |source: std::io::Error| Error::WriteFile {
        path: output.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(&partial).map_err(write_err)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    if let Some(header) = options.header_line(&stream.schema()) {
        out.write_all(header.as_bytes()).map_err(write_err)?;
    }
    let mut rows = 0u64;
    let (mut text, mut ends) = (String::new(), Vec::new());
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        text.clear();
        ends.clear();
        options.encode_rows(&batch, zone, &mut text, &mut ends)?;
        out.write_all(text.as_bytes()).map_err(write_err)?;
        rows += batch.num_rows() as u64;
        progress(rows);
    }
    out.flush().map_err(write_err)?;
    out.get_ref().sync_all().map_err(write_err)?;
    std::fs::rename(&partial, output).map_err(write_err)?;
    Ok(rows)
}
