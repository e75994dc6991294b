//! DataFusion's functions under the other names PostgreSQL gives them: `variance` (the sample
//! variance, DataFusion's `var_samp`) and `every` (the SQL standard's `bool_and`).

use datafusion::prelude::SessionContext;

/// (DataFusion's aggregate, PostgreSQL's other name for it).
const AGGREGATES: &[(&str, &str)] = &[("var_samp", "variance"), ("bool_and", "every")];

/// Registers the other names in `ctx`.
pub fn register(ctx: &SessionContext) {
    for (name, alias) in AGGREGATES {
        let Some(udaf) = ctx.state().aggregate_functions().get(*name).cloned() else {
            tracing::warn!(
                function = name,
                "no such aggregate: its PostgreSQL name is missing"
            );
            continue;
        };
        ctx.register_udaf(udaf.as_ref().clone().with_aliases([*alias]));
    }
}
