//! `target_status(status, target_position)`: the call-log status after the target logic (SPEC
//! 3): an `Answered` call becomes `Proper` on its caller-cycle's first target call and
//! `Repeat call` after it; every other status stays as it is.
//!
//! `target_position` is what `first_flag_position(is_target, …)` gives: -1 before the first
//! target call of the group (or in a group without one), 0 on it, 1 after it. The `call_log`
//! view used to spell this as a `CASE` with three string comparisons per row; here the status is
//! compared once per distinct value of the batch and the result is a `take` of the labels.

use datafusion::arrow::array::{ArrayRef, StringViewArray, UInt32Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion_macros::user_doc;

use crate::args::{Arg, Kind, Rows, arg, impl_udf};
use crate::text_ids::{NULL_ID, TextIds};

/// The status the target logic refines (that of `call_status` for a connected call).
pub const ANSWERED: &str = "Answered";
/// The first target call of a caller in a sales cycle.
pub const PROPER: &str = "Proper";
/// An answered call after the caller-cycle's first target call.
pub const REPEAT_CALL: &str = "Repeat call";

/// The labels of an [`ANSWERED`] call, by position: before, on and after the first target
/// call.
pub const ANSWERED_LABELS: [&str; 3] = [ANSWERED, PROPER, REPEAT_CALL];

/// The index in [`ANSWERED_LABELS`] of an answered call at `position`.
fn answered_index(position: i64) -> usize {
    match position {
        ..0 => 0,
        0 => 1,
        _ => 2,
    }
}

/// The label of an [`ANSWERED`] call at `position` (see the module documentation).
pub fn answered_label(position: i64) -> &'static str {
    ANSWERED_LABELS[answered_index(position)]
}

#[user_doc(
    doc_section(label = "CDR Functions"),
    description = "Call-log status after the target logic: a status other than Answered is returned as it is; Answered becomes Answered when target_position is negative (before the caller-cycle's first target call, or no target call), Proper when it is 0 (the first target call) and Repeat call when it is positive (after it). target_position is what first_flag_position(is_target, ...) gives. NULL status gives NULL, and so does Answered with a NULL target_position.",
    syntax_example = "target_status(status, target_position)",
    sql_example = r#"```sql
> select target_status('Answered', 0), target_status('Answered', 1), target_status('Busy', 0);
Proper | Repeat call | Busy
```"#,
    argument(
        name = "status",
        description = "Status before the target logic (call_status)."
    ),
    argument(
        name = "target_position",
        description = "-1 before the first target call, 0 on it, 1 after it."
    )
)]
/// `target_status(status, target_position)` → `TEXT` (as `Utf8View`); see
/// [`answered_label`].
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct TargetStatus;

const ARGS: &[Arg] = &[arg("status", Kind::Text), arg("target_position", Kind::Int)];

impl_udf!(TargetStatus, name: "target_status", args: ARGS, required: 2,
    returns: DataType::Utf8View, strict: false);

impl TargetStatus {
    fn eval(&self, rows: &Rows) -> Result<ArrayRef> {
        let statuses = TextIds::of(&rows.texts(0)?, rows.len());
        let positions = rows.ints(1)?;
        // The batch's distinct statuses, then the three labels of an answered call.
        let distinct = statuses.values.len();
        let answered = statuses.values.iter().position(|s| *s == ANSWERED);
        let labels = StringViewArray::from_iter_values(
            statuses.values.iter().copied().chain(ANSWERED_LABELS),
        );
        let mut valid = Vec::with_capacity(statuses.ids.len());
        let picks: Vec<u32> = statuses
            .ids
            .iter()
            .enumerate()
            .map(|(r, id)| {
                let pick = match *id {
                    NULL_ID => None,
                    // Fewer distinct statuses than rows: the index fits.
                    id if Some(id as usize) == answered => positions
                        .get(r)
                        .map(|p| (distinct + answered_index(p)) as u32),
                    id => Some(id),
                };
                valid.push(pick.is_some());
                pick.unwrap_or_default()
            })
            .collect();
        let nulls = valid.contains(&false).then(|| NullBuffer::from(valid));
        let picks = UInt32Array::new(picks.into(), nulls);
        Ok(take(&labels, &picks, None)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{AsArray, Int64Array};
    use datafusion::logical_expr::ColumnarValue;

    use super::*;

    #[test]
    fn answered_calls_take_their_position() {
        let statuses: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("Answered"),
            Some("Answered"),
            Some("Answered"),
            Some("Busy"),
            None,
            Some("Answered"),
            Some("No answer from a customer (Callback)"),
            Some("answered"),
        ]));
        let positions = Int64Array::from(vec![
            Some(-1),
            Some(0),
            Some(1),
            Some(0),
            Some(0),
            None,
            None,
            Some(0),
        ]);
        let args = [
            ColumnarValue::Array(statuses),
            ColumnarValue::Array(Arc::new(positions)),
        ];
        let got = TargetStatus.eval(&Rows::new(&args, 8).unwrap()).unwrap();
        let got: Vec<_> = got.as_string_view().iter().collect();
        assert_eq!(
            got,
            vec![
                Some("Answered"),
                Some("Proper"),
                Some("Repeat call"),
                Some("Busy"),
                None,
                None,
                Some("No answer from a customer (Callback)"),
                Some("answered"),
            ]
        );
        assert_eq!(answered_label(i64::MIN), ANSWERED);
        assert_eq!(answered_label(i64::MAX), REPEAT_CALL);
    }
}
