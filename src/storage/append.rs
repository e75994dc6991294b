//! Appending a batch to a table as one atomic Delta commit: rows whose unique key is already
//! stored are skipped (counted as duplicates), the rest are sorted into the table's file order
//! and written as zstd Parquet with statistics and the table's bloom filters.
//!
//! The commit declares the table version its deduplication read: it succeeds only if no
//! other commit landed on the table since (Delta's optimistic concurrency with no automatic
//! retry, since Delta would otherwise see two appends as independent). When another writer
//! did commit meanwhile, the append reads the table again and deduplicates anew, so two
//! writers appending the same call store it once even without the writer lock.
//!
//! A writer that appends batch after batch ([`Store::append_known`]) keeps the hashes of the
//! stored keys in memory ([`KnownKeys`]): a batch whose keys are all new skips the query that
//! reads every stored key, and is sorted into file order directly ([`file_order`]).

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::{CommitProperties, TransactionError};
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableError};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::Store;
use crate::error::{Error, Result};
use crate::schema::TableDef;

mod file_order;
mod known_keys;

pub use known_keys::KnownKeys;

/// What one append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendOutcome {
    /// Rows written.
    pub stored: u64,
    /// Rows skipped because their unique key was already stored.
    pub duplicates: u64,
    /// Table version created by the commit (`None` when nothing was new).
    pub version: Option<u64>,
}

/// zstd level: 3 is zstd's default, a good ratio at ingest speed.
const ZSTD_LEVEL: i32 = 3;
/// Rows per row group: large groups compress well; statistics are also kept per page.
const ROW_GROUP_ROWS: usize = 256 * 1024;
/// Rows per data page of a table with bloom filters (the tables of point look-ups): a look-up
/// decompresses, in every column it returns, only the page that holds the row (the page index
/// locates it), so small pages make it cheap; parquet's default is 20,000 rows.
const LOOKUP_PAGE_ROWS: usize = 4096;
/// Largest dictionary page of a column chunk in a table with bloom filters: past it the writer
/// stores the chunk's further values plainly. A look-up decodes the dictionary of every
/// column it returns along with the one data page that holds the row; parquet's default
/// (1 MiB) let the nearly distinct columns (numbers, times, session ids) carry 0.2–0.4 MB
/// compressed dictionaries per row group, most of a look-up's bytes. Columns of few values
/// (tenant, status, codes) stay far below it.
const LOOKUP_DICTIONARY_PAGE_BYTES: usize = 64 * 1024;
/// False-positive rate of the bloom filters.
const BLOOM_FPP: f64 = 0.01;
/// Times an append reads, deduplicates and commits again after losing a race to another
/// writer's commit, before it gives up.
const APPEND_ATTEMPTS: u32 = 20;

/// Parquet settings for a table: zstd, page statistics, bloom filters on the declared
/// columns sized for `rows` distinct values, small data and dictionary pages when it has bloom
/// filters, and no dictionary for columns of distinct values.
pub fn writer_properties(def: &TableDef, rows: usize) -> WriterProperties {
    let level = ZstdLevel::try_new(ZSTD_LEVEL).unwrap_or_default();
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    if !def.bloom_filters.is_empty() {
        props = props
            .set_data_page_row_count_limit(LOOKUP_PAGE_ROWS)
            .set_dictionary_page_size_limit(LOOKUP_DICTIONARY_PAGE_BYTES);
    }
    for column in &def.distinct_values {
        props = props.set_column_dictionary_enabled(ColumnPath::from(column.as_str()), false);
    }
    for column in &def.bloom_filters {
        let path = ColumnPath::from(column.as_str());
        props = props
            .set_column_bloom_filter_enabled(path.clone(), true)
            .set_column_bloom_filter_fpp(path.clone(), BLOOM_FPP)
            .set_column_bloom_filter_max_ndv(path, rows.clamp(1, ROW_GROUP_ROWS) as u64);
    }
    props.build()
}

impl Store {
    /// Appends `batch` (rows of `def`, unique within the batch) as one commit.
    pub async fn append(&self, def: &TableDef, batch: RecordBatch) -> Result<AppendOutcome> {
        if batch.num_rows() == 0 {
            return Ok(AppendOutcome::default());
        }
        self.append_retrying(def, &batch, None).await
    }

