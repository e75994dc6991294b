//! Storage: one Delta Lake table per table definition under the store's root.
//!
//! Fed by ingest (and later COPY and SQL writes), read by the catalog. A store is a directory
//! or object-store prefix holding a marker file (`cdrlake.json`) and one Delta table per
//! table of `schemas/tables/`: `cdrs/` partitioned Hive-style by `call_date`, the others
//! unpartitioned. Each append is one Delta commit, so it is visible entirely or not at all,
//! and readers see a consistent snapshot; a reader that loads the table again sees new commits.

mod append;
mod compact;
mod durable;
mod history;
mod location;
mod lock;
mod materialized;
mod retention;
mod sorted_source;
mod store;
mod time_travel;
mod vacuum;

pub use append::{AppendOutcome, KnownKeys, writer_properties};
pub use compact::{CompactOutcome, OPERATION_KEY};
pub use history::Commit;
pub use location::Location;
pub use lock::WriterLock;
pub use materialized::{MATERIALIZED_DIR, Materialization, Write};
pub use retention::{FOLLOWERS, RetentionReport};
pub use store::{MARKER, Store, file_paths, row_count};
pub use time_travel::CommitTimes;
