//! Scalar subqueries with PostgreSQL's answers where DataFusion 55 has none or a wrong one:
//!
//! - a subquery that refers to the outer query without aggregating, `SELECT c.call_id, (SELECT
//!   s.timezone FROM settings s WHERE s.tenant = c.tenant) FROM cdrs c`, is refused by
//!   DataFusion ("Correlated scalar subquery must be aggregated"); PostgreSQL answers the one
//!   row's value, NULL without one, and an error with several;
//! - a subquery of a column that cannot be NULL fails when it has no row ("declared as
//!   non-nullable but contains null values", apache/datafusion#24513, fixed after 55), where
//!   PostgreSQL answers NULL.
//!
//! [`ScalarSubqueryValue`] makes each such subquery `(SELECT single_value(x) FROM …)`: an
//! aggregate, which DataFusion decorrelates into a join, of the one row's value (NULL of no
//! row), which refuses a second row with PostgreSQL's error (SQLSTATE 21000). A subquery that
//! aggregates without grouping (one row, and `count` 0 where no row matches) is left alone.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, LogicalPlan, LogicalPlanBuilder, Signature,
    Subquery, Volatility,
};
use datafusion::optimizer::AnalyzerRule;

/// PostgreSQL's error for a scalar subquery of several rows.
pub const SEVERAL_ROWS: &str = "more than one row returned by a subquery used as an expression";

/// The analyzer rule of this module.
#[derive(Debug, Default)]
pub struct ScalarSubqueryValue;

impl AnalyzerRule for ScalarSubqueryValue {
    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|node| {
            node.map_expressions(|e| e.transform_up(single_valued))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "scalar_subquery_value"
    }
}

/// Whether `plan` aggregates without grouping, under its projections: one row, always.
fn aggregates_to_one_row(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Projection(p) => aggregates_to_one_row(&p.input),
        LogicalPlan::SubqueryAlias(a) => aggregates_to_one_row(&a.input),
        LogicalPlan::Aggregate(a) => a.group_expr.is_empty(),
        _ => false,
    }
}

/// A scalar subquery that needs it as `(SELECT single_value(x) FROM …)`.
fn single_valued(e: Expr) -> Result<Transformed<Expr>> {
    let Expr::ScalarSubquery(subquery) = e else {
        return Ok(Transformed::no(e));
    };
    let plan = subquery.subquery.as_ref();
    let schema = plan.schema();
    let [field] = schema.fields().iter().collect::<Vec<_>>()[..] else {
        return Ok(Transformed::no(Expr::ScalarSubquery(subquery)));
    };
    let correlated = !subquery.outer_ref_columns.is_empty();
    let needed = !aggregates_to_one_row(plan) && (correlated || !field.is_nullable());
    if !needed {
        return Ok(Transformed::no(Expr::ScalarSubquery(subquery)));
    }
    let (qualifier, field) = schema.qualified_field(0);
    let column = Expr::Column(datafusion::common::Column::new(
        qualifier.cloned(),
        field.name(),
    ));
    // Named by the aggregate, not the column: the decorrelated join also holds the columns
    // it correlates by, which may share the column's name.
    let wrapped = LogicalPlanBuilder::from(plan.clone())
        .aggregate(Vec::<Expr>::new(), vec![UDAF.call(vec![column])])?
        .build()?;
    Ok(Transformed::yes(Expr::ScalarSubquery(Subquery {
        subquery: Arc::new(wrapped),
        outer_ref_columns: subquery.outer_ref_columns,
        spans: subquery.spans,
    })))
}

static UDAF: LazyLock<AggregateUDF> = LazyLock::new(|| {
    AggregateUDF::new_from_impl(SingleValue {
        signature: Signature::any(1, Volatility::Immutable),
    })
});

/// `single_value(x)`: the value of the one row, NULL without rows, an error with several.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SingleValue {
    signature: Signature,
}

impl AggregateUDFImpl for SingleValue {
    fn name(&self) -> &str {
        "single_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        match types {
            [t] => Ok(t.clone()),
            _ => exec_err!("single_value takes one argument"),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("value", args.return_type().clone(), true)),
            Arc::new(Field::new("rows", DataType::Int64, false)),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneRow {
            value: ScalarValue::try_from(args.return_type())?,
            rows: 0,
        }))
    }
}

/// The value seen and how many rows were.
#[derive(Debug)]
struct OneRow {
    value: ScalarValue,
    rows: i64,
}

impl OneRow {
    /// Counts `rows` more, the first of them holding `value`.
    fn add(&mut self, rows: i64, value: impl FnOnce() -> Result<ScalarValue>) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        if self.rows + rows > 1 {
            return exec_err!("{SEVERAL_ROWS}");
        }
        self.value = value()?;
        self.rows += rows;
        Ok(())
    }
}

impl Accumulator for OneRow {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(values) = values.first() else {
            return exec_err!("single_value takes one argument");
        };
        let rows = i64::try_from(values.len()).unwrap_or(i64::MAX);
        self.add(rows, || ScalarValue::try_from_array(values, 0))
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [values, rows] = states else {
            return exec_err!("single_value: a state of two columns");
        };
        let Some(rows) = rows.as_primitive_opt::<Int64Type>() else {
            return exec_err!("single_value: rows of type {}", rows.data_type());
        };
        for (i, n) in rows.iter().enumerate() {
            self.add(n.unwrap_or(0), || ScalarValue::try_from_array(values, i))?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            self.value.clone(),
            ScalarValue::Int64(Some(self.rows)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.value.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    #[test]
    fn one_row_its_value_none_null_two_an_error() {
        let mut none = OneRow {
            value: ScalarValue::Utf8(None),
            rows: 0,
        };
        assert_eq!(none.evaluate().unwrap(), ScalarValue::Utf8(None));
        let one: ArrayRef = Arc::new(StringArray::from(vec!["x"]));
        let mut acc = OneRow {
            value: ScalarValue::Utf8(None),
            rows: 0,
        };
        acc.update_batch(&[Arc::new(StringArray::from(Vec::<&str>::new()))])
            .unwrap();
        acc.update_batch(&[Arc::clone(&one)]).unwrap();
        assert_eq!(acc.evaluate().unwrap(), ScalarValue::from("x"));
        let err = acc.update_batch(&[one]).unwrap_err();
        assert!(err.to_string().contains(SEVERAL_ROWS), "{err}");
        // Partial states: one row in one of them is the value; two rows in all is the error.
        let states: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![None, Some("y")])),
            Arc::new(Int64Array::from(vec![0, 1])),
        ];
        let mut merged = OneRow {
            value: ScalarValue::Utf8(None),
            rows: 0,
        };
        merged.merge_batch(&states).unwrap();
        assert_eq!(merged.evaluate().unwrap(), ScalarValue::from("y"));
        assert!(merged.merge_batch(&states).is_err());
    }
}
