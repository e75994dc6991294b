//! Rewrites of the PostgreSQL constructs that client catalog queries use and DataFusion
//! does not plan, applied after `datafusion-pg-catalog`'s own rewrites.
//!
//! - `ARRAY(SELECT e FROM … [ORDER BY …])` (psql `\d`, `\d+`): a scalar subquery
//!   `array_or_empty((SELECT array_agg(e ORDER BY …) FROM …))`, where `array_or_empty`
//!   ([`super::pg_functions`]) makes the NULL of an empty subquery `{}`, as PostgreSQL
//!   gives it (and names the column `array`, [`crate::query::column_names`]).
//! - `ARRAY(SELECT … FROM unnest(t.reloptions) …)` (psql `\d`, the options of a TOAST
//!   table): cdrlake relations have no options and no TOAST tables (`reloptions` is always
//!   NULL, `reltoastrelid` 0), so this is the empty array — and DataFusion cannot plan an
//!   `unnest` of an outer column.
//! - a scalar subquery over `pg_catalog` tables that is not an aggregate, `(SELECT e FROM
//!   pg_attrdef WHERE …)` (SQLAlchemy's column reflection): `(SELECT first_value(e) …)`,
//!   since DataFusion only decorrelates aggregated subqueries. PostgreSQL would reject a
//!   second row; catalog lookups by key have at most one. User tables are never touched.
//!   Conditions of such a subquery on the outer row only (SQLAlchemy repeats its `CASE WHEN
//!   atthasdef` inside) move out, `CASE WHEN cond THEN (SELECT …) END`, which DataFusion
//!   plans where it cannot plan the subquery with them.
//! - `CASE WHEN attidentity != '' THEN …` and the like, branches no cdrlake column can
//!   take (SQLAlchemy's column reflection), fold away ([`super::pg_catalog_sql_fold`]).
//! - `user` is `session_user`, as `current_user` already is.
//! - `oid::regtype::text` (asyncpg's type introspection) is `format_type(oid, NULL)`, the
//!   type's name: DataFusion's `regtype` is the OID itself.
//! - `CAST(e AS regclass)` of an expression is `regclass(e)`, the relation's OID
//!   ([`super::pg_regclass`]); datafusion-pg-catalog only rewrites literals.
//! - asyncpg's type introspection query ([`super::pg_catalog_sql_asyncpg`]).
//! - functions in FROM ([`super::pg_catalog_sql_from`]): `unnest(a) x`,
//!   `generate_series(…) i` and `string_to_array(…) s`.

use std::ops::ControlFlow;

use crate::query::column_names::ARRAY_SUBQUERY;
use crate::query::syntax::call_args;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArguments, OrderByKind, Query, SelectItem, SetExpr, Statement, TableFactor,
    visit_expressions_mut,
};

/// Rewrites `statements` in place; true when anything changed.
pub fn rewrite(statements: &mut [Statement]) -> bool {
    let mut changed = false;
    for statement in statements {
        changed |= super::pg_catalog_sql_fold::rewrite(statement);
        changed |= super::pg_catalog_sql_asyncpg::rewrite(statement);
        let _ = visit_expressions_mut(statement, |expr| {
            if let Some(new) = array_subquery(expr)
                .or_else(|| user(expr))
                .or_else(|| regtype_text(expr))
                .or_else(|| regclass_cast(expr))
                .or_else(|| regclass_lookup(expr))
            {
                *expr = new;
                changed = true;
            } else if let Expr::Subquery(query) = expr
                && aggregate_catalog_lookup(query)
            {
                changed = true;
                if let Some(guarded) = hoist_outer_conditions(query) {
                    *expr = guarded;
                }
            }
            ControlFlow::<()>::Continue(())
        });
        changed |= super::pg_catalog_sql_from::rewrite(statement);
    }
    changed
}

/// Aggregates that make a scalar subquery return one row.
const AGGREGATES: &[&str] = &[
    "array_agg",
    "avg",
    "bool_and",
    "bool_or",
    "count",
    "every",
    "first_value",
    "json_agg",
    "max",
    "min",
    "string_agg",
    "sum",
];

