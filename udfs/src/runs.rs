//! Window functions over runs of equal keys: `run_start(key, …)` and
//! `run_count(flag, key, …)`.
//!
//! A *run* is a maximal stretch of consecutive rows of a window partition (in the window's
//! order) whose keys are equal, NULL equal to NULL. Ordering a partition by the keys first
//! makes every run a group: `run_start(source) OVER (PARTITION BY tenant ORDER BY source,
//! start_time)` is `row_number() OVER (PARTITION BY tenant, source ORDER BY start_time) = 1`.
//!
//! They exist for speed. DataFusion's window operators pay per window partition (a slice of
//! the batch and a state entry each) and evaluate a running aggregate row by row; the call
//! log's target logic over `PARTITION BY tenant, source, sales_cycle` has about one partition
//! per two rows and cost ~10 µs a row. These functions keep the partitions coarse (one per
//! tenant) and compute each partition in one vectorised pass over its arrays: the runs come
//! from Arrow's `partition` kernel and the counts from one loop.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Int64Array};
use datafusion::arrow::compute::partition;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};
use datafusion_macros::user_doc;

/// The ranges of the runs of equal `keys` (at least one) among the rows.
fn runs(keys: &[ArrayRef]) -> Result<Vec<std::ops::Range<usize>>> {
    if keys.is_empty() {
        return exec_err!("a run function needs at least one key");
    }
    Ok(partition(keys)?.ranges())
}

#[user_doc(
    doc_section(label = "CDR Window Functions"),
    description = "True on the first row of each run of equal keys, a run being consecutive rows of the window partition, in the window's order, whose keys are all equal (NULL equal to NULL); the first row of a partition is always a start. Ordered by the keys first, a run is a group: run_start(source) OVER (PARTITION BY tenant ORDER BY source, start_time, call_id) is true on each caller's first call. Never NULL.",
    syntax_example = "run_start(key [, key …]) OVER (PARTITION BY … ORDER BY key …, …)",
    sql_example = r#"```sql
> select x, run_start(x) over (order by x, y) from (values (1, 1), (1, 2), (2, 1)) t(x, y);
1 | true
1 | false
2 | true
```"#,
    argument(name = "key", description = "Any type; one or more.")
)]
/// `run_start(key, …)` → `BOOLEAN`: whether the row begins a run of equal keys.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RunStart {
    signature: Signature,
}

impl Default for RunStart {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

#[user_doc(
    doc_section(label = "CDR Window Functions"),
    description = "Number of rows whose flag is true from the start of the current run of equal keys up to and including this row (a running count that restarts with every run; see run_start for runs). A NULL flag counts as false. Ordered by the keys first, it is a running count per group: run_count(is_target, source, sales_cycle) OVER (PARTITION BY tenant ORDER BY source, sales_cycle, start_time, call_id) counts a caller's target calls in the sales cycle so far. Never NULL.",
    syntax_example = "run_count(flag, key [, key …]) OVER (PARTITION BY … ORDER BY key …, …)",
    sql_example = r#"```sql
