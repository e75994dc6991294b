//! PostgreSQL syntax DataFusion's SQL planner does not take, rewritten in the parsed statement
//! before it is planned: every statement a client or the command line sends goes through
//! [`rewrite`] (the views' SQL does not).
//!
//! - `AT TIME ZONE` and `date_trunc(field, ts, zone)` ([`super::time_zone::rewrite`]).
//! - Output columns that would share a name get aliases of their own
//!   ([`super::duplicate_names`]); results carry PostgreSQL's names ([`super::column_names`]).
//! - `FETCH FIRST n ROWS ONLY` (the standard's `LIMIT`, which SQL-generating tools write) is
//!   `LIMIT n`; `FETCH FIRST ROW ONLY` is `LIMIT 1`. `WITH TIES` and `PERCENT` stay refused.
//! - `SELECT generate_series(1, 3)` returns a row a value in PostgreSQL (a set-returning
//!   function in the select list) and one array in DataFusion: it is `unnest(generate_series(1,
//!   3)) AS generate_series`, named as PostgreSQL names it unless aliased.
//! - `age(ts)` is `age(CAST(now() AS DATE), ts)`: the age at today's midnight in the session's
//!   zone ([`super::age`]).
//! - `make_interval(secs => x)` and other named arguments are positional, zeros between
//!   ([`super::make_interval`]).
//! - `x LIKE ANY (ARRAY[…])` and `LIKE ALL` are the single matches joined by `OR` and `AND`
//!   ([`super::like_any`]).
//! - `x SIMILAR TO 'pattern'` is `x ~ 'regex'`, PostgreSQL's translation of the pattern
//!   ([`super::similar_to`]).
//! - `substr(x, n)` is a call of `substr`, not the `SUBSTRING` syntax the parser reads it as
//!   (named `substr` in results, [`super::spelled`]).
//! - `CAST(x AS VARCHAR(n))` cuts the text to `n` characters ([`super::varchar_length`]).
//! - `INTERVAL '01:30:00'` and PostgreSQL's other interval forms Arrow refuses are written in
//!   Arrow's ([`super::interval_text`]).
//! - `count(r.*)` of a left-joined `r` counts the rows where `r` matched
//!   ([`super::row_count`]).
//! - `(a, b) IN (SELECT x, y …)` in a `WHERE` or `HAVING` is an `EXISTS` ([`super::row_in`]).
//! - `count(DISTINCT (a, b))` counts a text per row ([`super::distinct_rows`]).
//! - `LOCALTIMESTAMP` and `LOCALTIME` are `CAST(now() AS TIMESTAMP)` and `CAST(now() AS
//!   TIME)`: the statement's start as wall-clock time in the session's zone
//!   ([`super::time_zone::SessionTimeZone`] reads those casts so).

use std::ops::ControlFlow;

use datafusion::error::Result;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    Interval, LimitClause, ObjectName, Query, Select, SelectItem, SetExpr, Statement, Value,
    ValueWithSpan, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::{Dialect, PostgreSqlDialect};
use datafusion::sql::sqlparser::parser::Parser;

/// Rewrites `statement` in place; true when anything changed.
pub fn rewrite(statement: &mut Statement) -> bool {
    let mut rewriter = Rewriter { changed: false };
    let _ = statement.visit(&mut rewriter);
    super::time_zone::rewrite(statement)
        | super::duplicate_names::rewrite(statement)
        | rewriter.changed
}

/// [`rewrite`] over DataFusion's statement, whatever it wraps.
pub fn rewrite_df(statement: &mut DFStatement) -> bool {
    match statement {
        DFStatement::Statement(inner) => rewrite(inner),
        DFStatement::Explain(explain) => rewrite_df(&mut explain.statement),
        _ => false,
    }
}

/// `sql` (statements of `dialect`) with [`rewrite`] applied; the text itself when nothing
/// applies. For runners that take SQL text (the `.slt` tests).
pub fn rewrite_sql(sql: &str, dialect: &dyn Dialect) -> Result<String> {
    let mut statements = DFParser::parse_sql_with_dialect(sql, dialect)?;
    let mut changed = false;
    for statement in &mut statements {
        changed |= rewrite_df(statement);
    }
    if !changed {
        return Ok(sql.to_owned());
    }
    let texts: Vec<String> = statements.iter().map(ToString::to_string).collect();
    Ok(texts.join(";\n"))
}

