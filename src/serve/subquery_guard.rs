//! Scalar subqueries in a select list, kept as written. datafusion-pg-catalog's SQL rewrites,
//! which every statement goes through, replace a select-list subquery that refers to the outer
//! query (or holds a `$n` parameter) by NULL, and give the others `LIMIT 1`: meant for catalog
//! queries BI tools send, but on data they made `SELECT tenant, (SELECT count(*) FROM cdrs c
//! WHERE c.tenant = t.tenant) FROM …` a column of NULLs, and hid PostgreSQL's "more than one row
//! returned by a subquery" behind an arbitrary row.
//!
//! [`protected`] puts such a subquery in parentheses, which the rewrite does not look into and
//! DataFusion plans as the subquery itself, in every statement that does not name a catalog
//! relation (`pg_…`, `information_schema`): those are still rewritten as before.

use std::borrow::Cow;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Query, SelectItem, SetExpr, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// `sql` with its select lists' subqueries parenthesised, unless it names a catalog relation or
/// does not parse (the caller's parser then reports it).
pub fn protected(sql: &str) -> Cow<'_, str> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("select") || lower.contains("pg_") || lower.contains("information_schema") {
        return Cow::Borrowed(sql);
    }
    let Ok(mut statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return Cow::Borrowed(sql);
    };
    let mut guard = Guard { changed: false };
    for statement in &mut statements {
        let _ = statement.visit(&mut guard);
    }
    if !guard.changed {
        return Cow::Borrowed(sql);
    }
    let texts: Vec<String> = statements.iter().map(ToString::to_string).collect();
    Cow::Owned(texts.join(";\n"))
}

struct Guard {
    changed: bool,
}

impl VisitorMut for Guard {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        for item in &mut select.projection {
            let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item
            else {
                continue;
            };
            if matches!(expr, Expr::Subquery(_)) {
                let subquery = std::mem::replace(expr, Expr::Value(Value::Null.with_empty_span()));
                *expr = Expr::Nested(Box::new(subquery));
                self.changed = true;
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::protected;

    #[test]
    fn parenthesises_select_list_subqueries_of_data_queries() {
        assert_eq!(
            protected(
                "SELECT t.tenant, (SELECT count(*) FROM cdrs c WHERE c.tenant = t.tenant) AS n FROM t"
            ),
            "SELECT t.tenant, ((SELECT count(*) FROM cdrs c WHERE c.tenant = t.tenant)) AS n FROM t"
        );
        // Nothing to do, a catalog query, and text that does not parse: as they are.
        for sql in [
            "SELECT 1 FROM cdrs WHERE x IN (SELECT 1)",
            "SELECT (SELECT relname FROM pg_class c WHERE c.oid = a.attrelid) FROM pg_attribute a",
            "SELEC (SELECT 1)",
        ] {
            assert_eq!(protected(sql), sql);
        }
    }
}
