//! Rewrites of the PostgreSQL constructs that client catalog queries use and DataFusion
//! does not plan, applied after `datafusion-pg-catalog`'s own rewrites.
//!
//! - `ARRAY(SELECT e FROM … [ORDER BY …])` (psql `\d`, `\d+`): a scalar subquery
//!   `(SELECT array_agg(e ORDER BY …) FROM …)`. Unlike PostgreSQL, an empty subquery
//!   gives NULL rather than `{}`; every client seen treats both alike.
//! - `ARRAY(SELECT … FROM unnest(t.reloptions) …)` (psql `\d`, the options of a TOAST
//!   table): cdrlake relations have no options and no TOAST tables (`reloptions` is always
//!   NULL, `reltoastrelid` 0), so this is the empty array — and DataFusion cannot plan an
//!   `unnest` of an outer column.
//! - `FROM unnest(a) x` (psql `\d`): PostgreSQL names the single column after the alias,
//!   DataFusion does not, so the alias gains that column name: `unnest(a) AS x(x)`.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, OrderByKind, Query, SelectItem, SetExpr, Statement, TableAlias,
    TableAliasColumnDef, TableFactor, VisitMut, VisitorMut, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Rewrites `statements` in place; true when anything changed.
pub fn rewrite(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        let _ = visit_expressions_mut(statement, |expr| {
            if let Some(new) = array_subquery(expr) {
                *expr = new;
                changed = true;
            }
            ControlFlow::<()>::Continue(())
        });
        let mut aliases = UnnestAliases(false);
        let _ = statement.visit(&mut aliases);
        changed |= aliases.0;
    }
    changed
}

/// Whether `factor` is `unnest(….reloptions)`.
fn unnests_options(factor: &TableFactor) -> bool {
    let TableFactor::Table {
        name,
        args: Some(args),
        ..
    } = factor
    else {
        return false;
    };
    let is_unnest = name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .is_some_and(|i| i.value.eq_ignore_ascii_case("unnest"));
    is_unnest && args.args.len() == 1 && args.args[0].to_string().ends_with("reloptions")
}

/// Names the column of `unnest(…) x` after its alias; records whether it did.
struct UnnestAliases(bool);

impl VisitorMut for UnnestAliases {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let alias = match factor {
            TableFactor::Table {
                name,
                args: Some(_),
                alias,
                ..
            } if name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .is_some_and(|i| i.value.eq_ignore_ascii_case("unnest")) =>
            {
                alias
            }
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

/// `ARRAY(SELECT e …)` as `(SELECT array_agg(e) …)`; None for anything else.
fn array_subquery(expr: &Expr) -> Option<Expr> {
    let Expr::Function(f) = expr else {
        return None;
    };
    let FunctionArguments::Subquery(query) = &f.args else {
        return None;
    };
    let is_array = f
        .name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .is_some_and(|i| i.value.eq_ignore_ascii_case("array"));
    if !is_array {
        return None;
    }
    let mut query: Query = query.as_ref().clone();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    if select.from.iter().any(|t| unnests_options(&t.relation)) {
        return Parser::new(&PostgreSqlDialect {})
            .try_with_sql("make_array()")
            .and_then(|mut p| p.parse_expr())
            .ok();
    }
    let [item] = select.projection.as_slice() else {
        return None;
    };
    let element = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e.clone(),
        _ => return None,
    };
    let order = match query.order_by.take().map(|o| o.kind) {
        Some(OrderByKind::Expressions(items)) => {
            let items: Vec<String> = items
                .iter()
                .map(|o| match o.expr.to_string().as_str() {
                    // ORDER BY 1 names the (only) selected expression.
                    "1" => o.to_string().replacen('1', &format!("({element})"), 1),
                    _ => o.to_string(),
                })
                .collect();
            format!(" ORDER BY {}", items.join(", "))
        }
        _ => String::new(),
    };
    let aggregate = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&format!("array_agg({element}{order})"))
        .and_then(|mut p| p.parse_expr())
        .ok()?;
    select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
    Some(Expr::Subquery(Box::new(query)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        rewrite(&mut statements);
        statements[0].to_string()
    }

    #[test]
    fn array_of_a_subquery_aggregates() {
        assert_eq!(
            rewritten("SELECT array(select 'toast.' || x from unnest(o) x) FROM t"),
            "SELECT (SELECT array_agg('toast.' || x) FROM unnest(o) AS x (x)) FROM t"
        );
        assert_eq!(
            rewritten(
                "SELECT c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x) FROM c"
            ),
            "SELECT c.reloptions || make_array() FROM c"
        );
        assert_eq!(
            rewritten("SELECT array(select rolname from r where oid = 1 order by 1)"),
            "SELECT (SELECT array_agg((rolname) ORDER BY (rolname)) FROM r WHERE oid = 1)"
        );
    }

    #[test]
    fn unnest_aliases_name_their_column() {
        assert_eq!(
            rewritten("SELECT x FROM pg_catalog.unnest(o) x"),
            "SELECT x FROM pg_catalog.unnest(o) AS x (x)"
        );
    }

    #[test]
    fn other_arrays_stay() {
        let sql = "SELECT ARRAY[1, 2], array_length(a, 1) FROM t";
        assert_eq!(rewritten(sql), sql);
    }
}