/// Wraps the single selected expression of a non-aggregated scalar subquery over
/// `pg_catalog` tables in `first_value`; true when it did.
fn aggregate_catalog_lookup(query: &mut Query) -> bool {
    if query.order_by.is_some() {
        return false;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return false;
    };
    let catalog_only = !select.from.is_empty()
        && select.from.iter().all(|t| {
            std::iter::once(&t.relation)
                .chain(t.joins.iter().map(|j| &j.relation))
                .all(is_catalog_table)
        });
    let grouped = !matches!(
        &select.group_by,
        datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty()
    );
    if !catalog_only || grouped || select.distinct.is_some() || select.having.is_some() {
        return false;
    }
    let [SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }] =
        select.projection.as_mut_slice()
    else {
        return false;
    };
    let text = e.to_string().to_ascii_lowercase();
    if AGGREGATES.iter().any(|a| text.contains(&format!("{a}("))) {
        return false;
    }
    let Some(wrapped) = parse_expr(&format!("first_value({e})")) else {
        return false;
    };
    *e = wrapped;
    true
}

/// `CASE WHEN outer THEN (SELECT … WHERE rest) END` for the conjuncts of the WHERE of
/// `query` that only name columns of tables outside it; None when there are none.
fn hoist_outer_conditions(query: &Query) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, visit_expressions};

    let mut query = query.clone();
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    let mut inner: Vec<String> = Vec::new();
    for factor in select
        .from
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
    {
        if let TableFactor::Table { name, alias, .. } = factor {
            inner.push(name.to_string().to_ascii_lowercase());
            if let Some(last) = name.0.last() {
                inner.push(last.to_string().to_ascii_lowercase());
            }
            if let Some(a) = alias {
                inner.push(a.name.value.to_ascii_lowercase());
            }
        }
    }
    let outer_only = |e: &Expr| {
        let (mut outer, mut other) = (0, 0);
        let _ = visit_expressions(e, |e| {
            match e {
                Expr::CompoundIdentifier(parts) if parts.len() > 1 => {
                    let qualifier: Vec<String> = parts[..parts.len() - 1]
                        .iter()
                        .map(|p| p.value.to_ascii_lowercase())
                        .collect();
                    if inner.contains(&qualifier.join(".")) {
                        other += 1;
                    } else {
                        outer += 1;
                    }
                }
                Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } => other += 1,
                _ => {}
            }
            ControlFlow::<()>::Continue(())
        });
        outer > 0 && other == 0
    };
    let mut conjuncts = Vec::new();
    let mut pending: Vec<Expr> = select.selection.take().into_iter().collect();
    while let Some(e) = pending.pop() {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                pending.push(*right);
                pending.push(*left);
            }
            Expr::Nested(e)
                if matches!(
                    *e,
                    Expr::BinaryOp {
                        op: BinaryOperator::And,
                        ..
                    }
                ) =>
            {
                pending.push(*e)
            }
            e => conjuncts.push(e),
        }
    }
    let (outer, rest): (Vec<Expr>, Vec<Expr>) = conjuncts.into_iter().partition(|c| outer_only(c));
    if outer.is_empty() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_mut() else {
        return None;
    };
    select.selection = rest.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(a),
        op: BinaryOperator::And,
        right: Box::new(b),
    });
    let condition: Vec<String> = outer.iter().map(|c| format!("({c})")).collect();
    parse_expr(&format!(
        "CASE WHEN {} THEN ({query}) END",
        condition.join(" AND ")
    ))
}