struct Rewriter {
    changed: bool,
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.changed |= fetch_as_limit(query);
        if let SetExpr::Select(select) = query.body.as_mut() {
            self.changed |= unnest_series(select);
            self.changed |= super::row_count::rewrite(select);
            self.changed |= super::row_in::rewrite(select);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(local) = local_time(expr)
            .or_else(|| age_today(expr))
            .or_else(|| super::similar_to::rewrite(expr))
            .or_else(|| super::make_interval::positional(expr))
            .or_else(|| super::like_any::rewrite(expr))
            .or_else(|| substr_call(expr))
            .or_else(|| super::varchar_length::rewrite(expr))
            .or_else(|| super::distinct_rows::rewrite(expr))
            .or_else(|| interval_literal(expr))
        {
            *expr = local;
            self.changed = true;
        }
        ControlFlow::Continue(())
    }
}

/// `FETCH FIRST n ROWS ONLY` as `LIMIT n`, keeping an `OFFSET`.
fn fetch_as_limit(query: &mut Query) -> bool {
    let Some(fetch) = &query.fetch else {
        return false;
    };
    if fetch.with_ties || fetch.percent {
        return false;
    }
    let rows = fetch
        .quantity
        .clone()
        .unwrap_or_else(|| Expr::value(Value::Number("1".into(), false)));
    let limit = match query.limit_clause.take() {
        None => LimitClause::LimitOffset {
            limit: Some(rows),
            offset: None,
            limit_by: vec![],
        },
        Some(LimitClause::LimitOffset {
            limit: None,
            offset,
            limit_by,
        }) => LimitClause::LimitOffset {
            limit: Some(rows),
            offset,
            limit_by,
        },
        // Both LIMIT and FETCH: PostgreSQL refuses it, and so does the planner.
        Some(other) => {
            query.limit_clause = Some(other);
            return false;
        }
    };
    query.limit_clause = Some(limit);
    query.fetch = None;
    true
}

/// `generate_series(…)` selected (not inside an expression, but maybe cast:
/// `generate_series(…)::date`) as the rows of its values.
fn unnest_series(select: &mut Select) -> bool {
    let mut changed = false;
    for item in &mut select.projection {
        let (expr, alias) = match item {
            SelectItem::UnnamedExpr(e) => (e, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.clone())),
            _ => continue,
        };
        let mut expr = expr.clone();
        let Some(series) = series_in(&mut expr) else {
            continue;
        };
        let Some(unnested) = parse_expr(&format!("unnest({series})")) else {
            continue;
        };
        *series = unnested;
        *item = SelectItem::ExprWithAlias {
            expr,
            alias: alias.unwrap_or_else(|| Ident::new(SERIES)),
        };
        changed = true;
    }
    changed
}

const SERIES: &str = "generate_series";

/// The `generate_series(…)` call `expr` is, or casts.
fn series_in(expr: &mut Expr) -> Option<&mut Expr> {
    match expr {
        Expr::Cast { expr, .. } => series_in(expr),
        e if call(e, SERIES).is_some() => Some(e),
        _ => None,
    }
}

/// `substr(x, n [, m])`, which the parser reads as `SUBSTRING(x FROM n [FOR m])`, as a call of
/// the function `substr`: named `substr` as in PostgreSQL, not `substring`
/// ([`super::spelled`]).
fn substr_call(expr: &Expr) -> Option<Expr> {
    let Expr::Substring {
        expr,
        substring_from: Some(from),
        substring_for,
        shorthand: true,
        ..
    } = expr
    else {
        return None;
    };
    let args = [Some(expr), Some(from), substring_for.as_ref()]
        .into_iter()
        .flatten()
        .map(|e| e.as_ref().clone())
        .collect();
    // Quoted: its text parses as this call again, not as the syntax.
    Some(call_of(Ident::with_quote('"', "substr"), args))
}

