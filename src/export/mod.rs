//! Exports: query results written to files in the formats the seeds offer. Fed by query,
//! used by `cdrlake export`.
//!
//! - [`xlsx`]: Excel workbooks, streamed row by row in constant memory.

pub mod xlsx;
