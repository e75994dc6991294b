//! Output columns that share a name. PostgreSQL allows `SELECT start_time::date, start_time`,
//! `SELECT tenant, tenant`, `SELECT count(*), count(*)` and `SELECT start_time::date … ORDER BY
//! start_time`; DataFusion requires a projection's expressions to have distinct names, and it
//! names a cast after what it casts, so each of those fails to plan ("Projections require
//! unique expression names").
//!
//! [`rewrite`] gives such columns an alias of their own, [`SAME_NAME_ALIAS`] and their
//! position, before planning; the names clients see are PostgreSQL's all the same
//! ([`super::column_names`] names an aliased expression so as if it had no alias). Per
//! `SELECT`, an unaliased column is aliased when another unaliased column would get its name
//! (the same expression, or the same column under casts: all but the first plain one), when it
//! casts a column an `ORDER BY` sorts by without selecting it, and, beside a wildcard, when it
//! is or casts a column (the wildcard selects that column too).

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, Value, VisitMut,
    VisitorMut, visit_expressions_mut,
};

/// The prefix of the aliases [`rewrite`] adds; the names of their columns are PostgreSQL's
/// names of the aliased expressions.
pub const SAME_NAME_ALIAS: &str = "__same_name_";

/// Aliases the columns of every `SELECT` in `statement` that would share a name; true when
/// anything changed.
pub fn rewrite(statement: &mut Statement) -> bool {
    let mut visitor = Aliases { changed: false };
    let _ = statement.visit(&mut visitor);
    visitor.changed
}

struct Aliases {
    changed: bool,
}

impl VisitorMut for Aliases {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let sorted: Vec<Expr> = match query.order_by.as_ref().map(|o| &o.kind) {
            Some(OrderByKind::Expressions(list)) => list.iter().map(|o| o.expr.clone()).collect(),
            _ => Vec::new(),
        };
        if let SetExpr::Select(select) = query.body.as_mut() {
            self.changed |= alias_select(select, &sorted);
            self.changed |= alias_sorted_positions(select, &sorted);
        }
        ControlFlow::Continue(())
    }
}

/// Aliases the columns of `select` (sorted by `sorted`) that would share a name.
fn alias_select(select: &mut Select, sorted: &[Expr]) -> bool {
    let wildcard = select.projection.iter().any(|item| {
        matches!(
            item,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    });
    // The unaliased columns by the name DataFusion would give them.
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, item) in select.projection.iter().enumerate() {
        if let SelectItem::UnnamedExpr(expr) = item {
            by_name.entry(name_key(expr)).or_default().push(i);
        }
    }
    let mut alias = vec![false; select.projection.len()];
    for (name, columns) in &by_name {
        let plain = |i: &usize| match &select.projection[*i] {
            SelectItem::UnnamedExpr(e) => !is_cast(e),
            _ => false,
        };
        let column = columns.iter().any(|i| match &select.projection[*i] {
            SelectItem::UnnamedExpr(e) => is_column(strip_casts(e)),
            _ => false,
        });
        // Sorted by a column only cast here: the sort's hidden column takes the name.
        let sorted_hidden = !columns.iter().any(plain)
            && sorted.iter().any(|s| {
                name_key(s) == *name
                    && !columns.iter().any(
                        |i| matches!(&select.projection[*i], SelectItem::UnnamedExpr(e) if e == s),
                    )
            });
        if (wildcard && column) || sorted_hidden {
            columns.iter().for_each(|i| alias[*i] = true);
        } else if columns.len() > 1 {
            let kept = columns.iter().copied().find(plain).unwrap_or(columns[0]);
            columns
                .iter()
                .filter(|i| **i != kept)
                .for_each(|i| alias[*i] = true);
        }
    }
    let mut changed = false;
    for (i, item) in select.projection.iter_mut().enumerate() {
        if !alias[i] {
            continue;
        }
        if let SelectItem::UnnamedExpr(expr) = item {
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::new(format!("{SAME_NAME_ALIAS}{i}")),
            };
            changed = true;
        }
    }
    changed
}

/// Aliases the computed columns of `select` that an `ORDER BY` names by position. DataFusion
/// sorts by such a column's expression, which it then fails to find above a grouping when the
/// column has no alias (`SELECT tenant, sum(charge) * 100 … GROUP BY 1 ORDER BY 2`: "Column in
/// ORDER BY must be in GROUP BY").
fn alias_sorted_positions(select: &mut Select, sorted: &[Expr]) -> bool {
    let mut changed = false;
    for position in sorted.iter().filter_map(ordinal) {
        let Some(item) = select.projection.get_mut(position) else {
            continue;
        };
        if let SelectItem::UnnamedExpr(expr) = item
            && !is_column(strip_casts(expr))
        {
            *item = SelectItem::ExprWithAlias {
                expr: expr.clone(),
                alias: Ident::new(format!("{SAME_NAME_ALIAS}{position}")),
            };
            changed = true;
        }
    }
    changed
}

/// The select-list index an `ORDER BY n` names.
fn ordinal(expr: &Expr) -> Option<usize> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse::<usize>().ok()?.checked_sub(1),
            _ => None,
        },
        _ => None,
    }
}