/// A call of the function `name` with `args`.
pub(super) fn call_of(name: Ident, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![name]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// `INTERVAL '01:30:00'` and PostgreSQL's other forms Arrow refuses, in Arrow's form
/// ([`super::interval_text`]).
fn interval_literal(expr: &Expr) -> Option<Expr> {
    let Expr::Interval(Interval {
        value,
        leading_field: None,
        last_field: None,
        ..
    }) = expr
    else {
        return None;
    };
    let Expr::Value(ValueWithSpan {
        value: Value::SingleQuotedString(text),
        ..
    }) = value.as_ref()
    else {
        return None;
    };
    parse_expr(&format!(
        "INTERVAL '{}'",
        super::interval_text::normalized(text)?
    ))
}

/// `age(ts)`, with one argument, as the age at today's midnight.
fn age_today(expr: &Expr) -> Option<Expr> {
    let args = call_args(expr, super::age::NAME)?;
    let [ts] = args.as_slice() else {
        return None;
    };
    parse_expr(&format!("{}(CAST(now() AS DATE), {ts})", super::age::NAME))
}

/// `LOCALTIMESTAMP` and `LOCALTIME` (without a precision) as casts of `now()`.
fn local_time(expr: &Expr) -> Option<Expr> {
    const LOCAL: [(&str, &str); 2] = [
        ("localtimestamp", "CAST(now() AS TIMESTAMP)"),
        ("localtime", "CAST(now() AS TIME)"),
    ];
    let without_parentheses = |f: &Function| matches!(f.args, FunctionArguments::None);
    let (_, sql) = LOCAL
        .iter()
        .find(|(name, _)| call(expr, name).is_some_and(without_parentheses))?;
    parse_expr(sql)
}

/// `expr` when it calls the function `name` (unqualified, in any case).
pub(super) fn call<'a>(expr: &'a Expr, name: &str) -> Option<&'a Function> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let [called] = function.name.0.as_slice() else {
        return None;
    };
    called
        .to_string()
        .eq_ignore_ascii_case(name)
        .then_some(function)
}

/// The arguments of `expr` when it calls `name` with positional expressions only.
pub(crate) fn call_args<'a>(expr: &'a Expr, name: &str) -> Option<Vec<&'a Expr>> {
    let FunctionArguments::List(list) = &call(expr, name)?.args else {
        return None;
    };
    list.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// One PostgreSQL expression parsed (the rewrites' replacements), `None` when it does not parse.
pub fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        rewrite_sql(sql, &PostgreSqlDialect {}).expect("parses")
    }

    #[test]
    fn fetch_first_is_a_limit() {
        assert_eq!(
            rewritten("SELECT a FROM t ORDER BY a FETCH FIRST 5 ROWS ONLY"),
            "SELECT a FROM t ORDER BY a LIMIT 5"
        );
        assert_eq!(
            rewritten("SELECT a FROM t OFFSET 2 ROWS FETCH NEXT 1 ROW ONLY"),
            "SELECT a FROM t LIMIT 1 OFFSET 2 ROWS"
        );
        assert_eq!(
            rewritten("SELECT a FROM t FETCH FIRST ROW ONLY"),
            "SELECT a FROM t LIMIT 1"
        );
        assert_eq!(
            rewritten("SELECT * FROM (SELECT a FROM t FETCH FIRST 3 ROWS ONLY) s"),
            "SELECT * FROM (SELECT a FROM t LIMIT 3) s"
        );
        let ties = "SELECT a FROM t ORDER BY a FETCH FIRST 5 ROWS WITH TIES";
        assert_eq!(rewritten(ties), ties);
    }

    #[test]
    fn a_selected_series_is_its_rows() {
        assert_eq!(
            rewritten("SELECT generate_series(1, 3), generate_series(1, 9, 4) AS n"),
            "SELECT unnest(generate_series(1, 3)) AS generate_series, unnest(generate_series(1, 9, 4)) AS n"
        );
        let inside = "SELECT * FROM generate_series(1, 3) AS g";
        assert_eq!(rewritten(inside), inside);
    }

    #[test]
    fn age_of_one_time_is_at_todays_midnight() {
        assert_eq!(
            rewritten("SELECT age(start_time) AS a, age(end_time, start_time) AS b FROM cdrs"),
            "SELECT age(CAST(now() AS DATE), start_time) AS a, age(end_time, start_time) AS b FROM cdrs"
        );
    }

    #[test]
    fn local_times_are_casts_of_now() {
        assert_eq!(
            rewritten("SELECT localtimestamp, LOCALTIME"),
            "SELECT CAST(now() AS TIMESTAMP), CAST(now() AS TIME) AS __same_name_1"
        );
        let column = "SELECT \"localtimestamp\" FROM t";
        assert_eq!(rewritten(column), column);
    }
}
