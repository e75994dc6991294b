//! Export: query results in PostgreSQL's text forms. Shared by the server's `COPY … TO
//! STDOUT` and the `cdrlake export` command, so a file written either way is the same bytes.

pub mod copy_format;
pub mod pg_text;

pub use copy_format::{CopyFormat, CopyOptions, ForceQuote};
