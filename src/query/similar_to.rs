//! `x [NOT] SIMILAR TO 'pattern' [ESCAPE 'c']` as PostgreSQL reads it: the SQL standard's
//! pattern (`%` any text, `_` any character, `|`, `*`, `+`, `?`, `{m,n}`, `(…)` and `[…]` as
//! in regular expressions, `.` a dot) matched against the whole text. DataFusion matched the
//! pattern as a regular expression anywhere in the text (`'abc' SIMILAR TO 'a%'` was false,
//! `'xabcx' SIMILAR TO 'abc'` true). The statement rewrite ([`super::syntax`]) turns a literal
//! pattern into PostgreSQL's own translation (`similar_to_escape`), matched with `~`.

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value};

/// `x ~ 'regex'` (`!~` when negated) for `x [NOT] SIMILAR TO 'literal'`; None for anything
/// else (a pattern that is not a literal keeps DataFusion's reading).
pub(super) fn rewrite(expr: &Expr) -> Option<Expr> {
    let Expr::SimilarTo {
        negated,
        expr: text,
        pattern,
        escape_char,
    } = expr
    else {
        return None;
    };
    let Expr::Value(v) = pattern.as_ref() else {
        return None;
    };
    let Value::SingleQuotedString(pattern) = &v.value else {
        return None;
    };
    let escape = match escape_char {
        None => Some('\\'),
        Some(v) => {
            let Value::SingleQuotedString(e) = &v.value else {
                return None;
            };
            let mut chars = e.chars();
            match (chars.next(), chars.next()) {
                (None, _) => None,
                (Some(c), None) => Some(c),
                // PostgreSQL: "invalid escape string"; left for the planner to refuse.
                _ => return None,
            }
        }
    };
    Some(Expr::BinaryOp {
        left: text.clone(),
        op: if *negated {
            BinaryOperator::PGRegexNotMatch
        } else {
            BinaryOperator::PGRegexMatch
        },
        right: Box::new(Expr::value(Value::SingleQuotedString(regex(
            pattern, escape,
        )))),
    })
}

/// PostgreSQL's `similar_to_escape`: the regular expression a SIMILAR TO pattern stands for.
fn regex(pattern: &str, escape: Option<char>) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    out.push_str("^(?:");
    let mut after_escape = false;
    let mut in_class = false;
    for c in pattern.chars() {
        if after_escape {
            out.push('\\');
            out.push(c);
            after_escape = false;
        } else if Some(c) == escape {
            after_escape = true;
        } else if in_class {
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
            in_class = c != ']';
        } else {
            match c {
                '[' => {
                    out.push(c);
                    in_class = true;
                }
                '%' => out.push_str(".*"),
                '_' => out.push('.'),
                '(' => out.push_str("(?:"),
                '\\' | '.' | '^' | '$' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
    }
    out.push_str(")$");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL 15's translations (`EXPLAIN` of a SIMILAR TO shows them).
    #[test]
    fn translates_as_postgresql() {
        for (pattern, escape, want) in [
            ("a%", Some('\\'), "^(?:a.*)$"),
            ("_b_", Some('\\'), "^(?:.b.)$"),
            ("(0|00)%", Some('\\'), "^(?:(?:0|00).*)$"),
            ("1.5", Some('\\'), "^(?:1\\.5)$"),
            ("100\\%", Some('\\'), "^(?:100\\%)$"),
            ("100#%", Some('#'), "^(?:100\\%)$"),
            ("[0-9]+", Some('\\'), "^(?:[0-9]+)$"),
            ("a\\b", None, "^(?:a\\\\b)$"),
        ] {
            assert_eq!(regex(pattern, escape), want, "{pattern}");
        }
    }
}
