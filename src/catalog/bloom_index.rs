//! Skipping whole files on a point look-up before they are opened.
//!
//! A look-up such as `WHERE call_id = '…'` has no file to skip by statistics: every daily file
//! holds every tenant, so each file's `call_id` min/max spans nearly the whole key space. The
//! Parquet scan then opens every file of the table to consult its row groups' bloom filters,
//! and building a pruning predicate per file costs more than reading the one matching row.
//!
//! [`BloomIndex`] keeps those bloom filters in memory, per data file (files are immutable, so
//! an entry never goes stale), and answers which files may hold the pinned values before the
//! scan is planned; the scan then opens only those. Filters that pin no bloom-filtered column
//! to a finite set of values leave the scan untouched.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use datafusion::common::ScalarValue;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::{
    DefaultParquetFileReaderFactory, ParquetFileReaderFactory,
};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use deltalake::DeltaTable;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::bloom_filter::Sbbf;

use crate::error::{Error, Result};

/// Files whose bloom filters are read at the same time on a cache miss.
const CONCURRENT_LOADS: usize = 8;

/// The values a scan's filters pin one column to: a row can match only if its value is one
/// of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The bloom-filtered column.
    pub column: String,
    /// The values it may take.
    pub values: HashSet<String>,
}

/// The bloom filters of a table's data files, loaded on first use.
#[derive(Debug)]
pub struct BloomIndex {
    /// The table's bloom-filtered columns (SPEC storage hints).
    columns: Vec<String>,
    /// Per data file (path relative to the table root): per column loaded so far, the filter
    /// of each row group, or `None` when some row group has none (the file is always read).
    files: Mutex<HashMap<String, FileFilters>>,
}

/// The bloom filters of one file, per indexed column.
type FileFilters = HashMap<String, Option<Vec<Sbbf>>>;

impl BloomIndex {
    /// An index over `columns` (empty: the index never restricts a scan).
    pub fn new(columns: Vec<String>) -> BloomIndex {
        BloomIndex {
            columns,
            files: Mutex::new(HashMap::new()),
        }
    }

    /// What `filters` (a conjunction) pin the indexed columns to.
    pub fn pins(&self, filters: &[Expr]) -> Vec<Pin> {
        self.columns
            .iter()
            .filter_map(|column| {
                filters
                    .iter()
                    .filter_map(|f| pinned(f, column))
                    .min_by_key(HashSet::len)
                    .map(|values| Pin {
                        column: column.clone(),
                        values,
                    })
            })
            .collect()
    }

    /// The data files of `table`'s loaded version that may hold rows matching every pin, or
    /// `None` when there is no pin (every file must be read). Filters of the pinned columns
    /// not in memory yet are read first. When `newest` (the table's latest version), the
    /// filters of files no longer in it are dropped; an older version (`cdrlake.as_of`)
    /// keeps them, so that alternating old and new scans do not reload the newest files'.
    pub async fn select(
        &self,
        table: &DeltaTable,
        pins: &[Pin],
        newest: bool,
    ) -> Result<Option<Vec<String>>> {
        if pins.is_empty() {
            return Ok(None);
        }
        let snapshot = table.snapshot().map_err(Error::delta("table snapshot"))?;
        let files: Vec<(String, u64)> = snapshot
            .log_data()
            .into_iter()
            .map(|f| (f.path().into_owned(), u64::try_from(f.size()).unwrap_or(0)))
            .collect();
        let store = table.log_store().object_store(None);
        let missing: Vec<(String, u64, Vec<String>)> = {
            let cached = self.lock();
            files
                .iter()
                .filter_map(|(path, size)| {
                    let have = cached.get(path);
                    let columns: Vec<String> = pins
                        .iter()
                        .filter(|pin| have.is_none_or(|f| !f.contains_key(&pin.column)))
                        .map(|pin| pin.column.clone())
                        .collect();
                    (!columns.is_empty()).then(|| (path.clone(), *size, columns))
                })
                .collect()
        };
        let loaded: Vec<(String, FileFilters)> = futures::stream::iter(missing)
            .map(|(path, size, columns)| {
                let store = store.clone();
                async move {
                    let filters = load(store, &path, size, &columns).await?;
                    Ok::<_, Error>((path, filters))
                }
            })
            .buffer_unordered(CONCURRENT_LOADS)
            .try_collect()
            .await?;
        let mut cached = self.lock();
        for (path, filters) in loaded {
            cached.entry(path).or_default().extend(filters);
        }
        if newest {
            let current: HashSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            cached.retain(|path, _| current.contains(path.as_str()));
        }
        Ok(Some(
            files
                .into_iter()
                .filter(|(path, _)| {
                    cached
                        .get(path)
                        .is_none_or(|filters| pins.iter().all(|pin| may_hold(filters, pin)))
                })
                .map(|(path, _)| path)
                .collect(),
        ))
    }

