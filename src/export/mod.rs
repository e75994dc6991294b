//! Export: query results in the formats the seeds offer. PostgreSQL's text forms are shared
//! by the server's `COPY … TO STDOUT` and `cdrlake export --format csv`, so a file written
//! either way is the same bytes.
//!
//! - [`pg_text`]: PostgreSQL's text output of each value;
//! - [`copy_format`]: the CSV and text layouts of `COPY`;
//! - [`csv`]: CSV files;
//! - [`xlsx`]: Excel workbooks, streamed row by row in constant memory.

pub mod copy_format;
pub mod csv;
pub mod pg_text;
pub mod xlsx;

pub use copy_format::{CopyFormat, CopyOptions, ForceQuote};
