//! DataFusion's functions under the other names PostgreSQL gives them: `variance` (the sample
//! variance, DataFusion's `var_samp`), `every` (the SQL standard's `bool_and`), `sign`
//! (DataFusion's `signum`) and `gen_random_uuid` (DataFusion's `uuid`, a version 4 UUID as
//! text).

use datafusion::prelude::SessionContext;

/// (DataFusion's aggregate, PostgreSQL's other name for it).
const AGGREGATES: &[(&str, &str)] = &[("var_samp", "variance"), ("bool_and", "every")];

/// (DataFusion's scalar function, PostgreSQL's other name for it).
const SCALARS: &[(&str, &str)] = &[("signum", "sign"), ("uuid", "gen_random_uuid")];

/// Registers the other names in `ctx`.
pub fn register(ctx: &SessionContext) {
    for (name, alias) in SCALARS {
        let Some(udf) = ctx.state().scalar_functions().get(*name).cloned() else {
            tracing::warn!(
                function = name,
                "no such function: its PostgreSQL name is missing"
            );
            continue;
        };
        ctx.register_udf(udf.as_ref().clone().with_aliases([*alias]));
    }
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
