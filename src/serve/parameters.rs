//! Parameter types as PostgreSQL describes them where DataFusion's plan says otherwise.
//!
//! An `oid` is an `int4` in DataFusion's catalog, so a plan types `$1::oid[]` as `int4[]`.
//! PostgreSQL describes it as `oid[]`, and asyncpg (whose type introspection binds
//! `$1::oid[]`) has a built-in codec for `oid[]` but not for `int4[]`: told `int4[]`, it
//! would introspect `int4[]` first, with the same query, forever. The values are decoded as
//! the `int4` the plan holds (an OID is 4 bytes either way).

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Statement, Value, visit_expressions};
use pgwire::api::Type;

/// Replaces the types of the parameters of `stmt` cast to `oid` or `oid[]` in `types` (by
/// position, `$1` first) with `oid` and `oid[]`.
pub fn describe(stmt: &Statement, types: &mut [Type]) {
    let _ = visit_expressions(stmt, |expr| {
        if let Expr::Cast {
            expr: inner,
            data_type,
            ..
        } = expr
            && let Expr::Value(v) = inner.as_ref()
            && let Value::Placeholder(name) = &v.value
            && let Some(slot) = name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| types.get_mut(i))
        {
            match data_type.to_string().to_ascii_lowercase().as_str() {
                "oid" => *slot = Type::OID,
                "oid[]" => *slot = Type::OID_ARRAY,
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The type a parameter described as `ty` is decoded as.
pub fn decoded_as(ty: &Type) -> &Type {
    if *ty == Type::OID_ARRAY {
        &Type::INT4_ARRAY
    } else {
        ty
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn oid_parameters_are_oids() {
        let stmt = Parser::parse_sql(
            &PostgreSqlDialect {},
            "SELECT 1 FROM pg_type WHERE oid = any($2::oid[]) AND typname = $1 OR oid = $3::oid",
        )
        .unwrap()
        .remove(0);
        let mut types = vec![Type::TEXT, Type::INT4_ARRAY, Type::INT4];
        describe(&stmt, &mut types);
        assert_eq!(types, vec![Type::TEXT, Type::OID_ARRAY, Type::OID]);
        assert_eq!(decoded_as(&types[1]), &Type::INT4_ARRAY);
        assert_eq!(decoded_as(&types[2]), &Type::OID);
    }
}
