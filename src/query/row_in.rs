//! `(a, b) IN (SELECT x, y FROM …)`: a row of values in the rows of a subquery, which
//! DataFusion refuses ("Too many columns! The subquery should only return one column").
//!
//! [`rewrite`] makes such an `IN`, when it is a conjunct of a `WHERE` or `HAVING`, the
//! `EXISTS` of a row of the subquery equal to it, column by column. There a row is kept only
//! when the condition is true, so `EXISTS` (false where `IN` is NULL) keeps the same rows.
//! `NOT IN`, and an `IN` whose NULL would show (a selected value), stay refused.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Select};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// The alias of the subquery inside the `EXISTS`, and the prefix of its columns' names.
const ALIAS: &str = "__cdrlake_row_in";

/// Rewrites the row `IN`s of the conjuncts of `select`'s `WHERE` and `HAVING`; true when any
/// changed.
pub fn rewrite(select: &mut Select) -> bool {
    let mut changed = false;
    for clause in [&mut select.selection, &mut select.having]
        .into_iter()
        .flatten()
    {
        changed |= in_conjuncts(clause);
    }
    changed
}

fn in_conjuncts(e: &mut Expr) -> bool {
    match e {
        Expr::Nested(inner) => in_conjuncts(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => in_conjuncts(left) | in_conjuncts(right),
        Expr::InSubquery {
            expr,
            subquery,
            negated: false,
        } => match expr.as_ref() {
            Expr::Tuple(values) => match exists(values, &subquery.to_string()) {
                Some(rewritten) => {
                    *e = rewritten;
                    true
                }
                None => false,
            },
            _ => false,
        },
        _ => false,
    }
}

/// `EXISTS (SELECT 1 FROM (subquery) AS r (c1, …) WHERE r.c1 = v1 AND …)`.
fn exists(values: &[Expr], subquery: &str) -> Option<Expr> {
    let columns: Vec<String> = (1..=values.len()).map(|i| format!("{ALIAS}_{i}")).collect();
    let equal: Vec<String> = columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{ALIAS}.{c} = ({v})"))
        .collect();
    let sql = format!(
        "EXISTS (SELECT 1 FROM ({subquery}) AS {ALIAS} ({}) WHERE {})",
        columns.join(", "),
        equal.join(" AND ")
    );
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&sql)
        .ok()?
        .parse_expr()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::rewrite;
    use datafusion::sql::sqlparser::ast::{SetExpr, Statement};
    use datafusion::sql::sqlparser::{dialect::PostgreSqlDialect, parser::Parser};

    fn rewritten(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect("parses");
        if let Statement::Query(q) = &mut statements[0]
            && let SetExpr::Select(select) = q.body.as_mut()
        {
            rewrite(select);
        }
        statements[0].to_string()
    }

    #[test]
    fn a_row_in_a_subquery_is_an_exists() {
        assert_eq!(
            rewritten("SELECT * FROM t WHERE x > 1 AND (a, b) IN (SELECT c, d FROM u)"),
            "SELECT * FROM t WHERE x > 1 AND EXISTS (SELECT 1 FROM (SELECT c, d FROM u) AS \
             __cdrlake_row_in (__cdrlake_row_in_1, __cdrlake_row_in_2) WHERE \
             __cdrlake_row_in.__cdrlake_row_in_1 = (a) AND __cdrlake_row_in.__cdrlake_row_in_2 = (b))"
        );
    }

    #[test]
    fn not_in_and_selected_values_are_left_alone() {
        for sql in [
            "SELECT * FROM t WHERE (a, b) NOT IN (SELECT c, d FROM u)",
            "SELECT (a, b) IN (SELECT c, d FROM u) FROM t",
            "SELECT * FROM t WHERE x = 1 OR (a, b) IN (SELECT c, d FROM u)",
            "SELECT * FROM t WHERE a IN (SELECT c FROM u)",
        ] {
            assert_eq!(rewritten(sql), sql);
        }
    }
}