    /// Appends `batch` by one read, deduplication and commit after another until one does not
    /// lose a race to another writer's commit, at most [`APPEND_ATTEMPTS`] times; with
    /// `known`, the hashes of the batch's keys and the stored keys ([`Store::append_known`]).
    async fn append_retrying(
        &self,
        def: &TableDef,
        batch: &RecordBatch,
        mut known: Option<(&[u64], &mut KnownKeys)>,
    ) -> Result<AppendOutcome> {
        for attempt in 1..=APPEND_ATTEMPTS {
            let outcome = match known.as_mut() {
                None => self.append_once(def, batch.clone()).await,
                Some((hashes, keys)) => self.append_known_once(def, batch, hashes, keys).await,
            };
            match outcome {
                Err(Error::Delta { source, .. }) if lost_race(&source) => {
                    tracing::info!(
                        table = %def.name,
                        attempt,
                        "another writer committed since this append read the table; deduplicating again"
                    );
                    // Staggered, so that racing writers do not collide again at once.
                    let pause = 20 * u64::from(attempt) + u64::from(std::process::id() % 50);
                    tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                }
                outcome => return outcome,
            }
        }
        Err(Error::CommitContention {
            table: def.name.clone(),
            attempts: APPEND_ATTEMPTS,
        })
    }

    /// One read, deduplication and commit, failing if another commit lands in between.
    async fn append_once(&self, def: &TableDef, batch: RecordBatch) -> Result<AppendOutcome> {
        let table = self.table(&def.name).await?;
        self.deduplicate_and_commit(def, table, batch).await
    }

    /// Deduplicates `batch` against the rows of `table` (as read) with a query, sorts the new
    /// rows into file order and commits them on top of `table`'s version.
    async fn deduplicate_and_commit(
        &self,
        def: &TableDef,
        table: DeltaTable,
        batch: RecordBatch,
    ) -> Result<AppendOutcome> {
        let incoming = batch.num_rows() as u64;
        let ctx = SessionContext::new();
        let has_rows = has_files(&table);
        ctx.register_table(
            "incoming",
            Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?),
        )?;
        let dedup = has_rows && !def.unique_key.is_empty();
        let numbered = has_rows && def.stored_order.is_some();
        if dedup || numbered {
            register_stored(&ctx, def, &table).await?;
        }
        let sql = new_rows_sql(def, dedup, numbered);
        let new_rows = ctx.sql(&sql).await?.collect().await?;
        let stored: u64 = new_rows.iter().map(|b| b.num_rows() as u64).sum();
        let duplicates = incoming - stored;
        if stored == 0 {
            return Ok(AppendOutcome {
                stored,
                duplicates,
                version: None,
            });
        }
        let version = self.commit_rows(def, table, new_rows, stored).await?;
        Ok(AppendOutcome {
            stored,
            duplicates,
            version,
        })
    }

    /// Writes `rows` (`count` of them, in file order) as one commit on top of `table`'s
    /// version, made durable; the table version it created.
    async fn commit_rows(
        &self,
        def: &TableDef,
        table: DeltaTable,
        rows: Vec<RecordBatch>,
        count: u64,
    ) -> Result<Option<u64>> {
        let table = table
            .write(rows)
            .with_save_mode(SaveMode::Append)
            .with_partition_columns(def.partition_by.clone())
            .with_writer_properties(writer_properties(def, count as usize))
            .with_commit_properties(CommitProperties::default().with_max_retries(0))
            .await
            .map_err(Error::delta(&def.name))?;
        let version = table.version();
        self.sync_commit(&def.name, version)?;
        Ok(version)
    }

    /// Appends `batch` (rows of `def`, unique within the batch) as one commit, as
    /// [`Store::append`] does, for a writer that appends batch after batch: `known` holds the
    /// hashes of the stored keys from one append to the next, so a batch of new keys is
    /// committed without reading the stored keys again, and sorted without a query plan.
    /// A batch with a key that may be stored is deduplicated against the stored rows.
    pub async fn append_known(
        &self,
        def: &TableDef,
        batch: RecordBatch,
        known: &mut KnownKeys,
    ) -> Result<AppendOutcome> {
        if batch.num_rows() == 0 {
            return Ok(AppendOutcome::default());
        }
        if def.stored_order.is_some() {
            known.invalidate();
            return self.append(def, batch).await;
        }
        let hashes = match def.unique_key.is_empty() {
            true => Vec::new(),
            false => known.hash_rows(&known_keys::key_columns(def, &batch)?)?,
        };
        self.append_retrying(def, &batch, Some((&hashes, known)))
            .await
    }

    /// One read, deduplication and commit of [`Store::append_known`].
    async fn append_known_once(
        &self,
        def: &TableDef,
        batch: &RecordBatch,
        hashes: &[u64],
        known: &mut KnownKeys,
    ) -> Result<AppendOutcome> {
        let table = self.table(&def.name).await?;
        let read = table.version();
        if !def.unique_key.is_empty() && !known.covers(read) {
            read_known_keys(def, &table, known).await?;
        }
        let outcome = if known.any_known(hashes) {
            self.deduplicate_and_commit(def, table, batch.clone())
                .await?
        } else {
            let sorted = file_order::sort_into_file_order(def, batch)?;
            let stored = sorted.num_rows() as u64;
            let version = self.commit_rows(def, table, vec![sorted], stored).await?;
            AppendOutcome {
                stored,
                duplicates: 0,
                version,
            }
        };
        // Every key of the batch is stored now (new, or stored before).
        if let Some(version) = outcome.version {
            known.insert(hashes);
            known.advance(Some(version));
        }
        Ok(outcome)
    }
}