/// Whether `factor` is a `pg_catalog` table (`pg_catalog.x` or `pg_x`).
fn is_catalog_table(factor: &TableFactor) -> bool {
    match factor {
        TableFactor::Table {
            name, args: None, ..
        } => {
            let parts: Vec<String> = name
                .0
                .iter()
                .map(|p| p.to_string().to_ascii_lowercase())
                .collect();
            match parts.as_slice() {
                [schema, _] => schema == "pg_catalog",
                [table] => table.starts_with("pg_"),
                _ => false,
            }
        }
        _ => false,
    }
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

/// `session_user` for PostgreSQL's `user` (an unquoted `user` is always the keyword, the
/// same as `current_user`, which `datafusion-pg-catalog` already turns into `session_user`;
/// Grafana's search-path query reads it); None for anything else.
fn user(expr: &Expr) -> Option<Expr> {
    let is_user = match expr {
        Expr::Identifier(i) => i.quote_style.is_none() && i.value.eq_ignore_ascii_case("user"),
        Expr::Function(f) => {
            matches!(f.args, FunctionArguments::None)
                && matches!(f.name.0.as_slice(), [p] if p.as_ident().is_some_and(|i| {
                    i.quote_style.is_none() && i.value.eq_ignore_ascii_case("user")
                }))
        }
        _ => false,
    };
    if !is_user {
        return None;
    }
    parse_expr("session_user")
}

/// `format_type(e, NULL)` for `e::regtype::text`; None for anything else.
fn regtype_text(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: inner,
        data_type: text,
        ..
    } = expr
    else {
        return None;
    };
    let Expr::Cast {
        expr: oid,
        data_type: regtype,
        ..
    } = inner.as_ref()
    else {
        return None;
    };
    let regtype = regtype.to_string().to_ascii_lowercase();
    let is_regtype = regtype == "regtype" || regtype == "pg_catalog.regtype";
    if !is_regtype || !text.to_string().eq_ignore_ascii_case("text") {
        return None;
    }
    parse_expr(&format!("format_type({oid}, NULL)"))
}

/// `regclass(e)` ([`super::pg_regclass`]) for `CAST(e AS regclass)` where `e` is not a
/// literal (datafusion-pg-catalog has rewritten those); None for anything else.
fn regclass_cast(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        expr: inner,
        data_type,
        ..
    } = expr
    else {
        return None;
    };
    let name = data_type.to_string().to_ascii_lowercase();
    if name != "regclass" && name != "pg_catalog.regclass" {
        return None;
    }
    parse_expr(&format!("{}({inner})", super::pg_regclass::NAME))
}

