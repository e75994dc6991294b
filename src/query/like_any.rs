//! `x [NOT] [I]LIKE ANY (ARRAY['+31%', '+32%'])` and `… LIKE ALL (ARRAY[…])`, PostgreSQL's
//! match against a list of patterns (numbers by prefix, names by several spellings), which
//! DataFusion refuses. The statement rewrite ([`super::syntax`]) spells a literal array out:
//! `ANY` as the patterns' matches joined by `OR`, `ALL` by `AND` (NULLs as PostgreSQL treats
//! them, since `ANY`/`ALL` are defined as those joins); an empty array is false for `ANY` and
//! true for `ALL`. A pattern list that is not an `ARRAY[…]` literal is left as it is.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value};

/// The `OR`/`AND` of single matches for `x LIKE ANY/ALL (ARRAY[…])`; None for anything else.
pub(super) fn rewrite(expr: &Expr) -> Option<Expr> {
    let (negated, any, text, pattern, escape_char, ilike) = match expr {
        Expr::Like {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => (*negated, *any, expr, pattern, escape_char, false),
        Expr::ILike {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } => (*negated, *any, expr, pattern, escape_char, true),
        _ => return None,
    };
    let (patterns, join) = if any {
        (array(pattern)?, BinaryOperator::Or)
    } else {
        let all = super::syntax::call_args(pattern, "all")?;
        let [list] = all.as_slice() else {
            return None;
        };
        (array(list)?, BinaryOperator::And)
    };
    let one = |p: &Expr| {
        let (expr, pattern, escape_char) = (text.clone(), Box::new(p.clone()), escape_char.clone());
        if ilike {
            Expr::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
        } else {
            Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char,
            }
        }
    };
    let joined = patterns
        .iter()
        .map(one)
        .reduce(|left, right| Expr::BinaryOp {
            left: Box::new(left),
            op: join.clone(),
            right: Box::new(right),
        })
        .unwrap_or_else(|| Expr::value(Value::Boolean(join == BinaryOperator::And)));
    Some(Expr::Nested(Box::new(joined)))
}

/// The elements of `ARRAY[…]` (in parentheses or not).
fn array(expr: &Expr) -> Option<&[Expr]> {
    match expr {
        Expr::Nested(inner) => array(inner),
        Expr::Array(array) => Some(&array.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> Option<String> {
        rewrite(&super::super::syntax::parse_expr(sql)?).map(|e| e.to_string())
    }

    #[test]
    fn spells_the_list_out() {
        assert_eq!(
            rewritten("x LIKE ANY (ARRAY['a%', 'b%'])").as_deref(),
            Some("(x LIKE 'a%' OR x LIKE 'b%')")
        );
        assert_eq!(
            rewritten("x NOT ILIKE ALL (ARRAY['a%', 'b%'])").as_deref(),
            Some("(x NOT ILIKE 'a%' AND x NOT ILIKE 'b%')")
        );
        assert_eq!(
            rewritten("x LIKE ANY (ARRAY[])").as_deref(),
            Some("(false)")
        );
        assert_eq!(rewritten("x LIKE 'a%'"), None);
        assert_eq!(rewritten("x LIKE ANY (patterns)"), None);
    }
}