/// Whether the table holds any data file.
fn has_files(table: &DeltaTable) -> bool {
    table
        .snapshot()
        .map(|s| s.log_data().num_files() > 0)
        .unwrap_or(false)
}

/// Registers `table`'s rows as `stored` in `ctx`.
async fn register_stored(ctx: &SessionContext, def: &TableDef, table: &DeltaTable) -> Result<()> {
    table
        .update_datafusion_session(&ctx.state())
        .map_err(Error::delta(&def.name))?;
    let provider = table.table_provider().await?;
    ctx.register_table("stored", provider)?;
    Ok(())
}

/// Fills `known` with the hashes of the unique keys of `table`'s rows (as read).
async fn read_known_keys(def: &TableDef, table: &DeltaTable, known: &mut KnownKeys) -> Result<()> {
    known.reset(table.version());
    if !has_files(table) {
        return Ok(());
    }
    let ctx = SessionContext::new();
    register_stored(&ctx, def, table).await?;
    let columns: Vec<String> = def.unique_key.iter().map(|c| quote(c)).collect();
    let sql = format!("SELECT {} FROM stored", columns.join(", "));
    let read = async {
        let rows = ctx.sql(&sql).await?.execute_stream().await?;
        known.insert_stream(rows).await
    };
    let outcome = read.await;
    if outcome.is_err() {
        known.invalidate();
    }
    outcome
}

/// `name` as a quoted SQL identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether a commit failed because another writer committed after this one read the table.
fn lost_race(error: &DeltaTableError) -> bool {
    matches!(
        error,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_)
                    | TransactionError::CommitConflict(_),
            }
    )
}

/// `incoming` minus rows whose key is in `stored`, in file order (partition, then sort key).
/// A table's `stored_order` column is numbered on from the highest stored value (`numbered`:
/// `stored` holds rows), in the order of `incoming`.
fn new_rows_sql(def: &TableDef, dedup: bool, numbered: bool) -> String {
    let mut sql = match &def.stored_order {
        None => String::from("SELECT * FROM incoming i"),
        Some(order) => {
            let base = if numbered {
                format!("(SELECT coalesce(max({}), 0) FROM stored)", quote(order))
            } else {
                "0".to_string()
            };
            let columns: Vec<String> = def
                .columns
                .iter()
                .map(|c| match &c.name {
                    name if name == order => {
                        format!("CAST({base} + i.__arrival AS BIGINT) AS {}", quote(name))
                    }
                    name => format!("i.{}", quote(name)),
                })
                .collect();
            // Numbered before anything reorders the rows: input order is arrival order.
            format!(
                "SELECT {} FROM (SELECT *, row_number() OVER () AS __arrival FROM incoming) i",
                columns.join(", ")
            )
        }
    };
    if dedup {
        let on: Vec<_> = def
            .unique_key
            .iter()
            .map(|c| format!("s.{0} = i.{0}", quote(c)))
            .collect();
        sql += &format!(
            " WHERE NOT EXISTS (SELECT 1 FROM stored s WHERE {})",
            on.join(" AND ")
        );
    }
    let order: Vec<_> = def
        .partition_by
        .iter()
        .chain(&def.sort_by)
        .map(|c| quote(c))
        .collect();
    if !order.is_empty() {
        sql += &format!(" ORDER BY {}", order.join(", "));
    }
    sql
}