/// `regclass('name')` for the look-up datafusion-pg-catalog writes for `'name'::regclass`, a
/// subquery over `pg_class` and `parse_ident('name'::TEXT)`, which finds no unqualified
/// `pg_catalog` table (`'pg_class'::regclass`, the `classoid` of table descriptions) and gives
/// `pg_class` its own OID; None for anything else (a `$1::regclass` keeps that look-up).
fn regclass_lookup(expr: &Expr) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{Value, visit_expressions};

    let Expr::Subquery(query) = expr else {
        return None;
    };
    let text = query.to_string();
    if !text.contains("pg_catalog.pg_class") || !text.contains("array_length(parts, 1)") {
        return None;
    }
    let mut name = None;
    let _ = visit_expressions(query, |e| {
        if let Some([Expr::Cast { expr: arg, .. }]) = call_args(e, "parse_ident").as_deref()
            && let Expr::Value(v) = arg.as_ref()
            && let Value::SingleQuotedString(s) = &v.value
        {
            name = Some(s.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    let name = name?.replace('\'', "''");
    parse_expr(&format!("{}('{name}')", super::pg_regclass::NAME))
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
        return parse_expr("make_array()");
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
    let aggregate = parse_expr(&format!("array_agg({element}{order})"))?;
    select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
    parse_expr(&format!("{ARRAY_SUBQUERY}(({query}))"))
}

/// The expression `sql` (written by a rewrite of this module family); None if it does not
/// parse.
pub(super) fn parse_expr(sql: &str) -> Option<Expr> {
    crate::query::syntax::parse_expr(sql)
}

/// `sql` as one of the rewrites of this module family leaves it (for their unit tests).
#[cfg(test)]
pub(super) fn rewritten_by(rewrite: fn(&mut Statement) -> bool, sql: &str) -> String {
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};
    let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap_or_default();
    if let Some(statement) = statements.first_mut() {
        rewrite(statement);
    }
    statements
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        rewrite(&mut statements);
        statements[0].to_string()
    }

    #[test]
    fn array_of_a_subquery_aggregates() {
        assert_eq!(
            rewritten("SELECT array(select 'toast.' || x from unnest(o) x) FROM t"),
            "SELECT array_or_empty((SELECT array_agg('toast.' || x) FROM UNNEST(o) x (x))) FROM t"
        );
        assert_eq!(
            rewritten(
                "SELECT c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x) FROM c"
            ),
            "SELECT c.reloptions || make_array() FROM c"
        );
        assert_eq!(
            rewritten("SELECT array(select rolname from r where oid = 1 order by 1)"),
            "SELECT array_or_empty((SELECT array_agg(rolname ORDER BY (rolname)) FROM r WHERE oid = 1))"
        );
    }

    #[test]
    fn regclass_casts_resolve_through_regclass() {
        // An expression (Metabase's field sync), and datafusion-pg-catalog's look-up of a literal.
        let parsed = |sql: &str| {
            datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser::new()
                .parse(sql)
                .unwrap()
        };
        let mut statements = parsed(
            "SELECT col_description(format('%I.%I', s, t)::regclass::oid, 1), 'pg_class'::regclass",
        );
        rewrite(&mut statements);
        assert_eq!(
            statements[0].to_string(),
            "SELECT col_description(regclass(format('%I.%I', s, t))::oid, 1), regclass('pg_class')"
        );
        // A parameter keeps datafusion-pg-catalog's look-up.
        let mut statements = parsed("SELECT $1::regclass");
        rewrite(&mut statements);
        assert!(!statements[0].to_string().contains("regclass("));
    }

    #[test]
    fn unnest_aliases_name_their_column() {
        assert_eq!(
            rewritten("SELECT x FROM pg_catalog.unnest(o) x"),
            "SELECT x FROM pg_catalog.unnest(o) x (x)"
        );
    }

    #[test]
    fn catalog_lookups_are_aggregated() {
        assert_eq!(
            rewritten(
                "SELECT (SELECT d.adbin FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid) FROM pg_attribute a"
            ),
            "SELECT (SELECT first_value(d.adbin) FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid) FROM pg_attribute a"
        );
        assert_eq!(
            rewritten(
                "SELECT (SELECT d.adbin FROM pg_catalog.pg_attrdef AS d WHERE a.atthasdef AND d.adrelid = a.attrelid) FROM pg_attribute AS a"
            ),
            "SELECT CASE WHEN (a.atthasdef) THEN (SELECT first_value(d.adbin) FROM pg_catalog.pg_attrdef AS d WHERE d.adrelid = a.attrelid) END FROM pg_attribute AS a"
        );
        let counted = "SELECT (SELECT count(*) FROM pg_class) FROM pg_namespace";
        assert_eq!(rewritten(counted), counted);
        let user =
            "SELECT (SELECT r.rate FROM rates AS r WHERE r.prefix = c.destination) FROM cdrs AS c";
        assert_eq!(rewritten(user), user);
    }

    #[test]
    fn user_is_session_user() {
        assert_eq!(
            rewritten("SELECT CASE WHEN a = 'x' THEN user ELSE \"user\" END FROM t"),
            "SELECT CASE WHEN a = 'x' THEN session_user ELSE \"user\" END FROM t"
        );
    }

    #[test]
    fn regtype_text_is_the_type_name() {
        assert_eq!(
            rewritten("SELECT elemtype::regtype::text, t.oid::regtype FROM t"),
            "SELECT format_type(elemtype, NULL), t.oid::regtype FROM t"
        );
    }

    #[test]
    fn other_arrays_stay() {
        let sql = "SELECT ARRAY[1, 2], array_length(a, 1) FROM t";
        assert_eq!(rewritten(sql), sql);
    }
}
