//! Parquet encoding on several threads. Delta's writer encodes each input partition of its
//! plan on a task of its own and routes rows to files by partition value, one open file per
//! partition value and task. Rows sorted by partition and split into groups of *whole*
//! partitions therefore keep their order within every file while the groups are encoded in
//! parallel; a partition split over two groups would get two files of interleaved runs.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::compute::partition;
use arrow::record_batch::RecordBatch;
use arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::delta_datafusion::create_session_state_with_spill_config;

use crate::error::{Error, Result};

/// Most Parquet writers of one append.
const MAX_WRITERS: usize = 4;

/// Writers for an append: one per core, within [`MAX_WRITERS`].
pub fn writers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WRITERS)
}

/// Splits `batches`, sorted by the partition columns `columns`, into at most `groups` groups
/// of about equal rows, never splitting a partition. Without partition columns there is one
/// group.
pub fn group_by_partition(
    batches: Vec<RecordBatch>,
    columns: &[String],
    groups: usize,
) -> Result<Vec<Vec<RecordBatch>>> {
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let Some(schema) = batches.first().map(RecordBatch::schema) else {
        return Ok(vec![batches]);
    };
    if groups <= 1 || columns.is_empty() || total == 0 {
        return Ok(vec![batches]);
    }
    let fields = columns
        .iter()
        .map(|c| {
            Ok(SortField::new(
                schema.field_with_name(c)?.data_type().clone(),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let converter = RowConverter::new(fields)?;
    let target = total.div_ceil(groups);
    let mut out: Vec<Vec<RecordBatch>> = vec![Vec::new()];
    let (mut in_group, mut last): (usize, Option<OwnedRow>) = (0, None);
    for batch in batches {
        let keys = columns
            .iter()
            .map(|c| {
                batch.column_by_name(c).cloned().ok_or_else(|| {
                    Error::InvalidArgument(format!("rows to append lack column {c}"))
                })
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let rows = converter.convert_columns(&keys)?;
        for range in partition(&keys)?.ranges() {
            let key = rows.row(range.start);
            let starts_partition = last.as_ref().is_none_or(|l| l.row() != key);
            if starts_partition {
                if in_group >= target && out.len() < groups {
                    out.push(Vec::new());
                    in_group = 0;
                }
                last = Some(key.owned());
            }
            in_group += range.len();
            if let Some(group) = out.last_mut() {
                group.push(batch.slice(range.start, range.len()));
            }
        }
    }
    Ok(out)
}

/// A plan that scans `groups` as one input partition each, planned by a session (Delta's
/// planner) that keeps exactly that many partitions, so no repartitioning mixes them.
pub fn plan_of(groups: Vec<Vec<RecordBatch>>) -> Result<(LogicalPlan, SessionContext)> {
    let schema = groups
        .iter()
        .flatten()
        .next()
        .map(RecordBatch::schema)
        .ok_or_else(|| Error::InvalidArgument("no rows to write".into()))?;
    let partitions = groups.len();
    let table = MemTable::try_new(schema, groups)?;
    let state = create_session_state_with_spill_config(None, None);
    let config: SessionConfig = state.config().clone().with_target_partitions(partitions);
    let ctx = SessionContext::new_with_state(
        datafusion::execution::SessionStateBuilder::new_from_existing(state)
            .with_config(config)
            .build(),
    );
    let plan = ctx.read_table(Arc::new(table))?.logical_plan().clone();
    Ok((plan, ctx))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Date32Array, Int32Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(dates: &[i32]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("d", DataType::Date32, true),
            Field::new("v", DataType::Int32, false),
        ]));
        let v: Vec<i32> = (0..dates.len() as i32).collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Date32Array::from(dates.to_vec())),
                Arc::new(Int32Array::from(v)),
            ],
        )
        .unwrap()
    }

    fn dates(group: &[RecordBatch]) -> Vec<i32> {
        group
            .iter()
            .flat_map(|b| {
                let d = b.column(0).as_any().downcast_ref::<Date32Array>().unwrap();
                d.values().to_vec()
            })
            .collect()
    }

    /// Groups are whole partitions, in order, about equal in rows; a partition that spans
    /// two batches stays in one group.
    #[test]
    fn groups_hold_whole_partitions_in_order() {
        let batches = vec![
            batch(&[1, 1, 2, 2, 2]),
            batch(&[2, 3, 3]),
            batch(&[4, 4, 4, 5]),
        ];
        let groups = group_by_partition(batches, &["d".into()], 2).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(dates(&groups[0]), [1, 1, 2, 2, 2, 2]);
        assert_eq!(dates(&groups[1]), [3, 3, 4, 4, 4, 5]);
        let one = group_by_partition(vec![batch(&[7, 7, 7])], &["d".into()], 3).unwrap();
        assert_eq!(one.len(), 1);
        let unpartitioned = group_by_partition(vec![batch(&[1, 2])], &[], 2).unwrap();
        assert_eq!(unpartitioned.len(), 1);
    }
}