    /// The cache; a panic while it was held leaves it consistent (entries are whole values).
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, FileFilters>> {
        self.files
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads the bloom filters of `columns` in one file: per column, one per row group, or `None`
/// when the column or some row group's filter is missing.
async fn load(
    store: Arc<dyn ObjectStore>,
    path: &str,
    size: u64,
    columns: &[String],
) -> Result<FileFilters> {
    let io = |e| Error::Parquet {
        path: path.to_string(),
        source: e,
    };
    // `AsyncFileReader` is `Send` by its definition; the builder takes the plain trait object.
    let reader: Box<dyn AsyncFileReader> = DefaultParquetFileReaderFactory::new(store)
        .create_reader(
            0,
            PartitionedFile::new(path, size),
            None,
            &ExecutionPlanMetricsSet::new(),
        )?;
    let mut builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(io)?;
    let row_groups = builder.metadata().num_row_groups();
    let mut filters = FileFilters::new();
    for column in columns {
        let index = builder
            .parquet_schema()
            .columns()
            .iter()
            .position(|c| c.path().string() == *column);
        let mut groups = Vec::with_capacity(row_groups);
        if let Some(index) = index {
            for group in 0..row_groups {
                match builder
                    .get_row_group_column_bloom_filter(group, index)
                    .await
                    .map_err(io)?
                {
                    Some(sbbf) => groups.push(sbbf),
                    None => break,
                }
            }
        }
        let complete = index.is_some() && groups.len() == row_groups;
        filters.insert(column.clone(), complete.then_some(groups));
    }
    Ok(filters)
}

/// Whether some row group of a file may hold one of the pin's values.
fn may_hold(filters: &FileFilters, pin: &Pin) -> bool {
    match filters.get(&pin.column) {
        Some(Some(groups)) => groups
            .iter()
            .any(|sbbf| pin.values.iter().any(|v| sbbf.check(v.as_str()))),
        _ => true,
    }
}

/// The finite set of values `expr` restricts `column` to, if it does: `column = 'v'`,
/// `column IN ('v', …)`, an AND with such a side, or an OR whose every branch has one.
fn pinned(expr: &Expr, column: &str) -> Option<HashSet<String>> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::Eq => match (is_column(left, column), is_column(right, column)) {
                (true, false) => string(right).map(|v| HashSet::from([v])),
                (false, true) => string(left).map(|v| HashSet::from([v])),
                _ => None,
            },
            Operator::And => match (pinned(left, column), pinned(right, column)) {
                (Some(l), Some(r)) => Some(l.intersection(&r).cloned().collect()),
                (l, r) => l.or(r),
            },
            Operator::Or => {
                let mut values = pinned(left, column)?;
                values.extend(pinned(right, column)?);
                Some(values)
            }
            _ => None,
        },
        Expr::InList(list) if !list.negated && is_column(&list.expr, column) => {
            list.list.iter().map(string).collect()
        }
        _ => None,
    }
}

fn is_column(expr: &Expr, column: &str) -> bool {
    matches!(expr, Expr::Column(c) if c.name == column)
}

/// The value of a non-null string literal.
fn string(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(v))
            | ScalarValue::Utf8View(Some(v))
            | ScalarValue::LargeUtf8(Some(v)),
            _,
        ) => Some(v.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn set(values: &[&str]) -> Option<HashSet<String>> {
        Some(values.iter().map(|v| v.to_string()).collect())
    }

    #[test]
    fn equality_in_list_and_or_of_pinned_branches_pin_the_column() {
        let eq = col("call_id").eq(lit("a"));
        assert_eq!(pinned(&eq, "call_id"), set(&["a"]));
        assert_eq!(pinned(&lit("a").eq(col("call_id")), "call_id"), set(&["a"]));
        let tenant_and = col("tenant").eq(lit("t1")).and(col("call_id").eq(lit("a")));
        let either = tenant_and.or(col("tenant").eq(lit("t2")).and(col("call_id").eq(lit("b"))));
        assert_eq!(pinned(&either, "call_id"), set(&["a", "b"]));
        let in_list = col("call_id").in_list(vec![lit("a"), lit("b")], false);
        assert_eq!(pinned(&in_list, "call_id"), set(&["a", "b"]));
        let both = col("call_id").eq(lit("a")).and(in_list.clone());
        assert_eq!(pinned(&both, "call_id"), set(&["a"]));
    }

    #[test]
    fn anything_that_does_not_bound_the_column_pins_nothing() {
        let open_or = col("call_id").eq(lit("a")).or(col("tenant").eq(lit("t")));
        assert_eq!(pinned(&open_or, "call_id"), None);
        let negated = col("call_id").in_list(vec![lit("a")], true);
        assert_eq!(pinned(&negated, "call_id"), None);
        assert_eq!(pinned(&col("call_id").not_eq(lit("a")), "call_id"), None);
        assert_eq!(pinned(&col("call_id").eq(col("source")), "call_id"), None);
        assert_eq!(pinned(&col("source").eq(lit("a")), "call_id"), None);
        let null = Expr::Literal(ScalarValue::Utf8(None), None);
        assert_eq!(pinned(&col("call_id").eq(null), "call_id"), None);
    }
}
