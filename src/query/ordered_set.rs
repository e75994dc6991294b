//! PostgreSQL's ordered-set aggregates: `mode() WITHIN GROUP (ORDER BY x)`, the most frequent
//! value (the first in the order among equally frequent ones: "the most called
//! destination"), `percentile_disc(f) WITHIN GROUP (ORDER BY x)`, the first value whose
//! position in the order reaches the fraction `f` of the values, and `percentile_cont(f) WITHIN
//! GROUP (ORDER BY x)`, the value at `f` interpolated between its two neighbours in double
//! precision as PostgreSQL does. DataFusion lacks the first two, and its `percentile_cont`
//! (replaced here) truncates the interpolation weight to millionths: the 95th percentile of
//! call durations read 1108.149999 where PostgreSQL says 1108.15. NULLs are skipped; no values
//! give NULL. Each keeps its group's values until the end, as DataFusion's did.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, new_empty_array};
use arrow::compute::kernels::partition::partition;
use arrow::compute::{SortOptions, concat, filter, is_not_null, sort_to_indices};
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Documentation, Signature,
    Volatility,
};

use super::udf::invalid;

/// Which aggregate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Mode,
    PercentileDisc,
    PercentileCont,
}

/// The aggregates, to register in a session.
pub fn udafs() -> Vec<AggregateUDF> {
    [Kind::Mode, Kind::PercentileDisc, Kind::PercentileCont]
        .into_iter()
        .map(|kind| {
            AggregateUDF::new_from_impl(OrderedSet {
                kind,
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct OrderedSet {
    kind: Kind,
    signature: Signature,
}

impl AggregateUDFImpl for OrderedSet {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Mode => "mode",
            Kind::PercentileDisc => "percentile_disc",
            Kind::PercentileCont => "percentile_cont",
        }
    }

    fn aliases(&self) -> &[String] {
        // DataFusion's other name for its percentile_cont, which would otherwise come back
        // under both names whenever a session is rebuilt from this one.
        static QUANTILE: LazyLock<[String; 1]> = LazyLock::new(|| ["quantile_cont".to_owned()]);
        match self.kind {
            Kind::PercentileCont => QUANTILE.as_slice(),
            _ => &[],
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match (self.kind, types) {
            (Kind::Mode, [value]) => Ok(vec![value.clone()]),
            (Kind::PercentileDisc, [value, f]) if f.is_numeric() || f.is_null() => {
                Ok(vec![value.clone(), DataType::Float64])
            }
            (Kind::PercentileCont, [value, f])
                if (value.is_numeric() || value.is_null()) && (f.is_numeric() || f.is_null()) =>
            {
                Ok(vec![DataType::Float64, DataType::Float64])
            }
            _ => plan_err!(
                "{}: write mode() WITHIN GROUP (ORDER BY x) or percentile_disc(fraction) WITHIN GROUP (ORDER BY x), not {types:?}",
                self.name()
            ),
        }
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        if self.kind == Kind::PercentileCont {
            return Ok(DataType::Float64);
        }
        match types.first() {
            Some(t) => Ok(t.clone()),
            None => plan_err!("{} needs WITHIN GROUP (ORDER BY x)", self.name()),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value = args.input_fields[0].data_type().clone();
        let list = DataType::List(Arc::new(Field::new_list_field(value, true)));
        Ok(vec![
            Field::new(format_state_name(args.name, "values"), list, true).into(),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let fraction = match self.kind {
            Kind::Mode => None,
            Kind::PercentileDisc | Kind::PercentileCont => Some(fraction(&args)?),
        };
        let descending = args
            .order_bys
            .first()
            .is_some_and(|sort| sort.options.descending);
        Ok(Box::new(Values {
            kind: self.kind,
            fraction,
            order: SortOptions {
                descending,
                nulls_first: false,
            },
            data_type: args.expr_fields[0].data_type().clone(),
            values: Vec::new(),
        }))
    }

    fn supports_within_group_clause(&self) -> bool {
        true
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<[Documentation; 3]> = LazyLock::new(|| {
            [
                super::udf::documentation(
                    "General Functions",
                    "The most frequent value of x (the first in the order among equally frequent ones); NULLs skipped. PostgreSQL's mode.",
                    "mode() WITHIN GROUP (ORDER BY x)",
                )
                .with_argument("x", "The values.")
                .build(),
                super::udf::documentation(
                    "General Functions",
                    "The first value of x whose position in the order reaches the fraction of all values (0 to 1); NULLs skipped. PostgreSQL's percentile_disc.",
                    "percentile_disc(fraction) WITHIN GROUP (ORDER BY x)",
                )
                .with_argument("fraction", "A constant from 0 to 1.")
                .with_argument("x", "The values.")
                .build(),
                super::udf::documentation(
                    "General Functions",
                    "The value at the fraction of the way through the ordered values of x, interpolated between its two neighbours (double precision); NULLs skipped. PostgreSQL's percentile_cont.",
                    "percentile_cont(fraction) WITHIN GROUP (ORDER BY x)",
                )
                .with_argument("fraction", "A constant from 0 to 1.")
                .with_argument("x", "The numbers.")
                .build(),
            ]
        });
        Some(match self.kind {
            Kind::Mode => &DOCS[0],
            Kind::PercentileDisc => &DOCS[1],
            Kind::PercentileCont => &DOCS[2],
        })
    }
}

/// The fraction of a percentile: a constant from 0 to 1.
fn fraction(args: &AccumulatorArgs) -> Result<f64> {
    // A constant evaluates without rows; a column does not.
    let empty = RecordBatch::new_empty(Arc::new(Schema::empty()));
    let constant = match args.exprs.get(1).map(|e| e.evaluate(&empty)) {
        Some(Ok(ColumnarValue::Scalar(v))) => Some(v),
        _ => None,
    };
    let f = match constant {
        Some(ScalarValue::Float64(Some(f))) => f,
        Some(other) if !other.is_null() => match other.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(f)) => f,
            _ => return exec_err!("a percentile's fraction is not a number"),
        },
        _ => return Err(invalid("a percentile takes a constant fraction")),
    };
    if !(0.0..=1.0).contains(&f) {
        return Err(invalid(format!(
            "percentile value {f} is not between 0 and 1"
        )));
    }
    Ok(f)
}

/// PostgreSQL's `percentile_cont` of `sorted` (doubles, not empty): the value at `f` of the
/// way from the first to the last, interpolated linearly between its neighbours.
fn interpolate(sorted: &ArrayRef, f: f64) -> Result<f64> {
    let values = sorted.as_primitive::<arrow::datatypes::Float64Type>();
    let at = f * (values.len() - 1) as f64;
    let (low, high) = (at.floor(), at.ceil());
    let (lo, hi) = (values.value(low as usize), values.value(high as usize));
    if low == high {
        return Ok(lo);
    }
    Ok(lo + (hi - lo) * (at - low))
}

/// The non-null values of a group, kept until the end.
#[derive(Debug)]
struct Values {
    kind: Kind,
    fraction: Option<f64>,
    order: SortOptions,
    data_type: DataType,
    values: Vec<ArrayRef>,
}

impl Values {
    fn keep(&mut self, values: &ArrayRef) -> Result<()> {
        let kept = match values.logical_null_count() {
            0 => values.clone(),
            n if n == values.len() => return Ok(()),
            _ => filter(values, &is_not_null(values)?)?,
        };
        if !kept.is_empty() {
            self.values.push(kept);
        }
        Ok(())
    }

    /// All values, as kept.
    fn all(&self) -> Result<ArrayRef> {
        let parts: Vec<&dyn Array> = self.values.iter().map(|a| a.as_ref()).collect();
        Ok(match parts.as_slice() {
            [] => new_empty_array(&self.data_type),
            _ => concat(&parts)?,
        })
    }

    /// All values, in the order.
    fn sorted(&self) -> Result<ArrayRef> {
        let all = self.all()?;
        let order = sort_to_indices(&all, Some(self.order), None)?;
        Ok(arrow::compute::take(&all, &order, None)?)
    }
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(v) => self.keep(v),
            None => Ok(()),
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first() else {
            return Ok(());
        };
        for list in lists.as_list::<i32>().iter().flatten() {
            self.keep(&list)?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let all = self.all()?;
        self.values = vec![all.clone()];
        Ok(vec![ScalarValue::List(Arc::new(
            datafusion::common::utils::SingleRowListArrayBuilder::new(all).build_list_array(),
        ))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let sorted = self.sorted()?;
        if sorted.is_empty() {
            return ScalarValue::try_from(&self.data_type);
        }
        if let (Kind::PercentileCont, Some(f)) = (self.kind, self.fraction) {
            return Ok(ScalarValue::Float64(Some(interpolate(&sorted, f)?)));
        }
        let at = match (self.kind, self.fraction) {
            (Kind::PercentileDisc, Some(f)) => {
                // The first position (1-based) at or past f of the values.
                let n = sorted.len() as f64;
                ((f * n).ceil() as usize)
                    .saturating_sub(1)
                    .min(sorted.len() - 1)
            }
            _ => {
                // The longest run of equal values; the first such run on a tie.
                let runs = partition(std::slice::from_ref(&sorted))?;
                runs.ranges()
                    .into_iter()
                    .fold((0, 0), |(best, len), r| {
                        if r.len() > len {
                            (r.start, r.len())
                        } else {
                            (best, len)
                        }
                    })
                    .0
            }
        };
        ScalarValue::try_from_array(&sorted, at)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self
                .values
                .iter()
                .map(|a| a.get_array_memory_size())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Float64Array;

    use super::*;

    /// PostgreSQL 15's answers.
    #[test]
    fn interpolates_as_postgresql() {
        let sorted: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 4.0, 7.0]));
        assert_eq!(interpolate(&sorted, 0.3).unwrap(), 1.9);
        assert_eq!(interpolate(&sorted, 0.5).unwrap(), 3.0);
        assert_eq!(interpolate(&sorted, 1.0).unwrap(), 7.0);
        assert_eq!(interpolate(&sorted, 0.0).unwrap(), 1.0);
        let one: ArrayRef = Arc::new(Float64Array::from(vec![5.0]));
        assert_eq!(interpolate(&one, 0.95).unwrap(), 5.0);
    }
}
