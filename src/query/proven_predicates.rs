//! The physical optimizer rule [`ProvenScanPredicates`]: a Parquet scan does not evaluate a
//! condition that the statistics of every file it reads prove true for all of its rows.
//!
//! The Parquet reader turns each conjunct of a scan's predicate into a row filter: one pass
//! that decodes the conjunct's column for the rows still selected and evaluates it. A time
//! range that covers whole files (the benchmark's month over a month of data, or a week over
//! the day partitions the Delta log left after file skipping) passes every row, yet its two
//! `start_time` passes decoded the column each time (the month's per-account totals: server CPU
//! 320 → 190 ms without them, benches/RESULTS.md). The statistics Delta keeps per file
//! (exact minimum, maximum and null count of the filtered columns, handed to DataFusion with
//! each file) decide it at planning:
//!
//! - `col >= v` (`>`, `<`, `<=`, either side) holds for a file when its minimum (maximum) is
//!   on the right side of `v` and it has no NULL in `col`;
//! - `col IS NOT NULL` holds for a file without NULLs in `col`.
//!
//! A conjunct is dropped only when it holds for every file of the scan. Delta writes timestamp
//! statistics truncated to milliseconds, so a timestamp's maximum is widened by one
//! millisecond first (so is a minimum before 1970); only integer, date, timestamp and decimal columns are
//! compared (string statistics may be truncated prefixes, floats have NaN). When every
//! conjunct is proven, the first one stays, so that the scan keeps a predicate.

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, Result, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::expressions::{BinaryExpr, Column, IsNotNullExpr, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};

use super::scan_predicates::rewrite_scan_predicates;

/// Drops the conjuncts of Parquet scan predicates that the scanned files' statistics prove
/// true; see the [module docs](self).
#[derive(Debug, Default)]
pub struct ProvenScanPredicates;

