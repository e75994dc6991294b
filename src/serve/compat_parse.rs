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

use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use datafusion_postgres::datafusion_pg_catalog::sql::rules::{
    AliasDuplicatedProjectionRewrite, CurrentUserVariableToSessionUserFunctionCall,
    FixArrayLiteral, FixVersionColumnName, RewriteArrayAnyAllOperation, RewritePgCatalogOperator,
    RewriteRegCastToSubquery, SqlStatementRewriteRule, StripCallableQualifier, StripCollate,
};

/// The rewrites a query of data goes through: every one but the two of the
/// [module docs](self), in datafusion-pg-catalog's order.
static DATA_RULES: LazyLock<Vec<Arc<dyn SqlStatementRewriteRule>>> = LazyLock::new(|| {
    vec![
        Arc::new(AliasDuplicatedProjectionRewrite),
        Arc::new(RewriteArrayAnyAllOperation),
        Arc::new(StripCallableQualifier),
        Arc::new(FixArrayLiteral),
        Arc::new(CurrentUserVariableToSessionUserFunctionCall),
        Arc::new(StripCollate),
        Arc::new(RewritePgCatalogOperator),
        Arc::new(RewriteRegCastToSubquery::new()),
        Arc::new(FixVersionColumnName),
    ]
});

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
