//! The crate's error type. Every variant carries the context a user needs to act on it
//! (the file, line, table or value involved); the server maps them to SQLSTATE in one place.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in cdrlake.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A declarative file under `schemas/` (table, format) is malformed.
    #[error("schema file {file}: {message}")]
    SchemaFile {
        /// The file, relative to `schemas/` or as given.
        file: String,
        /// What is wrong with it.
        message: String,
    },

    /// The configuration file is unreadable or invalid.
    #[error("configuration {file}: {message}")]
    Config {
        /// The configuration file.
        file: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// The data location exists but is not a cdrlake store.
    #[error(
        "{location} is not a cdrlake store ({reason}); point --data at a store or at an empty directory"
    )]
    NotAStore {
        /// The data location as given.
        location: String,
        /// Why it was judged not to be a store.
        reason: String,
    },

    /// The data location is a URL whose kind of store cdrlake does not support.
    #[error("--data {location}: {reason}")]
    UnsupportedStore {
        /// The data location as given.
        location: String,
        /// Why that kind of store is refused, and what to use instead.
        reason: String,
    },

    /// `cdrlake.as_of` names an instant older than a table's retained history.
    #[error(
        "table {table} has no history retained as of {at}{}; choose a later cdrlake.as_of",
        oldest.map(|t| format!(" (its oldest retained commit is of {t})")).unwrap_or_default()
    )]
    HistoryNotRetained {
        /// The table.
        table: String,
        /// The instant asked for.
        at: chrono::DateTime<chrono::Utc>,
        /// Time of the oldest commit still in the log.
        oldest: Option<chrono::DateTime<chrono::Utc>>,
    },

    /// The data location has no store yet.
    #[error("no cdrlake store at {location}: ingest data or run `cdrlake serve --demo` first")]
    NoStore {
        /// The data location as given.
        location: String,
    },

    /// An input file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The input file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// The input's header matches no known format, or not the one asked for.
    #[error("{file}: {message}")]
    UnknownFormat {
        /// The input file.
        file: String,
        /// What did not match.
        message: String,
    },

    /// `--strict` ingest found rows it would reject, so nothing of the file was stored.
    #[error(
        "{file}: {rejected} row(s) rejected in strict mode, nothing stored from this file (first: line {first_line}: {first_reason})"
    )]
    StrictRejected {
        /// The input file.
        file: String,
        /// Number of rows that would have been rejected.
        rejected: u64,
        /// Line number of the first bad row.
        first_line: u64,
        /// Reason for the first bad row.
        first_reason: String,
    },

    /// Another process kept the store's writer lock longer than this one would wait.
    #[error(
        "store {location} is locked by another writer ({holder}; lock {lock}): gave up after waiting {waited_s} s; try again when it is done or wait longer with --lock-timeout"
    )]
    Locked {
        /// The data location.
        location: String,
        /// The lock file or object.
        lock: String,
        /// Who holds it, as the holder wrote it (process, host, since when).
        holder: String,
        /// How long this process waited.
        waited_s: u64,
    },

    /// The writer lock of an object store could not be taken or kept.
    #[error("store {location}: writer lock {lock}: {message}")]
    LockObject {
        /// The data location.
        location: String,
        /// The lock object.
        lock: String,
        /// What went wrong.
        message: String,
    },

    /// Other writers kept committing to a table between this append's read and its commit.
    #[error(
        "table {table}: {attempts} attempts to append conflicted with concurrent commits by other writers; try again"
    )]
    CommitContention {
        /// The table appended to.
        table: String,
        /// Attempts made.
        attempts: u32,
    },

    /// A result does not fit an Excel sheet.
    #[error("cannot export to Excel: {0}")]
    ExcelLimit(String),

    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// Writing an Excel workbook failed.
    #[error("cannot write {}: {source}", path.display())]
    Xlsx {
        /// The workbook being written.
        path: PathBuf,
        /// The underlying error.
        source: rust_xlsxwriter::XlsxError,
    },

    /// An invalid argument on the command line or in an API call.
    #[error("{0}")]
    InvalidArgument(String),

    /// A date or time built from fields out of their range (`make_timestamp(2026, 2, 30, …)`).
    #[error("{0}")]
    DatetimeField(String),

    /// A failure in the Delta Lake layer, with the table it concerns.
    #[error("table {table}: {source}")]
    Delta {
        /// The table being read or written.
        table: String,
        /// The underlying error.
        source: deltalake::DeltaTableError,
    },

    /// A Parquet data file could not be read.
    #[error("cannot read Parquet file {path}: {source}")]
    Parquet {
        /// The file, relative to its table.
        path: String,
        /// The reader's error.
        source: parquet::errors::ParquetError,
    },

    /// A failure planning or running SQL.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),

    /// A failure building Arrow data.
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),

    /// A failure of the object store under the data location.
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),

    /// A thread decoding an input failed to start or stopped before the end of the input.
    #[error("{file}: ingest stopped: {message}")]
    DecodeStopped {
        /// The input being decoded.
        file: String,
        /// What went wrong.
        message: String,
    },

    /// Materialized views whose rows could not be stored (each view's error was printed).
    #[error("materialized views not refreshed: {}", .0.join(", "))]
    NotRefreshed(Vec<String>),

    /// Any other I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A [`Error::Delta`] for `table`.
    pub fn delta(table: impl Into<String>) -> impl FnOnce(deltalake::DeltaTableError) -> Error {
        let table = table.into();
        move |source| Error::Delta { table, source }
    }

    /// A [`Error::SchemaFile`] for `file`.
    pub fn schema_file(file: impl Into<String>, message: impl Into<String>) -> Error {
        Error::SchemaFile {
            file: file.into(),
            message: message.into(),
        }
    }
}
