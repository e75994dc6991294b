//! The column types a prepared query describes are the types it answers with. A query is
//! described (extended protocol) from its plan before DataFusion's analyzer coerces types, where
//! `SELECT 1 UNION SELECT 2.5` or `CASE … THEN duration_s ELSE 0.5 END` is still a `bigint`
//! column; the rows, planned after coercion, are decimals, and a driver that reads them by the
//! described type failed (psycopg: "invalid literal for int()"). Such a plan is described
//! through a projection casting the changed columns to their coerced types, under an alias no
//! query has at its root ([`DESCRIBED`]); it executes without it ([`executed`]).

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, Projection, SubqueryAlias, cast};

/// The alias of the described form: SQL never plans a query with a subquery alias at its root.
const DESCRIBED: &str = "cdrlake described";

/// The plan to execute of a plan [`as_answered`] may have wrapped.
pub fn executed(plan: &LogicalPlan) -> &LogicalPlan {
    match plan {
        LogicalPlan::SubqueryAlias(a) if a.alias.table() == DESCRIBED => match a.input.as_ref() {
            LogicalPlan::Projection(p) => p.input.as_ref(),
            other => other,
        },
        other => other,
    }
}

/// `plan` described with its changed columns cast to the types the analyzer gives them;
/// `plan` itself when no type changes or the analyzer refuses it (its error comes again at
/// execution).
pub fn as_answered(plan: LogicalPlan, state: &SessionState) -> LogicalPlan {
    let analyzed =
        match state
            .analyzer()
            .execute_and_check(plan.clone(), state.config_options(), |_, _| {})
        {
            Ok(analyzed) => analyzed,
            Err(_) => return plan,
        };
    let (described, answered) = (plan.schema(), analyzed.schema());
    if described.fields().len() != answered.fields().len()
        || described
            .fields()
            .iter()
            .zip(answered.fields())
            .all(|(d, a)| d.data_type() == a.data_type())
    {
        return plan;
    }
    let columns = described
        .iter()
        .zip(answered.fields())
        .map(|((qualifier, field), answered)| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            if field.data_type() == answered.data_type() {
                column
            } else {
                cast(column, answered.data_type().clone())
                    .alias_qualified(qualifier.cloned(), field.name())
            }
        })
        .collect();
    Projection::try_new(columns, Arc::new(plan.clone()))
        .and_then(|p| SubqueryAlias::try_new(Arc::new(LogicalPlan::Projection(p)), DESCRIBED))
        .map_or(plan, LogicalPlan::SubqueryAlias)
}
