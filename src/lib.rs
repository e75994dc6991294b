//! cdrlake: a SQL-queryable engine for call detail records.
//!
//! Data flows through the modules in this order:
//!
//! ```text
//! ingest ──► storage ──► catalog ──► query ──► (serve, export)
//! CSV in     Delta       tables,     SQL
//!            tables      views, udfs sessions
//! ```
//!
//! - [`schema`]: the tables, declared as data in `schemas/tables/`.
//! - [`ingest`]: CSV decoding in any declared format, validation, rejects, batching.
//! - [`storage`]: the store, its Delta tables, atomic deduplicating appends.
//! - [`catalog`]: what a SQL session sees.
//! - [`query`]: building sessions and running statements.
//! - [`serve`]: the PostgreSQL wire protocol server.
//! - [`export`]: results in PostgreSQL's CSV/text forms (COPY, CSV export) and Excel.
//! - [`generate`]: synthetic data for demos, tests and benchmarks.
//! - [`cli`]: the `cdrlake` command line.

// Module docs link the private modules they are built from: the docs are for the people who
// work on cdrlake (`cargo doc --document-private-items`, where those links resolve).
#![allow(rustdoc::private_intra_doc_links)]

pub mod catalog;
pub mod cli;
pub mod config;
pub mod error;
pub mod export;
pub mod generate;
pub mod ingest;
pub mod query;
pub mod schema;
pub mod serve;
pub mod storage;

pub use error::{Error, Result};
