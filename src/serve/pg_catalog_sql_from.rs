//! Functions in FROM as PostgreSQL reads them, for client catalog queries.
//!
//! In PostgreSQL a function returning a single column (a scalar, or a set of scalars) is a
//! table whose one column is named after the table alias: `FROM unnest(a) x` has a column
//! `x`. DataFusion names it after the function instead, and plans no scalar function in
//! FROM at all. So:
//!
//! - `unnest(a) x` and `generate_series(…) i` (psql `\d`, Grafana's search-path query):
//!   the alias gains its column name, `unnest(a) AS x (x)`;
//! - `string_to_array(…) s` (Grafana): a one-row derived table,
//!   `(SELECT string_to_array(…) AS s) AS s` — exactly PostgreSQL's meaning of a scalar
//!   function in FROM.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, ObjectName, Statement, TableAlias, TableAliasColumnDef, TableFactor, VisitMut,
    VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Table functions of one column, named after the alias in PostgreSQL.
const SINGLE_COLUMN: &[&str] = &["unnest", "generate_series"];

/// Scalar functions clients call in FROM.
const SCALAR: &[&str] = &["string_to_array"];

/// Rewrites the functions in FROM of `statement`; true when anything changed.
pub fn rewrite(statement: &mut Statement) -> bool {
    let mut visitor = FromFunctions(false);
    let _ = statement.visit(&mut visitor);
    visitor.0
}

/// The last part of `name`, lowercased, when it is one of `names`.
fn named<'a>(name: &ObjectName, names: &[&'a str]) -> Option<&'a str> {
    let last = name.0.last()?.as_ident()?.value.to_ascii_lowercase();
    names.iter().find(|n| **n == last).copied()
}

/// Rewrites functions in FROM; records whether it did.
struct FromFunctions(bool);

impl VisitorMut for FromFunctions {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let Some(derived) = scalar_function(factor) {
            *factor = derived;
            self.0 = true;
            return ControlFlow::Continue(());
        }
        let alias = match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                alias,
                ..
            } if named(name, SINGLE_COLUMN).is_some() => alias,
            TableFactor::UNNEST {
                alias, array_exprs, ..
            } if array_exprs.len() == 1 => alias,
            _ => return ControlFlow::Continue(()),
        };
        if let Some(TableAlias { name, columns, .. }) = alias
            && columns.is_empty()
        {
            columns.push(TableAliasColumnDef::from_name(name.value.clone()));
            self.0 = true;
        }
        ControlFlow::Continue(())
    }
}

/// `(SELECT f(…) AS c) AS a` for a [`SCALAR`] function `f(…) a` (`a (c)`) in FROM.
fn scalar_function(factor: &TableFactor) -> Option<TableFactor> {
    let TableFactor::Table {
        name,
        args: Some(args),
        alias,
        ..
    } = factor
    else {
        return None;
    };
    let function = named(name, SCALAR)?;
    let alias = alias.clone().unwrap_or(TableAlias {
        explicit: true,
        name: Ident::new(function),
        columns: Vec::new(),
        at: None,
    });
    let column = match alias.columns.as_slice() {
        [] => alias.name.clone(),
        [c] => c.name.clone(),
        _ => return None,
    };
    let args: Vec<String> = args.args.iter().map(ToString::to_string).collect();
    let sql = format!("SELECT {name}({}) AS {column}", args.join(", "));
    let subquery = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_query())
        .ok()?;
    Some(TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(TableAlias {
            columns: Vec::new(),
            ..alias
        }),
        sample: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::serve::pg_catalog_sql::rewritten_by(rewrite, sql)
    }

    #[test]
    fn single_column_functions_name_their_column_after_the_alias() {
        assert_eq!(
            rewritten("SELECT i FROM generate_series(1, 3) AS i"),
            "SELECT i FROM generate_series(1, 3) AS i (i)"
        );
        let named = "SELECT n FROM generate_series(1, 3) AS i (n)";
        assert_eq!(rewritten(named), named);
    }

    #[test]
    fn scalar_functions_are_one_row_tables() {
        assert_eq!(
            rewritten("SELECT s[1] FROM string_to_array('a,b', ',') s"),
            "SELECT s[1] FROM (SELECT string_to_array('a,b', ',') AS s) s"
        );
        assert_eq!(
            rewritten("SELECT x FROM pg_catalog.string_to_array('a', ',') AS s (x)"),
            "SELECT x FROM (SELECT pg_catalog.string_to_array('a', ',') AS x) AS s"
        );
        let table = "SELECT * FROM cdrs AS s";
        assert_eq!(rewritten(table), table);
    }
}
