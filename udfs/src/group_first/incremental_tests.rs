//! [`GroupFirsts`] fed batch by batch against a brute-force reference: answers known at push
//! time, answers that wait for the group's final least row, and ties.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Int32Type};

use super::{FirstFlagPosition, FirstInGroup, GroupFirsts, Shape};

/// One test row: flag, order, key.
type Row = (Option<bool>, Option<i64>, Option<&'static str>);

/// A NULL answer, in the vectors the tests compare.
const NULL: i32 = i32::MIN;

/// The reference: per row, -1, 0 or 1 as it is before, on or after its group's least flagged
/// row (order ascending, NULLs last, ties by position); -1 in a group without one; [`NULL`]
/// for a NULL flag.
fn reference(rows: &[Row]) -> Vec<i32> {
    let rank = |i: usize| (rows[i].1.is_none(), rows[i].1.unwrap_or(0), i);
    let least = |key: Option<&str>| {
        (0..rows.len())
            .filter(|&i| rows[i].2 == key && rows[i].0 == Some(true))
            .min_by_key(|&i| rank(i))
    };
    (0..rows.len())
        .map(|i| match least(rows[i].2) {
            _ if rows[i].0.is_none() => NULL,
            None => -1,
            Some(b) => rank(i).cmp(&rank(b)) as i32,
        })
        .collect()
}

/// The state's answers with the rows pushed `batch` at a time and answered `batch` at a time;
/// with `flag` false, the flags are ignored and the answer is 1 on each group's first row.
fn pushed(shape: Shape, rows: &[Row], batch: usize) -> Vec<i32> {
    let types = [DataType::Boolean, DataType::Int64, DataType::Utf8];
    let flag = shape.flag;
    let types = if flag { &types[..] } else { &types[1..] };
    let mut state = GroupFirsts::new(shape, types).expect("state");
    for chunk in rows.chunks(batch) {
        let mut values: Vec<ArrayRef> = vec![
            Arc::new(chunk.iter().map(|r| r.1).collect::<Int64Array>()),
            Arc::new(chunk.iter().map(|r| r.2).collect::<StringArray>()),
        ];
        if flag {
            values.insert(
                0,
                Arc::new(chunk.iter().map(|r| r.0).collect::<BooleanArray>()),
            );
        }
        state.push(&values).expect("pushes");
    }
    let mut answers = Vec::new();
    for (i, chunk) in rows.chunks(batch).enumerate() {
        let got = state.answers(chunk.len(), i * batch).expect("answers");
        if flag {
            answers.extend(
                got.as_primitive::<Int32Type>()
                    .iter()
                    .map(|p| p.unwrap_or(NULL)),
            );
        } else {
            let firsts = got.as_boolean();
            answers.extend((0..firsts.len()).map(|j| i32::from(firsts.value(j))));
        }
    }
    answers
}

fn positions(rows: &[Row], batch: usize) -> Vec<i32> {
    pushed(FirstFlagPosition::shape(), rows, batch)
}

/// Asserts that `rows` pushed in batches of each size in `batches` get `expected` positions.
fn assert_positions(rows: &[Row], expected: &[i32], batches: &[usize]) {
    for &batch in batches {
        assert_eq!(positions(rows, batch), expected, "batch {batch}");
    }
}

/// Rows of three keys (and NULL keys) from a small deterministic generator: orders with many
/// ties and some NULLs, flags true, false and NULL.
fn mixed(n: usize) -> Vec<Row> {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let flag = [Some(true), Some(false), None, Some(false)][(seed % 4) as usize];
            let order = (seed >> 8) % 11;
            let order = (order != 10).then_some(order as i64 % 6);
            let key = [Some("a"), Some("b"), Some("c"), None][((seed >> 16) % 4) as usize];
            (flag, order, key)
        })
        .collect()
}

#[test]
fn descending_input_leaves_every_unflagged_row_to_the_end() {
    // Each row is less than every row before it: no answer of an unflagged row is known until
    // the group's last flagged row has come.
    let rows: Vec<Row> = (0..50)
        .map(|i| {
            (
                Some(i % 7 == 3),
                Some(100 - i),
                Some(["x", "y"][i as usize % 2]),
            )
        })
        .collect();
    assert_positions(&rows, &reference(&rows), &[1, 4, 50]);
    let got = positions(&rows, 8);
    // The least flagged rows: 45 in "y" (odd), 38 in "x" (even); later rows are before them,
    // earlier ones after.
    assert_eq!(got[45], 0);
    assert_eq!(got[38], 0);
    assert_eq!(got[49], -1);
    assert_eq!(got[44], -1);
    assert_eq!(got[36], 1);
}

#[test]
fn a_replaced_least_row_is_after_its_replacement() {
    // Flagged rows of one key, each less than the last: only the last is on the first; an
    // unflagged row between two is before the earlier and after the later.
    let rows: Vec<Row> = vec![
        (Some(true), Some(9), Some("k")),
        (Some(false), Some(7), Some("k")),
        (Some(true), Some(8), Some("k")),
        (Some(true), Some(5), Some("k")),
        (Some(false), Some(6), Some("k")),
        (None, Some(1), Some("k")),
    ];
    assert_positions(&rows, &[1, 1, 1, 0, 1, NULL], &[1, 2, 6]);
}

#[test]
fn ties_go_by_position() {
    // Equal orders: the first flagged row of the tie is on the first, unflagged rows of the
    // tie before it are before, every later one after.
    let rows: Vec<Row> = vec![
        (Some(false), Some(3), Some("k")),
        (Some(true), Some(3), Some("k")),
        (Some(false), Some(3), Some("k")),
        (Some(true), Some(3), Some("k")),
        (Some(false), None, Some("k")),
        (Some(true), None, Some("j")),
        (Some(false), None, Some("j")),
    ];
    assert_positions(&rows, &[-1, 0, 1, 1, 1, 0, 1], &[1, 3, 7]);
}

#[test]
fn mixed_rows_match_the_reference_in_any_batch_size() {
    let rows = mixed(3_000);
    assert_positions(&rows, &reference(&rows), &[1, 7, 1000, 3_000]);
}

#[test]
fn first_in_group_marks_each_groups_least_row_in_any_batch_size() {
    let rows: Vec<Row> = mixed(2_000)
        .into_iter()
        .map(|(_, order, key)| (Some(true), order, key))
        .collect();
    let expected: Vec<i32> = reference(&rows)
        .iter()
        .map(|&p| i32::from(p == 0))
        .collect();
    for batch in [1, 13, 2_000] {
        let got = pushed(FirstInGroup::default().shape(), &rows, batch);
        assert_eq!(got, expected, "batch {batch}");
    }
}