/// The name DataFusion gives `expr` as a column, near enough: a cast is named after what it
/// casts (at any depth: `f(a::date)` is named `f(a)`), a column after its last name part (a
/// qualified and an unqualified reference to one column share a name), an interval literal
/// after its value (all taken as one), a scalar subquery as `<subquery>`, anything else after
/// its text.
fn name_key(expr: &Expr) -> String {
    match strip_casts(expr) {
        Expr::Identifier(ident) => ident_key(ident),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_key).unwrap_or_default(),
        other => {
            let mut uncast = other.clone();
            let _ = visit_expressions_mut(&mut uncast, |e| {
                match e {
                    Expr::Cast { expr, .. } => *e = (**expr).clone(),
                    // Named by its value: `interval '90 minutes'` and `interval '1.5 hours'`
                    // are one name; all are taken as one.
                    Expr::Interval(_) => *e = Expr::Identifier(Ident::new("interval")),
                    // DataFusion names every scalar subquery `<subquery>`.
                    Expr::Subquery(_) => *e = Expr::Identifier(Ident::new("<subquery>")),
                    // `substring(x FROM 2)` and `substring(x, 2)` are one call.
                    Expr::Substring {
                        special, shorthand, ..
                    } => (*special, *shorthand) = (false, false),
                    _ => {}
                }
                ControlFlow::<()>::Continue(())
            });
            uncast.to_string()
        }
    }
}

fn ident_key(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

fn strip_casts(expr: &Expr) -> &Expr {
    match expr {
        Expr::Cast { expr, .. } | Expr::Nested(expr) => strip_casts(expr),
        other => other,
    }
}

fn is_cast(expr: &Expr) -> bool {
    match expr {
        Expr::Cast { .. } => true,
        Expr::Nested(inner) => is_cast(inner),
        _ => false,
    }
}

fn is_column(expr: &Expr) -> bool {
    matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
}

#[cfg(test)]
mod tests {
    use super::rewrite;
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
        rewrite(&mut statements[0]);
        statements[0].to_string()
    }

    #[test]
    fn casts_of_a_selected_column_get_their_own_alias() {
        assert_eq!(
            rewritten("SELECT start_time::date, start_time FROM cdrs"),
            "SELECT start_time::DATE AS __same_name_0, start_time FROM cdrs"
        );
        assert_eq!(
            rewritten("SELECT CAST(c.start_time AS DATE), c.start_time::TEXT FROM cdrs AS c"),
            "SELECT CAST(c.start_time AS DATE), c.start_time::TEXT AS __same_name_1 FROM cdrs AS c"
        );
    }

    #[test]
    fn repeated_columns_keep_the_first() {
        assert_eq!(
            rewritten("SELECT tenant, count(*), tenant, count(*) FROM cdrs GROUP BY tenant"),
            "SELECT tenant, count(*), tenant AS __same_name_2, count(*) AS __same_name_3 FROM cdrs GROUP BY tenant"
        );
    }

    #[test]
    fn a_cast_of_a_column_sorted_by_gets_an_alias() {
        assert_eq!(
            rewritten("SELECT start_time::date FROM cdrs ORDER BY start_time"),
            "SELECT start_time::DATE AS __same_name_0 FROM cdrs ORDER BY start_time"
        );
        let same =
            "SELECT start_time::DATE, count(*) FROM cdrs GROUP BY 1 ORDER BY start_time::DATE";
        assert_eq!(rewritten(same), same);
    }

    #[test]
    fn casts_inside_expressions_are_named_after_what_they_cast() {
        assert_eq!(
            rewritten("SELECT pg_typeof(a), pg_typeof(a::date) FROM t"),
            "SELECT pg_typeof(a), pg_typeof(a::DATE) AS __same_name_1 FROM t"
        );
    }

    #[test]
    fn interval_literals_may_share_a_value() {
        assert_eq!(
            rewritten("SELECT INTERVAL '90 minutes', INTERVAL '1.5 hours'"),
            "SELECT INTERVAL '90 minutes', INTERVAL '1.5 hours' AS __same_name_1"
        );
    }

    #[test]
    fn columns_beside_a_wildcard_get_an_alias() {
        assert_eq!(
            rewritten("SELECT *, start_time::date FROM cdrs"),
            "SELECT *, start_time::DATE AS __same_name_1 FROM cdrs"
        );
        let computed = "SELECT *, duration_s / 60 FROM cdrs";
        assert_eq!(rewritten(computed), computed);
    }

    #[test]
    fn computed_columns_sorted_by_position_get_an_alias() {
        assert_eq!(
            rewritten("SELECT tenant, sum(x) - 1 FROM t GROUP BY 1 ORDER BY 2, 1"),
            "SELECT tenant, sum(x) - 1 AS __same_name_1 FROM t GROUP BY 1 ORDER BY 2, 1"
        );
        let columns = "SELECT tenant, x::TEXT FROM t ORDER BY 2, 1, 7";
        assert_eq!(rewritten(columns), columns);
    }

    #[test]
    fn subqueries_and_distinct_names_are_left_alone() {
        assert_eq!(
            rewritten("SELECT * FROM (SELECT a::text, a FROM t) AS s"),
            "SELECT * FROM (SELECT a::TEXT AS __same_name_0, a FROM t) AS s"
        );
        let distinct = "SELECT a::TEXT, b, count(*) AS n FROM t GROUP BY 1, 2";
        assert_eq!(rewritten(distinct), distinct);
    }
}
