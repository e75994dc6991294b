//! Parsing a client's SQL with datafusion-pg-catalog's PostgreSQL compatibility rewrites, all of
//! them for catalog queries and only the harmless ones for queries of data.
//!
//! Two of those rewrites, meant for the catalog queries BI tools send, changed what queries of
//! data mean:
//! - `RemoveSubqueryFromProjection` replaced every select-list subquery that refers to the
//!   outer query (or holds a `$n` parameter) by NULL and gave the others `LIMIT 1`: `SELECT
//!   tenant, (SELECT count(*) FROM cdrs c WHERE c.tenant = t.tenant) FROM …` was a column of
//!   NULLs, and "more than one row returned by a subquery" an arbitrary row;
//! - `ResolveUnqualifiedIdentifier` qualified every unqualified name in `WHERE` and `ORDER BY`
//!   by the table of a `t.*` in the select list: `SELECT c.*, r.amount FROM cdrs c JOIN refunds
//!   r … ORDER BY amount` failed ("No field named c.amount").
//!
//! A statement that names a catalog relation (`pg_…`, `information_schema`), or a blacklisted
//! client query, goes through all of them ([`PostgresCompatibilityParser`]); any other through
//! [`DATA_RULES`]. [`is_data`] tells the server which statements it plans itself rather than
//! hand, as text, to datafusion-postgres (whose parser would apply every rule again).

use std::sync::{Arc, LazyLock};

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Array, Expr, Statement, Value, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::datafusion_pg_catalog::sql::rules::{
    AliasDuplicatedProjectionRewrite, CurrentUserVariableToSessionUserFunctionCall,
    FixArrayLiteral, FixVersionColumnName, RewritePgCatalogOperator, RewriteRegCastToSubquery,
    SqlStatementRewriteRule, StripCallableQualifier, StripCollate,
};

/// The rewrites a query of data goes through: every one but the two of the
/// [module docs](self), in datafusion-pg-catalog's order, and array text operands of `ANY`
/// and `ALL` as arrays in place of `RewriteArrayAnyAllOperation` (which made `x = ANY
/// (SELECT …)` fail, and which DataFusion does not need otherwise).
static DATA_RULES: LazyLock<Vec<Arc<dyn SqlStatementRewriteRule>>> = LazyLock::new(|| {
    vec![
        Arc::new(AliasDuplicatedProjectionRewrite),
        Arc::new(ArrayTextOperands),
        Arc::new(StripCallableQualifier),
        Arc::new(FixArrayLiteral),
        Arc::new(CurrentUserVariableToSessionUserFunctionCall),
        Arc::new(StripCollate),
        Arc::new(RewritePgCatalogOperator),
        Arc::new(RewriteRegCastToSubquery::new()),
        Arc::new(FixVersionColumnName),
    ]
});

/// `x = ANY('{a,b}')`, `x <> ALL('{a,b}')`: the text of an array (of texts, as clients send
/// them) as the array `ARRAY['a', 'b']`.
#[derive(Debug)]
struct ArrayTextOperands;

impl SqlStatementRewriteRule for ArrayTextOperands {
    fn rewrite(&self, mut s: Statement) -> Statement {
        let _ = s.visit(&mut ArrayTextOperands);
        s
    }
}

impl VisitorMut for ArrayTextOperands {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let (Expr::AnyOp { right, .. } | Expr::AllOp { right, .. }) = expr else {
            return ControlFlow::Continue(());
        };
        let Expr::Value(value) = right.as_ref() else {
            return ControlFlow::Continue(());
        };
        let Value::SingleQuotedString(text) = &value.value else {
            return ControlFlow::Continue(());
        };
        let Some(items) = text
            .trim()
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
        else {
            return ControlFlow::Continue(());
        };
        let elem = items
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Expr::Value(Value::SingleQuotedString(s.trim_matches('"').to_owned()).into()))
            .collect();
        **right = Expr::Array(Array { elem, named: true });
        ControlFlow::Continue(())
    }
}

/// The statements of `sql` with the compatibility rewrites that apply to them.
pub fn parse(sql: &str) -> Result<Vec<Statement>, ParserError> {
    if !is_data(sql) {
        return PostgresCompatibilityParser::new().parse(sql);
    }
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql)?;
    Ok(statements
        .into_iter()
        .map(|s| DATA_RULES.iter().fold(s, |s, rule| rule.rewrite(s)))
        .collect())
}

/// Whether `sql` reads no catalog relation: no `pg_…` name, no `information_schema` (a
/// conservative test of the text, which also covers datafusion-pg-catalog's blacklisted client
/// queries, all of the catalog).
pub fn is_data(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    !lower.contains("pg_") && !lower.contains("information_schema")
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn parsed(sql: &str) -> String {
        let texts: Vec<String> = parse(sql)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        texts.join("; ")
    }

    #[test]
    fn queries_of_data_keep_their_meaning() {
        for sql in [
            "SELECT t.tenant, (SELECT count(*) FROM cdrs AS c WHERE c.tenant = t.tenant) AS n FROM t",
            "SELECT c.*, r.amount FROM cdrs AS c JOIN refunds AS r ON r.call_id = c.call_id ORDER BY amount",
            "SELECT (SELECT x FROM v)",
        ] {
            assert_eq!(parsed(sql), sql);
        }
        // The harmless rewrites still apply.
        assert_eq!(parsed("SELECT version()"), "SELECT version() AS version");
        assert_eq!(
            parsed("SELECT x = ANY('{a, \"b\"}'), x = ANY(SELECT y FROM t), x <> ALL(a) FROM t"),
            "SELECT x = ANY(ARRAY['a', 'b']), x = ANY(SELECT y FROM t), x <> ALL(a) FROM t"
        );
    }

    #[test]
    fn catalog_queries_get_every_rewrite() {
        assert_eq!(
            parsed(
                "SELECT c.relname, (SELECT n.nspname FROM pg_namespace AS n WHERE n.oid = c.relnamespace) FROM pg_class AS c"
            ),
            "SELECT c.relname, NULL FROM pg_catalog.pg_class AS c"
        );
    }
}
