//! `count(r.*)` (and `count(r)`) over a `LEFT JOIN r`, as PostgreSQL counts it: the rows where
//! `r` matched.
//! DataFusion reads `count(r.*)` as `count(*)`, so `SELECT c.tenant, count(r.*) FROM cdrs c LEFT
//! JOIN refunds r ON r.call_id = c.call_id GROUP BY 1` counted every call instead of the refunds.
//!
//! [`rewrite`] makes it `count(r.k)`, for a column `k` of `r` that the join's `ON` compares with
//! `=` (a top-level conjunct): a matched row's `k` equalled something, so it is not NULL, and
//! an unmatched row's `k` is NULL, as every column of `r` is. Without such a column the count
//! is left as it was.

use std::collections::HashMap;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, JoinConstraint,
    JoinOperator, ObjectName, Select, TableFactor, VisitMut, visit_expressions_mut,
};

/// Rewrites the `count(r.*)` of `select` for its left-joined relations; true when any changed.
pub fn rewrite(select: &mut Select) -> bool {
    let keys = matched_keys(select);
    if keys.is_empty() {
        return false;
    }
    let mut changed = false;
    let _ = visit_expressions_mut(&mut select.projection, |e| {
        changed |= counted_key(e, &keys);
        std::ops::ControlFlow::<()>::Continue(())
    });
    if let Some(having) = &mut select.having {
        let _ = having.visit(&mut CountKeys {
            keys: &keys,
            changed: &mut changed,
        });
    }
    changed
}

/// For each relation joined by `LEFT JOIN … ON`, its name (alias, else table) and a column it
/// compares with `=` in a top-level conjunct of the condition.
fn matched_keys(select: &Select) -> HashMap<String, Ident> {
    let mut keys = HashMap::new();
    for join in select.from.iter().flat_map(|t| &t.joins) {
        let (JoinOperator::Left(JoinConstraint::On(on))
        | JoinOperator::LeftOuter(JoinConstraint::On(on))) = &join.join_operator
        else {
            continue;
        };
        let Some(name) = relation_name(&join.relation) else {
            continue;
        };
        if let Some(key) = equated_column(on, &name) {
            keys.insert(name, key);
        }
    }
    keys
}

/// The name a relation is referred to by: its alias, else its table's last name part.
fn relation_name(relation: &TableFactor) -> Option<String> {
    match relation {
        TableFactor::Table { alias: Some(a), .. } | TableFactor::Derived { alias: Some(a), .. } => {
            Some(a.name.value.clone())
        }
        TableFactor::Table { name, .. } => name.0.last().map(|p| p.to_string()),
        _ => None,
    }
}

/// A column of `relation` that `on` equates with something, in a conjunct of its top level.
fn equated_column(on: &Expr, relation: &str) -> Option<Ident> {
    match on {
        Expr::Nested(inner) => equated_column(inner, relation),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => equated_column(left, relation).or_else(|| equated_column(right, relation)),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => column_of(left, relation).or_else(|| column_of(right, relation)),
        _ => None,
    }
}

/// `expr`'s column when it is `relation.column`.
fn column_of(expr: &Expr, relation: &str) -> Option<Ident> {
    match expr {
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [r, column] if r.value == relation => Some(column.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Rewrites `e` when it is `count(r.*)` of a relation in `keys`.
fn counted_key(e: &mut Expr, keys: &HashMap<String, Ident>) -> bool {
    let Expr::Function(f) = e else {
        return false;
    };
    if !f.name.to_string().eq_ignore_ascii_case("count") {
        return false;
    }
    let FunctionArguments::List(list) = &mut f.args else {
        return false;
    };
    let [FunctionArg::Unnamed(arg)] = list.args.as_mut_slice() else {
        return false;
    };
    // `count(r.*)`, or `count(r)` of the row `r` (DataFusion found no column `r`).
    let relation = match arg {
        FunctionArgExpr::QualifiedWildcard(ObjectName(parts)) => match parts.as_slice() {
            [part] => part.to_string(),
            _ => return false,
        },
        FunctionArgExpr::Expr(Expr::Identifier(name)) => name.value.clone(),
        _ => return false,
    };
    let Some(key) = keys.get(&relation) else {
        return false;
    };
    let relation = Ident::new(relation);
    *arg = FunctionArgExpr::Expr(Expr::CompoundIdentifier(vec![relation, key.clone()]));
    true
}

/// [`counted_key`] over a `HAVING`.
struct CountKeys<'a> {
    keys: &'a HashMap<String, Ident>,
    changed: &'a mut bool,
}

impl datafusion::sql::sqlparser::ast::VisitorMut for CountKeys<'_> {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> std::ops::ControlFlow<()> {
        *self.changed |= counted_key(expr, self.keys);
        std::ops::ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::ast::{SetExpr, Statement};
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::rewrite;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        if let Statement::Query(q) = &mut statement
            && let SetExpr::Select(s) = q.body.as_mut()
        {
            rewrite(s);
        }
        statement.to_string()
    }

    #[test]
    fn counts_left_joined_rows_by_a_joined_column() {
        assert_eq!(
            rewritten(
                "SELECT c.tenant, count(r.*) FROM cdrs AS c LEFT JOIN refunds AS r ON r.call_id = c.call_id AND r.amount > 0 GROUP BY 1 HAVING count(r.*) > 1"
            ),
            "SELECT c.tenant, count(r.call_id) FROM cdrs AS c LEFT JOIN refunds AS r ON r.call_id = c.call_id AND r.amount > 0 GROUP BY 1 HAVING count(r.call_id) > 1"
        );
        assert_eq!(
            rewritten(
                "SELECT count(refunds.*) FROM cdrs LEFT OUTER JOIN refunds ON cdrs.call_id = refunds.call_id"
            ),
            "SELECT count(refunds.call_id) FROM cdrs LEFT OUTER JOIN refunds ON cdrs.call_id = refunds.call_id"
        );
        // An inner join, the left side, or no equality: as written.
        for sql in [
            "SELECT count(r.*) FROM cdrs AS c JOIN refunds AS r ON r.call_id = c.call_id",
            "SELECT count(c.*) FROM cdrs AS c LEFT JOIN refunds AS r ON r.call_id = c.call_id",
            "SELECT count(r.*) FROM cdrs AS c LEFT JOIN refunds AS r ON r.amount > c.charge",
        ] {
            assert_eq!(rewritten(sql), sql);
        }
    }
}