> select x, run_count(f, x) over (order by x, y) from (values (1, 1, true), (1, 2, true), (2, 1, false)) t(x, y, f);
1 | 1
1 | 2
2 | 0
```"#,
    argument(name = "flag", description = "Boolean: whether the row counts."),
    argument(name = "key", description = "Any type; one or more.")
)]
/// `run_count(flag, key, …)` → `BIGINT`: the running count of true flags within the run.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RunCount {
    signature: Signature,
}

impl Default for RunCount {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// Evaluates [`RunStart`] over a whole partition.
#[derive(Debug)]
struct RunStartEvaluator;

impl PartitionEvaluator for RunStartEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let mut starts = vec![false; num_rows];
        for run in runs(values)? {
            if let Some(first) = starts.get_mut(run.start) {
                *first = true;
            }
        }
        Ok(Arc::new(BooleanArray::from(starts)))
    }
}

/// Evaluates [`RunCount`] over a whole partition.
#[derive(Debug)]
struct RunCountEvaluator;

impl PartitionEvaluator for RunCountEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let Some((flags, keys)) = values.split_first() else {
            return exec_err!("run_count needs a flag argument");
        };
        let flags = flag_array("run_count", flags)?;
        let mut counts = Vec::with_capacity(num_rows);
        for run in runs(keys)? {
            let mut count = 0_i64;
            for row in run {
                count += i64::from(flags.is_valid(row) && flags.value(row));
                counts.push(count);
            }
        }
        Ok(Arc::new(Int64Array::from(counts)))
    }
}

/// Implements [`WindowUDFImpl`] for a window function of this crate without options: name,
/// minimum argument count, result type, evaluator, a check of the arguments' types and
/// (optionally; by default never) whether the result may be NULL, given the arguments.
macro_rules! impl_run_udwf {
    ($ty:ident, $name:literal, min_args: $min:literal, returns: $returns:expr,
     evaluator: $evaluator:expr, check: $check:expr) => {
        $crate::runs::impl_run_udwf!($ty, $name, min_args: $min, returns: $returns,
            evaluator: $evaluator, check: $check, nullable: |_| false);
    };
    ($ty:ident, $name:literal, min_args: $min:literal, returns: $returns:expr,
     evaluator: $evaluator:expr, check: $check:expr, nullable: $nullable:expr) => {
        impl WindowUDFImpl for $ty {
            fn name(&self) -> &str {
                $name
            }

            fn signature(&self) -> &Signature {
                &self.signature
            }

            fn partition_evaluator(
                &self,
                _args: PartitionEvaluatorArgs,
            ) -> Result<Box<dyn PartitionEvaluator>> {
                Ok(Box::new($evaluator))
            }

            fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
                let inputs = args.input_fields();
                if inputs.len() < $min {
                    return plan_err!(
                        "{} takes at least {} arguments, got {}",
                        $name,
                        $min,
                        inputs.len()
                    );
                }
                let check: fn(&[FieldRef]) -> Result<()> = $check;
                check(inputs)?;
                let nullable: fn(&[FieldRef]) -> bool = $nullable;
                Ok(Arc::new(Field::new(args.name(), $returns, nullable(inputs))))
            }

            fn documentation(&self) -> Option<&Documentation> {
                self.doc()
            }
        }
    };
}
pub(crate) use impl_run_udwf;

impl_run_udwf!(RunStart, "run_start", min_args: 1, returns: DataType::Boolean,
    evaluator: RunStartEvaluator, check: |_| Ok(()));

impl_run_udwf!(RunCount, "run_count", min_args: 2, returns: DataType::Int64,
    evaluator: RunCountEvaluator, check: |inputs| check_flag("run_count", inputs));

/// Plans a flag argument (the first of `inputs`): BOOLEAN, or NULL for a NULL literal.
pub(crate) fn check_flag(function: &str, inputs: &[FieldRef]) -> Result<()> {
    match inputs.first().map(|f| f.data_type()) {
        Some(DataType::Boolean | DataType::Null) => Ok(()),
        Some(other) => plan_err!("{function}: the flag must be BOOLEAN, not {other}"),
        None => plan_err!("{function} needs a flag argument"),
    }
}

/// The values of a flag argument; a NULL literal (type `Null`) gives all NULLs, which count
/// as false.
pub(crate) fn flag_array(function: &str, flags: &ArrayRef) -> Result<BooleanArray> {
    match flags.as_any().downcast_ref::<BooleanArray>() {
        Some(flags) => Ok(flags.clone()),
        None if flags.data_type() == &DataType::Null => Ok(BooleanArray::new_null(flags.len())),
        None => exec_err!(
            "{function}: the flag must be BOOLEAN, not {}",
            flags.data_type()
        ),
    }
}

/// The window functions of this module.
pub fn window_functions() -> Vec<WindowUDF> {
    vec![
        WindowUDF::new_from_impl(RunStart::default()),
        WindowUDF::new_from_impl(RunCount::default()),
    ]
}