impl PhysicalOptimizerRule for ProvenScanPredicates {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        rewrite_scan_predicates(plan, |config, conjuncts| {
            let files: Vec<&PartitionedFile> =
                config.file_groups.iter().flat_map(|g| g.iter()).collect();
            let schema = config.file_source.table_schema().table_schema();
            let mut kept: Vec<Arc<dyn PhysicalExpr>> = conjuncts
                .iter()
                .filter(|c| files.is_empty() || !proven(c.as_ref(), schema, &files))
                .map(|c| Arc::clone(c))
                .collect();
            if kept.is_empty() {
                kept.push(Arc::clone(conjuncts[0]));
            }
            kept
        })
    }

    fn name(&self) -> &str {
        "cdrlake_proven_scan_predicates"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Whether `conjunct` is true for every row of every file in `files`.
fn proven(conjunct: &dyn PhysicalExpr, schema: &SchemaRef, files: &[&PartitionedFile]) -> bool {
    if let Some(not_null) = conjunct.downcast_ref::<IsNotNullExpr>() {
        let Some(index) = column_index(not_null.arg().as_ref(), schema) else {
            return false;
        };
        return files
            .iter()
            .all(|f| column_stats(f, index).is_some_and(no_nulls));
    }
    let Some(binary) = conjunct.downcast_ref::<BinaryExpr>() else {
        return false;
    };
    let (index, op, value) = match (
        column_index(binary.left().as_ref(), schema),
        literal(binary.right().as_ref()),
        column_index(binary.right().as_ref(), schema),
        literal(binary.left().as_ref()),
    ) {
        (Some(index), Some(value), _, _) => (index, *binary.op(), value),
        (_, _, Some(index), Some(value)) => match binary.op().swap() {
            Some(op) => (index, op, value),
            None => return false,
        },
        _ => return false,
    };
    let data_type = schema.field(index).data_type();
    if value.is_null() || !comparable(data_type) {
        return false;
    }
    files.iter().all(|f| {
        column_stats(f, index).is_some_and(|stats| no_nulls(stats) && holds(stats, op, value))
    })
}

/// Whether every value between the bounds of `stats` satisfies `value_of_column op value`.
fn holds(stats: &ColumnStatistics, op: Operator, value: &ScalarValue) -> bool {
    let bound = |precision: &Precision<ScalarValue>, upper: bool| match precision {
        Precision::Exact(v) if !v.is_null() => widened(v, upper),
        _ => None,
    };
    let compare = |bound: Option<ScalarValue>| bound.and_then(|b| b.partial_cmp(value));
    match op {
        Operator::GtEq => compare(bound(&stats.min_value, false)).is_some_and(Ordering::is_ge),
        Operator::Gt => compare(bound(&stats.min_value, false)).is_some_and(Ordering::is_gt),
        Operator::LtEq => compare(bound(&stats.max_value, true)).is_some_and(Ordering::is_le),
        Operator::Lt => compare(bound(&stats.max_value, true)).is_some_and(Ordering::is_lt),
        _ => false,
    }
}

/// A bound of a column from its statistic `value`: timestamps are widened by one
/// millisecond, since Delta truncates their statistics to milliseconds (a maximum always, a
/// minimum only below 1970, where truncation rounds up); other values are unchanged. `None`
/// on overflow.
fn widened(value: &ScalarValue, upper: bool) -> Option<ScalarValue> {
    let shift = |v: &Option<i64>, per_milli: i64| match v {
        Some(v) if upper => v.checked_add(per_milli),
        Some(v) if *v < 0 => v.checked_sub(per_milli),
        other => *other,
    };
    Some(match value {
        ScalarValue::TimestampSecond(v, tz) => {
            ScalarValue::TimestampSecond(shift(v, 1), tz.clone())
        }
        ScalarValue::TimestampMillisecond(v, tz) => {
            ScalarValue::TimestampMillisecond(shift(v, 1), tz.clone())
        }
        ScalarValue::TimestampMicrosecond(v, tz) => {
            ScalarValue::TimestampMicrosecond(shift(v, 1_000), tz.clone())
        }
        ScalarValue::TimestampNanosecond(v, tz) => {
            ScalarValue::TimestampNanosecond(shift(v, 1_000_000), tz.clone())
        }
        other => other.clone(),
    })
    .filter(|v| !v.is_null())
}

/// Types whose Delta statistics are exact bounds comparable with a literal.
fn comparable(data_type: &DataType) -> bool {
    data_type.is_integer()
        || matches!(
            data_type,
            DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(
                    TimeUnit::Second
                        | TimeUnit::Millisecond
                        | TimeUnit::Microsecond
                        | TimeUnit::Nanosecond,
                    _
                )
                | DataType::Decimal128(_, _)
        )
}

/// The index in `schema` of `expr` if it is a column of `schema` (same name at that index).
fn column_index(expr: &dyn PhysicalExpr, schema: &SchemaRef) -> Option<usize> {
    let column = expr.downcast_ref::<Column>()?;
    let index = column.index();
    (schema.fields().get(index)?.name() == column.name()).then_some(index)
}

fn literal(expr: &dyn PhysicalExpr) -> Option<&ScalarValue> {
    expr.downcast_ref::<Literal>().map(Literal::value)
}

fn column_stats(file: &PartitionedFile, index: usize) -> Option<&ColumnStatistics> {
    file.statistics.as_ref()?.column_statistics.get(index)
}

fn no_nulls(stats: &ColumnStatistics) -> bool {
    stats.null_count == Precision::Exact(0)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::common::Statistics;
    use datafusion::datasource::physical_plan::{
        FileGroup, FileScanConfigBuilder, FileSource, ParquetSource,
    };
    use datafusion::datasource::source::DataSourceExec;
    use datafusion::execution::object_store::ObjectStoreUrl;
    use datafusion::physical_expr::expressions::{binary, col, is_not_null, lit};
    use datafusion::physical_expr::utils::conjunction;

    use super::*;

    const DAY: i64 = 86_400_000_000;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "t",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("s", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]))
    }

    fn ts(micros: i64) -> ScalarValue {
        ScalarValue::TimestampMicrosecond(Some(micros), Some("UTC".into()))
    }

    /// A file whose `t` spans `[min, max]` (statistics truncated to milliseconds), `s` has
    /// `s_nulls` NULLs, `n` no statistics.
    fn file(name: &str, min: i64, max: i64, s_nulls: usize) -> PartitionedFile {
        let mut stats = Statistics::new_unknown(&schema());
        stats.column_statistics[0] = ColumnStatistics {
            null_count: Precision::Exact(0),
            min_value: Precision::Exact(ts(min)),
            max_value: Precision::Exact(ts(max)),
            ..ColumnStatistics::new_unknown()
        };
        stats.column_statistics[1].null_count = Precision::Exact(s_nulls);
        PartitionedFile::new(name, 100).with_statistics(Arc::new(stats))
    }

    fn scan(
        predicate: Arc<dyn PhysicalExpr>,
        files: Vec<PartitionedFile>,
    ) -> Arc<dyn ExecutionPlan> {
        let source = ParquetSource::new(schema()).with_predicate(predicate);
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
                .with_file_group(FileGroup::new(files))
                .build();
        DataSourceExec::from_data_source(config)
    }

    fn predicate_after(plan: Arc<dyn ExecutionPlan>) -> Result<String> {
        let plan = ProvenScanPredicates.optimize(plan, &ConfigOptions::default())?;
        let exec = plan.downcast_ref::<DataSourceExec>().expect("a scan");
        let (_, source) = exec
            .downcast_to_file_source::<ParquetSource>()
            .expect("parquet");
        Ok(source.filter().map(|p| p.to_string()).unwrap_or_default())
    }

    fn range(low: i64, high: i64) -> Result<Vec<Arc<dyn PhysicalExpr>>> {
        let s = schema();
        Ok(vec![
            binary(col("t", &s)?, Operator::GtEq, lit(ts(low)), &s)?,
            binary(col("t", &s)?, Operator::Lt, lit(ts(high)), &s)?,
        ])
    }

    #[test]
    fn a_range_covering_every_file_is_not_evaluated() -> Result<()> {
        let s = schema();
        let mut conjuncts = range(0, 30 * DAY)?;
        conjuncts.push(is_not_null(col("s", &s)?)?);
        let files = vec![
            file("a", 0, DAY - 1_000, 5),
            file("b", 29 * DAY, 30 * DAY - 2_000, 0),
        ];
        let after = predicate_after(scan(conjunction(conjuncts), files))?;
        assert_eq!(after, "s@1 IS NOT NULL");
        Ok(())
    }

    #[test]
    fn a_range_cutting_into_a_file_stays() -> Result<()> {
        // The upper bound is inside the last file: only the lower bound is proven.
        let files = vec![file("a", 0, DAY, 0), file("b", DAY, 3 * DAY, 0)];
        let after = predicate_after(scan(conjunction(range(0, 2 * DAY)?), files))?;
        assert_eq!(after, format!("t@0 < {}", 2 * DAY));
        // The maximum's statistic is truncated: a maximum within one millisecond of the
        // bound does not prove `t < bound`.
        let files = vec![file("a", 0, DAY - 1_000, 0)];
        let after = predicate_after(scan(conjunction(range(0, DAY)?), files))?;
        assert_eq!(after, format!("t@0 < {DAY}"));
        Ok(())
    }

    #[test]
    fn nulls_or_missing_statistics_keep_a_condition() -> Result<()> {
        let s = schema();
        let not_null = is_not_null(col("s", &s)?)?;
        let in_range = binary(col("n", &s)?, Operator::GtEq, lit(0_i64), &s)?;
        let files = vec![file("a", 0, DAY, 0), file("b", DAY, 2 * DAY, 1)];
        let after = predicate_after(scan(conjunction([not_null, in_range]), files))?;
        assert_eq!(after, "s@1 IS NOT NULL AND n@2 >= 0");
        Ok(())
    }

    #[test]
    fn a_predicate_proven_whole_keeps_its_first_condition() -> Result<()> {
        let s = schema();
        let mut conjuncts = range(0, 30 * DAY)?;
        conjuncts.push(binary(lit(ts(-DAY)), Operator::Lt, col("t", &s)?, &s)?);
        let files = vec![file("a", 0, DAY, 0)];
        let after = predicate_after(scan(conjunction(conjuncts), files))?;
        assert_eq!(after, "t@0 >= 0");
        Ok(())
    }
}
