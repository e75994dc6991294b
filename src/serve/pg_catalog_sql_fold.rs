//! Folds the `CASE` branches of catalog queries that no cdrlake relation can take.
//!
//! cdrlake has no identity, generated or non-default-collation columns: every
//! `pg_attribute` row has `attidentity = ''`, `attgenerated = ''` and `attcollation = 0`
//! ([`INVARIANTS`]; `datafusion-pg-catalog` builds the table so, and the SQLAlchemy client
//! test checks it over the wire). A `CASE WHEN` branch whose condition requires one of
//! these columns to differ from that value — SQLAlchemy's column reflection asks
//! `CASE WHEN attidentity != '' THEN (SELECT json_build_object(…) FROM pg_sequence …)` and
//! `CASE WHEN attcollation != 0 AND … THEN (SELECT … FROM pg_collation …)` — is false for
//! every row, so it is dropped (a `CASE` left without branches is its `ELSE`, or NULL).
//! PostgreSQL gives the same result; DataFusion could not plan those correlated subqueries.
//!
//! Only columns of `pg_attribute` are folded: unqualified, or qualified with
//! `pg_attribute`, `pg_catalog.pg_attribute` or an alias of it in the same statement.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Statement, TableFactor, Value, Visit, Visitor, visit_expressions_mut,
};

/// `pg_attribute` columns with one value in every row, as SQL literals' text.
const INVARIANTS: &[(&str, &str)] = &[
    ("attidentity", ""),
    ("attgenerated", ""),
    ("attcollation", "0"),
];

/// Folds the impossible `CASE` branches of `statement`; true when anything changed.
pub fn rewrite(statement: &mut Statement) -> bool {
    let aliases = attribute_aliases(statement);
    if aliases.is_empty() {
        return false;
    }
    let mut changed = false;
    let _ = visit_expressions_mut(statement, |expr| {
        if let Expr::Case {
            conditions,
            else_result,
            ..
        } = expr
        {
            let before = conditions.len();
            conditions.retain(|w| !never_true(&w.condition, &aliases));
            if conditions.len() != before {
                changed = true;
                if conditions.is_empty() {
                    *expr = else_result
                        .take()
                        .map_or(Expr::Value(Value::Null.into()), |e| *e);
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    changed
}

/// The names `pg_attribute` goes by in `statement` (empty when it is not read).
fn attribute_aliases(statement: &Statement) -> Vec<String> {
    struct Aliases(Option<Vec<String>>);
    impl Visitor for Aliases {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, alias, .. } = factor
                && name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .is_some_and(|i| i.value.eq_ignore_ascii_case("pg_attribute"))
            {
                let names = self.0.get_or_insert_with(|| {
                    vec![
                        "pg_attribute".to_owned(),
                        "pg_catalog.pg_attribute".to_owned(),
                    ]
                });
                if let Some(alias) = alias {
                    names.push(alias.name.value.to_ascii_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut aliases = Aliases(None);
    let _ = statement.visit(&mut aliases);
    aliases.0.unwrap_or_default()
}

/// Whether `condition` is false (or NULL) for every `pg_attribute` row: a conjunction with
/// a conjunct `column != value` (or `<>`) where `column` always holds `value`.
fn never_true(condition: &Expr, aliases: &[String]) -> bool {
    match condition {
        Expr::Nested(e) => never_true(e, aliases),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => never_true(left, aliases) || never_true(right, aliases),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::NotEq,
            right,
        } => [(left, right), (right, left)]
            .iter()
            .any(|(column, value)| {
                invariant(column, aliases).is_some_and(|v| literal(value) == Some(v.to_owned()))
            }),
        _ => false,
    }
}

/// The value an invariant `pg_attribute` column reference always holds.
fn invariant(expr: &Expr, aliases: &[String]) -> Option<&'static str> {
    let (qualifier, column) = match expr {
        Expr::Identifier(c) => (None, c),
        Expr::CompoundIdentifier(parts) => {
            let (column, qualifier) = parts.split_last()?;
            let qualifier: Vec<String> = qualifier
                .iter()
                .map(|p| p.value.to_ascii_lowercase())
                .collect();
            (Some(qualifier.join(".")), column)
        }
        _ => return None,
    };
    if qualifier.is_some_and(|q| !aliases.contains(&q)) {
        return None;
    }
    INVARIANTS
        .iter()
        .find(|(c, _)| column.value.eq_ignore_ascii_case(c))
        .map(|(_, v)| *v)
}

/// The text of a string or number literal, through casts and parentheses.
fn literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Nested(e) | Expr::Cast { expr: e, .. } => literal(e),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.to_string()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        crate::serve::pg_catalog_sql::rewritten_by(rewrite, sql)
    }

    #[test]
    fn impossible_branches_fold() {
        assert_eq!(
            rewritten(
                "SELECT CASE WHEN (pg_catalog.pg_attribute.attidentity != ''::VARCHAR) THEN (SELECT 1 FROM pg_sequence) ELSE NULL END FROM pg_catalog.pg_attribute"
            ),
            "SELECT NULL FROM pg_catalog.pg_attribute"
        );
        assert_eq!(
            rewritten(
                "SELECT CASE WHEN a.attcollation <> 0 AND (SELECT 1) != 2 THEN 'c' WHEN a.attnotnull THEN 'n' END FROM pg_attribute AS a"
            ),
            "SELECT CASE WHEN a.attnotnull THEN 'n' END FROM pg_attribute AS a"
        );
    }

    #[test]
    fn possible_branches_stay() {
        for sql in [
            "SELECT CASE WHEN attidentity <> 'a' THEN 1 END FROM pg_attribute",
            "SELECT CASE WHEN attidentity = '' THEN 1 END FROM pg_attribute",
            "SELECT CASE WHEN attcollation <> 0 OR attnum > 1 THEN 1 END FROM pg_attribute",
            "SELECT CASE WHEN c.attidentity <> '' THEN 1 END FROM cdrs AS c",
            "SELECT CASE WHEN x.attidentity <> '' THEN 1 END FROM pg_attribute AS a, t AS x",
        ] {
            assert_eq!(rewritten(sql), sql);
        }
    }
}
