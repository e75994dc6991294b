//! Window functions over unordered groups: `first_in_group(order, key, …)` and
//! `first_flag_position(flag, order, key, …)`.
//!
//! Both answer "is this row the group's first?" without sorting. A *group* is the rows of one
//! window partition whose keys are all equal (NULL equal to NULL); a row's place in it is given
//! by its `order` value (one value; `struct(start_time, call_id)` orders by several columns),
//! ascending with NULLs last, as SQL's `ORDER BY` by default. Rows whose `order` ties are
//! told apart by their position in the window partition, which without an `ORDER BY` in the
//! `OVER` clause is arbitrary: make `order` unique (end it with an id) for a deterministic
//! result.
//!
//! They exist for the call log's speed (`schemas/views/call_log.sql`). Its target logic needs,
//! per caller and sales cycle, only the first target call, and its uniqueness per caller only
//! the first call. [`run_start`](crate::runs) and [`run_count`](crate::runs) answer that from a
//! partition sorted by the keys and the order — a full sort of the table per window. These
//! functions are meant for `OVER (PARTITION BY tenant)` with no `ORDER BY`, and need no sort
//! at all: [`GroupFirsts`] numbers the groups with DataFusion's own group-by hash table and
//! keeps each group's least row as the rows stream past, and
//! [`GroupWindowExec`](crate::group_window::GroupWindowExec) evaluates them that way over a
//! hash-partitioned input. Under DataFusion's own window operator (a window with an `ORDER
//! BY`, or a session without [`GroupWindowRule`](crate::group_window::GroupWindowRule)) the
//! same state computes a whole sorted window partition at once.

mod firsts;
mod flat;

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};
use datafusion_macros::user_doc;

pub use firsts::{GroupFirsts, Shape};

use crate::runs::check_flag;

/// The direction of `order`: ascending, NULLs last (SQL's default `ORDER BY`).
pub(crate) const ASCENDING: SortOptions = SortOptions {
    descending: false,
    nulls_first: false,
};

/// One function over a whole window partition: all rows pushed as one batch.
fn evaluate_all(shape: Shape, values: &[ArrayRef]) -> Result<ArrayRef> {
    let types: Vec<DataType> = values.iter().map(|v| v.data_type().clone()).collect();
    let mut firsts = GroupFirsts::new(shape, &types)?;
    firsts.push(values)?;
    let num_rows = values.first().map_or(0, |v| v.len());
    firsts.answers(num_rows, 0)
}

#[user_doc(
    doc_section(label = "CDR Window Functions"),
    description = "True on the first row of each group of the window partition, a group being the rows whose keys are all equal (NULL equal to NULL) and the first the one with the least order value (ascending, NULLs last; use struct(a, b) to order by several columns). Among rows that tie on order, one is first (which one is arbitrary without an ORDER BY in the window). Needs no ORDER BY: first_in_group(struct(start_time, call_id), source) OVER (PARTITION BY tenant) is true on each caller's first call, computed in one hash pass per tenant instead of a sort. Never NULL.",
    syntax_example = "first_in_group(order, key [, key …]) OVER (PARTITION BY …)",
    sql_example = r#"```sql
> select x, y, first_in_group(y, x) over () from (values (1, 2), (1, 1), (2, 5)) t(x, y);
1 | 2 | false
1 | 1 | true
2 | 5 | true
```"#,
    argument(
        name = "order",
        description = "Any comparable type, struct(…) for several columns; the least is first."
    ),
    argument(name = "key", description = "Any type; one or more.")
)]
/// `first_in_group(order, key, …)` → `BOOLEAN`: whether the row is its group's first by `order`.
///
/// The SQL function has one order argument, ascending with NULLs last. [`FirstInGroup::ordered`]
/// makes the form the optimizer rule [`FirstRowPerGroup`](crate::first_row::FirstRowPerGroup)
/// plans instead of a sort: several order arguments, each in the direction of an `ORDER BY`
/// key, before the keys.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FirstInGroup {
    signature: Signature,
    /// The direction of each leading order argument.
    directions: Vec<SortOptions>,
    /// `first_in_group`, or for other directions a name that shows them in plans.
    name: String,
}

impl Default for FirstInGroup {
    fn default() -> Self {
        Self::ordered(vec![ASCENDING])
    }
}

impl FirstInGroup {
    /// `first_in_group(o1, …, on, key, …)`: the first `directions.len()` arguments order the
    /// rows (by the first, ties by the next, …), each in its direction; the rest are the keys.
    /// Named `first_in_group` for one ascending NULLs-last argument (the SQL function), else
    /// `first_in_group[DESC NULLS FIRST, …]`.
    pub fn ordered(directions: Vec<SortOptions>) -> Self {
        let name = if directions == [ASCENDING] {
            "first_in_group".to_owned()
        } else {
            let spelled: Vec<String> = directions
                .iter()
                .map(|d| {
                    let way = if d.descending { "DESC" } else { "ASC" };
                    let nulls = if d.nulls_first { "FIRST" } else { "LAST" };
                    format!("{way} NULLS {nulls}")
                })
                .collect();
            format!("first_in_group[{}]", spelled.join(", "))
        };
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
            directions,
            name,
        }
    }

    /// How it reads its arguments: the order arguments in their directions, the keys.
    pub fn shape(&self) -> Shape {
        Shape {
            name: "first_in_group",
            flag: false,
            directions: self.directions.clone(),
        }
    }
}

#[user_doc(
    doc_section(label = "CDR Window Functions"),
    description = "Where the row stands relative to the first flagged row of its group: -1 before it (or the group has no flagged row), 0 on it, 1 after it. A group is the rows of the window partition whose keys are all equal (NULL equal to NULL); rows are ordered by order (ascending, NULLs last; struct(a, b) orders by several columns), and the first flagged row is the least one whose flag is true. A row whose flag is NULL takes no part: its result is NULL, and it is neither hashed into its group nor compared (the call log passes NULL for calls that are not answered, which have no position to know). Rows that tie on order are told apart by an arbitrary but consistent order. Needs no ORDER BY: first_flag_position(is_target, struct(start_time, call_id), source, sales_cycle) OVER (PARTITION BY tenant) is 0 on a caller's first target call of the sales cycle.",
    syntax_example = "first_flag_position(flag, order, key [, key …]) OVER (PARTITION BY …)",
    sql_example = r#"```sql
