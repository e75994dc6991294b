//! The statement rewrite planning `AT TIME ZONE` as PostgreSQL reads it, applied to every
//! statement a client or the command line sends (not to the views' SQL).
//!
//! - `ts AT TIME ZONE zone` is `timezone(zone, ts)` ([`super::Timezone`]). DataFusion plans
//!   the operator as a change of the instant's label only, which prints the same instant; it
//!   cannot be told apart from other casts once planned, hence a rewrite of the statement.
//! - `date_trunc(field, ts, zone)`, PostgreSQL's truncation in a named zone, is
//!   `timezone(zone, date_trunc(field, timezone(zone, ts)))`, as PostgreSQL defines it.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{Expr, Statement, visit_expressions_mut};

use super::function::NAME;

/// Rewrites `statement` in place; true when anything changed.
pub fn rewrite(statement: &mut Statement) -> bool {
    let mut changed = false;
    let _ = visit_expressions_mut(statement, |expr| {
        if let Some(new) = at_time_zone(expr).or_else(|| date_trunc_in_zone(expr)) {
            *expr = new;
            changed = true;
        }
        ControlFlow::<()>::Continue(())
    });
    changed
}

/// `timezone(zone, ts)` for `ts AT TIME ZONE zone`.
fn at_time_zone(expr: &Expr) -> Option<Expr> {
    let Expr::AtTimeZone {
        timestamp,
        time_zone,
    } = expr
    else {
        return None;
    };
    parse(&format!("{NAME}({time_zone}, {timestamp})"))
}

/// PostgreSQL's `date_trunc(field, ts, zone)` through `timezone`.
fn date_trunc_in_zone(expr: &Expr) -> Option<Expr> {
    let args = call_args(expr, "date_trunc")?;
    let [field, ts, zone] = args.as_slice() else {
        return None;
    };
    parse(&format!(
        "{NAME}({zone}, date_trunc({field}, {NAME}({zone}, {ts})))"
    ))
}

use crate::query::syntax::{call_args, parse_expr as parse};

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::{GenericDialect, PostgreSqlDialect};

    fn rewritten(sql: &str) -> String {
        crate::query::syntax::rewrite_sql(sql, &PostgreSqlDialect {}).expect("parses")
    }

    #[test]
    fn at_time_zone_is_the_timezone_function() {
        assert_eq!(
            rewritten("SELECT start_time AT TIME ZONE 'Europe/Amsterdam' AS local FROM cdrs"),
            "SELECT timezone('Europe/Amsterdam', start_time) AS local FROM cdrs"
        );
        assert_eq!(
            rewritten("SELECT t AT TIME ZONE 'UTC' AT TIME ZONE s.timezone FROM x, settings s"),
            "SELECT timezone(s.timezone, timezone('UTC', t)) FROM x, settings s"
        );
    }

    #[test]
    fn date_trunc_in_a_zone_goes_through_timezone() {
        assert_eq!(
            rewritten("SELECT date_trunc('day', start_time, 'Europe/Amsterdam') FROM cdrs"),
            "SELECT timezone('Europe/Amsterdam', date_trunc('day', timezone('Europe/Amsterdam', start_time))) FROM cdrs"
        );
    }

    #[test]
    fn other_statements_are_left_as_written() {
        let sql = "select date_trunc('day', start_time)   from cdrs";
        assert_eq!(rewritten(sql), sql);
        let generic = crate::query::syntax::rewrite_sql(sql, &GenericDialect {});
        assert_eq!(generic.expect("parses"), sql);
    }
}
