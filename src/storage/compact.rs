//! Compaction: the files of a partition are merged into as few files of a target size as
//! their bytes need, rewritten in the table's file order (partition, then sort key) with the
//! same writer properties as an append (zstd, page statistics, bloom filters). Each
//! partition is replaced by one Delta commit (`replaceWhere` on the partition value), so a
//! reader sees either the old files or the new ones, never both or neither. The old files
//! stay on disk until [`Store::vacuum`] removes them after a grace period.

use std::collections::BTreeMap;
use std::num::NonZeroU64;
use std::sync::Arc;

use datafusion::logical_expr::{Expr, col};
use datafusion::scalar::ScalarValue;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::protocol::SaveMode;

use super::Store;
use crate::error::{Error, Result};
use crate::schema::TableDef;

/// Key of the commit metadata entry that names the cdrlake operation behind a commit.
pub const OPERATION_KEY: &str = "cdrlake.operation";

/// Memory the sort of one partition may use before it spills to disk.
const SORT_MEMORY_BYTES: usize = 1 << 30;

/// What compaction did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactOutcome {
    /// Partitions (or, unpartitioned, the whole table) rewritten.
    pub partitions: usize,
    /// Live data files before.
    pub files_before: usize,
    /// Live data files after.
    pub files_after: usize,
    /// Rows rewritten.
    pub rows: u64,
}

/// The live files of one partition.
#[derive(Debug, Default)]
struct PartitionFiles {
    files: usize,
    bytes: u64,
    rows: u64,
}

impl PartitionFiles {
    /// More files than the bytes need at `target` bytes a file.
    fn needs_compaction(&self, target: u64) -> bool {
        let needed = self.bytes.div_ceil(target.max(1)).max(1);
        self.files as u64 > needed
    }
}

/// A partition: its partition column values, as the Delta log stores them (`None` = null).
type PartitionKey = Vec<Option<String>>;

impl Store {
    /// Compacts every partition of `def`'s table that has more files than its size needs at
    /// `target_file_bytes` a file. The caller holds the writer lock.
    pub async fn compact(&self, def: &TableDef, target_file_bytes: u64) -> Result<CompactOutcome> {
        let table = self.table(&def.name).await?;
        let partitions = partition_files(&table, def)?;
        let mut outcome = CompactOutcome {
            files_before: partitions.values().map(|p| p.files).sum(),
            ..Default::default()
        };
        outcome.files_after = outcome.files_before;
        for (key, files) in &partitions {
            if !files.needs_compaction(target_file_bytes) {
                continue;
            }
            let written = self
                .rewrite_partition(def, key, files.rows, target_file_bytes)
                .await?;
            tracing::info!(
                table = %def.name, partition = ?key, files_before = files.files,
                files_after = written, rows = files.rows, "compacted partition"
            );
            outcome.partitions += 1;
            outcome.files_after = outcome.files_after - files.files + written;
            outcome.rows += files.rows;
        }
        Ok(outcome)
    }

    /// Replaces the files of one partition by its rows in file order, in one commit; returns
    /// the number of files written.
    async fn rewrite_partition(
        &self,
        def: &TableDef,
        key: &PartitionKey,
        rows: u64,
        target_file_bytes: u64,
    ) -> Result<usize> {
        let table = self.table(&def.name).await?;
        let arrow_schema = def.arrow_schema();
        let mut predicate: Option<Expr> = None;
        for (column, value) in def.partition_by.iter().zip(key) {
            let field = arrow_schema.field_with_name(column)?;
            let term = match value {
                None => col(column).is_null(),
                Some(v) => {
                    let scalar = ScalarValue::try_from_string(v.clone(), field.data_type())?;
                    col(column).eq(Expr::Literal(scalar, None))
                }
            };
            predicate = Some(match predicate {
                None => term,
                Some(p) => p.and(term),
            });
        }
        // A partition larger than memory is sorted by spilling to disk.
        // One partition: the writer writes each input partition as it comes, so a sort
        // split over several would leave files of interleaved sorted runs.
        let ctx = super::sorted_source::writer_context(SORT_MEMORY_BYTES);
        table
            .update_datafusion_session(&ctx.state())
            .map_err(Error::delta(&def.name))?;
        let mut frame = ctx.read_table(table.table_provider().await?)?;
        if let Some(p) = &predicate {
            frame = frame.filter(p.clone())?;
        }
        let order: Vec<_> = def
            .sort_by
            .iter()
            .map(|c| col(c).sort(true, false))
            .collect();
        if !order.is_empty() {
            frame = frame.sort(order)?;
        }
        let sorted = super::sorted_source::table_of(frame.create_physical_plan().await?)?;
        let plan = ctx.read_table(Arc::new(sorted))?.logical_plan().clone();
        let mut write = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_session_state(Arc::new(ctx.state()))
            .with_save_mode(SaveMode::Overwrite)
            .with_partition_columns(def.partition_by.clone())
            .with_target_file_size(NonZeroU64::new(target_file_bytes))
            .with_writer_properties(super::writer_properties(def, rows as usize))
            .with_commit_properties(CommitProperties::default().with_metadata([(
                OPERATION_KEY.to_string(),
                serde_json::Value::from("compact"),
            )]));
        if let Some(p) = predicate {
            write = write.with_replace_where(p);
        }
        let table = write.await.map_err(Error::delta(&def.name))?;
        self.sync_commit(&def.name, table.version())?;
        let written = partition_files(&table, def)?
            .get(key)
            .map_or(0, |p| p.files);
        Ok(written)
    }
}

/// The live files of `table` grouped by partition.
fn partition_files(
    table: &DeltaTable,
    def: &TableDef,
) -> Result<BTreeMap<PartitionKey, PartitionFiles>> {
    let Ok(snapshot) = table.snapshot() else {
        return Ok(BTreeMap::new());
    };
    let mut partitions: BTreeMap<PartitionKey, PartitionFiles> = BTreeMap::new();
    for file in snapshot.log_data().iter() {
        let values = file.partition_values_map();
        let key = def
            .partition_by
            .iter()
            .map(|c| values.get(c).cloned().flatten())
            .collect();
        let entry = partitions.entry(key).or_default();
        entry.files += 1;
        entry.bytes += u64::try_from(file.size()).unwrap_or(0);
        entry.rows += file.num_records().unwrap_or(0) as u64;
    }
    Ok(partitions)
}

#[cfg(test)]
mod tests {
    use super::PartitionFiles;

    #[test]
    fn compacts_only_partitions_with_more_files_than_bytes_need() {
        let p = |files, bytes| PartitionFiles {
            files,
            bytes,
            rows: 0,
        };
        assert!(!p(1, 10).needs_compaction(100));
        assert!(p(2, 10).needs_compaction(100));
        assert!(!p(2, 150).needs_compaction(100));
        assert!(p(3, 150).needs_compaction(100));
        assert!(!p(0, 0).needs_compaction(100));
    }
}