> select y, f, first_flag_position(f, y, x) over () from (values (1, 1, false), (1, 2, true), (1, 3, true)) t(x, y, f);
1 | false | -1
2 | true  | 0
3 | true  | 1
```"#,
    argument(
        name = "flag",
        description = "Boolean: whether the row counts; NULL leaves the row out."
    ),
    argument(
        name = "order",
        description = "Any comparable type, struct(…) for several columns."
    ),
    argument(name = "key", description = "Any type; one or more.")
)]
/// `first_flag_position(flag, order, key, …)` → `INT`: -1, 0 or 1 as the row is before, on or
/// after its group's first flagged row.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FirstFlagPosition {
    signature: Signature,
}

impl FirstFlagPosition {
    /// How it reads its arguments: a flag, one ascending order argument, the keys.
    pub fn shape() -> Shape {
        Shape {
            name: "first_flag_position",
            flag: true,
            directions: vec![ASCENDING],
        }
    }
}

impl Default for FirstFlagPosition {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Evaluates [`FirstInGroup`] over a whole partition.
#[derive(Debug)]
struct FirstInGroupEvaluator {
    shape: Shape,
}

impl PartitionEvaluator for FirstInGroupEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        evaluate_all(self.shape.clone(), values)
    }
}

impl WindowUDFImpl for FirstInGroup {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(FirstInGroupEvaluator {
            shape: self.shape(),
        }))
    }

    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let inputs = args.input_fields().len();
        if inputs <= self.directions.len() {
            return plan_err!(
                "{} takes at least {} arguments, got {inputs}",
                self.name,
                self.directions.len() + 1
            );
        }
        Ok(Arc::new(Field::new(args.name(), DataType::Boolean, false)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// Evaluates [`FirstFlagPosition`] over a whole partition.
#[derive(Debug)]
struct FirstFlagPositionEvaluator;

impl PartitionEvaluator for FirstFlagPositionEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], _num_rows: usize) -> Result<ArrayRef> {
        evaluate_all(FirstFlagPosition::shape(), values)
    }
}

// NULL only on a row whose flag is NULL.
crate::runs::impl_run_udwf!(FirstFlagPosition, "first_flag_position", min_args: 3,
    returns: DataType::Int32, evaluator: FirstFlagPositionEvaluator,
    check: |inputs| check_flag("first_flag_position", inputs),
    nullable: |inputs| inputs.first().is_none_or(|flag| flag.is_nullable()));

/// The window functions of this module.
pub fn window_functions() -> Vec<WindowUDF> {
    vec![
        WindowUDF::new_from_impl(FirstInGroup::default()),
        WindowUDF::new_from_impl(FirstFlagPosition::default()),
    ]
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, BooleanArray, Int32Array, Int64Array, StringArray};

    use super::*;

    fn positions(
        flags: &[Option<bool>],
        order: &[Option<i64>],
        keys: &[Option<&str>],
    ) -> Vec<Option<i32>> {
        let values: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(flags.to_vec())),
            Arc::new(Int64Array::from(order.to_vec())),
            Arc::new(StringArray::from(keys.to_vec())),
        ];
        let result = FirstFlagPositionEvaluator
            .evaluate_all(&values, flags.len())
            .expect("evaluates");
        let result = result.as_any().downcast_ref::<Int32Array>().expect("ints");
        result.iter().collect()
    }

    #[test]
    fn groups_larger_than_a_chunk_keep_their_numbers() {
        // 20,000 rows alternating between two keys: each key's least order is its last row.
        let n = 20_000;
        let flags = vec![Some(true); n];
        let order: Vec<Option<i64>> = (0..n).map(|i| Some((n - i) as i64)).collect();
        let keys: Vec<Option<&str>> = (0..n).map(|i| Some(["a", "b"][i % 2])).collect();
        let got = positions(&flags, &order, &keys);
        assert_eq!(got[n - 1], Some(0));
        assert_eq!(got[n - 2], Some(0));
        assert_eq!(got.iter().filter(|&&p| p == Some(0)).count(), 2);
        assert_eq!(got.iter().filter(|&&p| p == Some(1)).count(), n - 2);
    }

    #[test]
    fn null_order_is_last_null_keys_group_together_and_null_flags_take_no_part() {
        let got = positions(
            &[Some(true), Some(true), None, Some(false), Some(false)],
            &[None, Some(5), Some(1), Some(9), Some(2)],
            &[None, None, None, Some("x"), None],
        );
        assert_eq!(got, vec![Some(1), Some(0), None, Some(-1), Some(-1)]);
    }
}

#[cfg(test)]
mod incremental_tests;
