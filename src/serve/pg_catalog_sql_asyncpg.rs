//! asyncpg's type introspection, `INTRO_LOOKUP_TYPES` of `asyncpg/introspection.py`, as
//! DataFusion can plan it. asyncpg runs it before it decodes a result column whose type has
//! no built-in codec — every array type — so without it `SELECT ARRAY[1, 2]` fails.
//!
//! - The base type of a domain is a correlated `WITH RECURSIVE` subquery walking
//!   `typbasetype` down a chain of domains; DataFusion plans no recursive subquery inside an
//!   expression. No domain of `pg_type` is over another domain (the asyncpg client test
//!   checks it), so the walk ends after its first step: the subquery is
//!   its anchor, `(SELECT first_value(t2.typbasetype) FROM pg_type t2 WHERE t2.oid = t.oid)`.
//! - `attrtypoids`, the field types of a composite type, is returned as `text[]`: arrow-pg
//!   can only describe an `int4[]` result, which asyncpg has no built-in codec for and would
//!   introspect in turn, forever. asyncpg reads it for composite types only, and no cdrlake
//!   result has a column of a `pg_type` composite.
//!
//! Only a query with asyncpg's recursive CTE `typeinfo_tree` is touched.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Query, SelectItem, SetExpr, SetOperator, SetQuantifier, Statement, visit_expressions_mut,
};

use super::pg_catalog_sql::parse_expr;

/// The recursive CTE by which asyncpg's introspection query is recognised.
const TYPEINFO_TREE: &str = "typeinfo_tree";

/// Rewrites asyncpg's type introspection; true when `statement` was one.
pub fn rewrite(statement: &mut Statement) -> bool {
    let Statement::Query(query) = statement else {
        return false;
    };
    let is_introspection = query.with.as_ref().is_some_and(|w| {
        w.recursive
            && w.cte_tables
                .iter()
                .any(|c| c.alias.name.value.eq_ignore_ascii_case(TYPEINFO_TREE))
    });
    if !is_introspection {
        return false;
    }
    let mut changed = false;
    let _ = visit_expressions_mut(statement, |expr| {
        if let Expr::Subquery(query) = expr
            && let Some(anchor) = domain_base_anchor(query)
        {
            *expr = anchor;
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    changed | composite_fields_as_text(statement)
}

/// `(SELECT first_value(e) FROM … WHERE …)` for a recursive subquery whose anchor member
/// selects `e` = `….typbasetype`; None for any other subquery.
fn domain_base_anchor(query: &Query) -> Option<Expr> {
    let with = query.with.as_ref().filter(|w| w.recursive)?;
    let [cte] = with.cte_tables.as_slice() else {
        return None;
    };
    let SetExpr::SetOperation {
        op: SetOperator::Union,
        set_quantifier: SetQuantifier::All,
        left,
        ..
    } = cte.query.body.as_ref()
    else {
        return None;
    };
    let SetExpr::Select(anchor) = left.as_ref() else {
        return None;
    };
    let (SelectItem::UnnamedExpr(base) | SelectItem::ExprWithAlias { expr: base, .. }) =
        anchor.projection.first()?
    else {
        return None;
    };
    if !base
        .to_string()
        .to_ascii_lowercase()
        .ends_with("typbasetype")
    {
        return None;
    }
    let from: Vec<String> = anchor.from.iter().map(ToString::to_string).collect();
    let filter = anchor
        .selection
        .as_ref()
        .map(|w| format!(" WHERE {w}"))
        .unwrap_or_default();
    parse_expr(&format!(
        "(SELECT first_value({base}) FROM {}{filter})",
        from.join(", ")
    ))
}

/// Casts every select item aliased `attrtypoids` to `text[]`; true when any was.
fn composite_fields_as_text(statement: &mut Statement) -> bool {
    use datafusion::sql::sqlparser::ast::{VisitMut, VisitorMut};

    struct Fields(bool);
    impl VisitorMut for Fields {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            let SetExpr::Select(select) = query.body.as_mut() else {
                return ControlFlow::Continue(());
            };
            for item in &mut select.projection {
                if let SelectItem::ExprWithAlias { expr, alias } = item
                    && alias.value.eq_ignore_ascii_case("attrtypoids")
                    && let Some(cast) = parse_expr(&format!("CAST({expr} AS text[])"))
                {
                    *expr = cast;
                    self.0 = true;
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut fields = Fields(false);
    let _ = statement.visit(&mut fields);
    fields.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewritten(sql: &str) -> String {
        crate::serve::pg_catalog_sql::rewritten_by(rewrite, sql)
    }

    const TYPEBASES: &str = "(WITH RECURSIVE typebases(oid, depth) AS (\
        SELECT t2.typbasetype AS oid, 0 AS depth FROM pg_type t2 WHERE t2.oid = t.oid \
        UNION ALL \
        SELECT t2.typbasetype AS oid, tb.depth + 1 AS depth FROM pg_type t2, typebases tb \
        WHERE tb.oid = t2.oid AND t2.typbasetype != 0) \
        SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)";

    #[test]
    fn introspection_plans() {
        let sql = format!(
            "WITH RECURSIVE typeinfo_tree(oid, basetype, attrtypoids) AS (\
             SELECT ti.oid, ti.basetype, ti.attrtypoids FROM (SELECT t.oid AS oid, \
             (CASE WHEN t.typtype = 'd' THEN {TYPEBASES} ELSE NULL END) AS basetype, \
             (SELECT array_agg(ia.atttypid) FROM pg_attribute ia) AS attrtypoids \
             FROM pg_type AS t) AS ti WHERE ti.oid = any($1::oid[])) \
             SELECT DISTINCT * FROM typeinfo_tree"
        );
        assert_eq!(
            rewritten(&sql),
            "WITH RECURSIVE typeinfo_tree (oid, basetype, attrtypoids) AS (\
             SELECT ti.oid, ti.basetype, ti.attrtypoids FROM (SELECT t.oid AS oid, \
             (CASE WHEN t.typtype = 'd' THEN (SELECT first_value(t2.typbasetype) FROM pg_type t2 \
             WHERE t2.oid = t.oid) ELSE NULL END) AS basetype, \
             CAST((SELECT array_agg(ia.atttypid) FROM pg_attribute ia) AS TEXT[]) AS attrtypoids \
             FROM pg_type AS t) AS ti WHERE ti.oid = ANY($1::oid[])) \
             SELECT DISTINCT * FROM typeinfo_tree"
        );
    }

    #[test]
    fn other_recursive_queries_stay() {
        let sql = format!("SELECT {TYPEBASES} FROM pg_type AS t");
        let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &sql).unwrap()[0].to_string();
        assert_eq!(rewritten(&sql), parsed);
    }
}
