//! The row description of a query result: arrow-pg's fields for the result's Arrow schema,
//! with PostgreSQL's column names ([`column_names`], the query layer's) and PostgreSQL's types where arrow-pg's
//! differ. PostgreSQL has no unsigned integers; DataFusion gives `row_number()`, `rank()`,
//! `dense_rank()` and `ntile()` the type UInt64, which arrow-pg sends as `numeric`, so that
//! psycopg and asyncpg return `Decimal('1')` and pandas an object column. PostgreSQL types
//! them `bigint` (`int8`), and so does cdrlake: the values are sent as `int8`
//! ([`super::text_rows`] checks each fits).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::LogicalPlan;
use pgwire::api::Type;
use pgwire::api::results::FieldInfo;

use crate::query::column_names;

/// `fields` (arrow-pg's, one per output column of `plan`) as PostgreSQL describes them.
pub fn of(fields: &[FieldInfo], plan: &LogicalPlan) -> Arc<Vec<FieldInfo>> {
    let names = column_names::output_names(plan);
    let names = (names.len() == fields.len()).then_some(names);
    let schema = plan.schema();
    Arc::new(
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let name = match &names {
                    Some(names) => names[i].clone(),
                    None => f.name().to_owned(),
                };
                let unsigned = matches!(
                    schema.fields().get(i).map(|c| c.data_type()),
                    Some(DataType::UInt64)
                );
                let ty = match f.datatype() {
                    &Type::NUMERIC if unsigned => Type::INT8,
                    other => other.clone(),
                };
                FieldInfo::new(name, f.table_id(), f.column_id(), ty, f.format())
            })
            .collect(),
    )
}
