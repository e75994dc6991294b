//! Result column names as PostgreSQL gives them. DataFusion names an unaliased expression
//! after its text (`Int64(1) + Int64(1)`, `count(*)`, `make_array(…)`); PostgreSQL after
//! its shape (`FigureColname` in parse_target.c): a column by its name, a function call or
//! aggregate by the function's name, a cast by what it casts or else its type, `CASE` by
//! its `ELSE` or `case`, `ARRAY[…]` and `ARRAY(SELECT …)` `array`, `EXISTS` `exists`, a
//! scalar subquery by its column, and anything else `?column?`. BI tools show these names.
//!
//! The names are read off the planned (not yet analyzed) query: the top-level plan's
//! expressions, each column followed to the expression that made it (through aggregates,
//! windows, subqueries, sorts). They name the server's row descriptions and COPY headers and
//! the command line's results and exports; the plan keeps DataFusion's names, which must stay
//! unique (PostgreSQL allows `?column?` twice; [`super::duplicate_names`]).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::utils::expr::COUNT_STAR_EXPANSION;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Distinct, Expr, JoinType, LogicalPlan};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::duplicate_names::SAME_NAME_ALIAS;

/// What PostgreSQL calls an expression it cannot name.
const UNNAMED: &str = "?column?";

/// The prefix `datafusion-pg-catalog` gives the aliases it adds to duplicated columns.
const DUPLICATE_ALIAS: &str = "__alias_";

/// Functions the planner calls for operators, unnamed as operators are.
const OPERATORS: &[&str] = &["interval_mul", "interval_div"];

/// Functions casts are planned as, named as casts are (after their first argument): `CAST(e AS
/// regclass)` is `regclass(e)` (`serve::pg_regclass`), `CAST(e AS VARCHAR(n))`
/// `bounded_varchar(CAST(e AS VARCHAR), n)` ([`super::varchar_length`]).
const CASTS: &[(&str, &str)] = &[
    ("regclass", "regclass"),
    (super::varchar_length::NAME, "varchar"),
];

/// Functions planned for PostgreSQL syntax, named as PostgreSQL names that syntax.
const SYNTAX: &[(&str, &str)] = &[(super::substring::NAME, "substring")];

/// The UDF the `ARRAY(SELECT …)` rewrite wraps its aggregate in ([`crate::serve::pg_functions`]).
pub const ARRAY_SUBQUERY: &str = "array_or_empty";

/// How sure a name is (PostgreSQL's strength): a cast of something weaker takes its type's
/// name instead.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    None,
    Weak,
    Strong,
}

/// `stream` with its columns named `names` (unchanged when the counts differ).
pub fn renamed(stream: SendableRecordBatchStream, names: Vec<String>) -> SendableRecordBatchStream {
    let schema = stream.schema();
    let same = names
        .iter()
        .map(String::as_str)
        .eq(schema.fields().iter().map(|f| f.name().as_str()));
    if same || names.len() != schema.fields().len() {
        return stream;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(f, name)| f.as_ref().clone().with_name(name))
        .collect();
    let named = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batches = stream.map({
        let named = named.clone();
        move |batch| {
            let batch = batch?;
            Ok(RecordBatch::try_new(
                named.clone(),
                batch.columns().to_vec(),
            )?)
        }
    });
    Box::pin(RecordBatchStreamAdapter::new(named, batches))
}

/// PostgreSQL's names of the output columns of `plan`, one per field of its schema.
pub fn output_names(plan: &LogicalPlan) -> Vec<String> {
    let names = match plan {
        LogicalPlan::Projection(p) => {
            let input = output_names(&p.input);
            p.expr
                .iter()
                .map(|e| figure(e, &p.input, &input).0)
                .collect()
        }
        LogicalPlan::Aggregate(a) => {
            let input = output_names(&a.input);
            let name = |e: &Expr| figure(&e.clone().unalias_nested().data, &a.input, &input).0;
            // ROLLUP, CUBE and GROUPING SETS: a column per grouped expression, then the
            // grouping id DataFusion adds.
            let mut names: Vec<String> = match a.group_expr.as_slice() {
                [Expr::GroupingSet(set)] => {
                    let mut names: Vec<String> =
                        set.distinct_expr().into_iter().map(name).collect();
                    names.push(datafusion::logical_expr::Aggregate::INTERNAL_GROUPING_ID.into());
                    names
                }
                groups => groups.iter().map(name).collect(),
            };
            names.extend(a.aggr_expr.iter().map(name));
            names
        }
        LogicalPlan::Window(w) => {
            let input = output_names(&w.input);
            let window = w
                .window_expr
                .iter()
                .map(|e| figure(&e.clone().unalias_nested().data, &w.input, &input).0);
            let window: Vec<String> = window.collect();
            input.into_iter().chain(window).collect()
        }
        // Each output column comes from an input column (unnested or passed through).
        LogicalPlan::Unnest(u) => {
            let input = output_names(&u.input);
            let from = |i: &usize| input.get(*i).cloned();
            let names: Option<Vec<String>> = u.dependency_indices.iter().map(from).collect();
            names.unwrap_or_default()
        }
        LogicalPlan::Filter(f) => output_names(&f.input),
        LogicalPlan::Sort(s) => output_names(&s.input),
        LogicalPlan::Limit(l) => output_names(&l.input),
        LogicalPlan::SubqueryAlias(s) => output_names(&s.input),
        LogicalPlan::Repartition(r) => output_names(&r.input),
        LogicalPlan::Distinct(Distinct::All(input)) => output_names(input),
        LogicalPlan::Union(u) => u
            .inputs
            .first()
            .map(|i| output_names(i))
            .unwrap_or_default(),
        LogicalPlan::Join(j) => match j.join_type {
            JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => output_names(&j.left),
            JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => {
                output_names(&j.right)
            }
            _ => {
                let mut names = output_names(&j.left);
                names.extend(output_names(&j.right));
                names
            }
        },
        _ => vec![],
    };
    if names.len() == plan.schema().fields().len() {
        names
    } else {
        plan.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }
}

/// `FigureColname` of `expr` over `input`, whose columns PostgreSQL calls `names`.
fn figure(expr: &Expr, input: &LogicalPlan, names: &[String]) -> (String, Strength) {
    let strong = |name: &str| (name.to_owned(), Strength::Strong);
    match expr {
        Expr::Alias(a) if a.name.starts_with(SAME_NAME_ALIAS) => figure(&a.expr, input, names),
        Expr::Alias(a) => match planner_alias(&a.expr, &a.name, input) {
            Some(name) => strong(&name),
            None => strong(a.name.strip_prefix(DUPLICATE_ALIAS).unwrap_or(&a.name)),
        },
        Expr::Column(c) => match input
            .schema()
            .index_of_column(c)
            .ok()
            .and_then(|i| names.get(i))
        {
            Some(name) => strong(name),
            None => strong(&c.name),
        },
        Expr::Cast(datafusion::logical_expr::Cast { expr, field })
        | Expr::TryCast(datafusion::logical_expr::TryCast { expr, field }) => {
            let inner = figure(expr, input, names);
            if inner.1 > Strength::Weak {
                inner
            } else {
                (type_name(field), Strength::Weak)
            }
        }
        Expr::ScalarFunction(f) => match f.name() {
            "make_array" | "make_list" | ARRAY_SUBQUERY => strong("array"),
            // `a[1]` is named after `a`.
            "array_element" => match f.args.first() {
                Some(array) => figure(array, input, names),
                None => (UNNAMED.to_owned(), Strength::None),
            },
            name if OPERATORS.contains(&name) => (UNNAMED.to_owned(), Strength::None),
            name if SYNTAX.iter().any(|(f, _)| *f == name) => strong(
                SYNTAX
                    .iter()
                    .find(|(f, _)| *f == name)
                    .map_or(name, |(_, n)| *n),
            ),
            name => match (CASTS.iter().find(|(f, _)| *f == name), f.args.as_slice()) {
                (Some((_, type_name)), [arg, ..]) => {
                    let inner = figure(arg, input, names);
                    if inner.1 > Strength::Weak {
                        inner
                    } else {
                        ((*type_name).to_owned(), Strength::Weak)
                    }
                }
                _ => strong(name),
            },
        },
        Expr::AggregateFunction(f) => strong(f.func.name()),
        Expr::WindowFunction(w) => strong(w.fun.name()),
        Expr::Case(c) => {
            let otherwise = c.else_expr.as_ref().map(|e| figure(e, input, names));
            match otherwise {
                Some(named) if named.1 > Strength::Weak => named,
                _ => ("case".to_owned(), Strength::Weak),
            }
        }
        // `interval '90 minutes'` is planned as its value, a cast of the text for PostgreSQL.
        Expr::Literal(value, _) if matches!(value.data_type(), DataType::Interval(_)) => {
            ("interval".to_owned(), Strength::Weak)
        }
        // `NOT EXISTS (…)` is the operator NOT applied to it: unnamed.
        Expr::Exists(e) if !e.negated => strong("exists"),
        Expr::ScalarSubquery(s) => match output_names(&s.subquery).into_iter().next() {
            Some(name) => (name, Strength::Strong),
            None => (UNNAMED.to_owned(), Strength::None),
        },
        _ => (UNNAMED.to_owned(), Strength::None),
    }
}

/// The name of a function call when `name` is an alias DataFusion's planner gave it, not
/// the query: `count(*)` (the count of rows, planned as `count(1)`), and `f(args)` for a
/// function called by another of its names (`substring(…)` of `substr`), named after the
/// name called, as PostgreSQL names it.
fn planner_alias(inner: &Expr, name: &str, input: &LogicalPlan) -> Option<String> {
    let (function, args) = match defining(inner, input) {
        Expr::ScalarFunction(f) => (f.name(), f.args.as_slice()),
        Expr::AggregateFunction(f) => (f.func.name(), f.params.args.as_slice()),
        Expr::WindowFunction(w) => (w.fun.name(), w.params.args.as_slice()),
        _ => return None,
    };
    let counts_rows = matches!(args, [Expr::Literal(v, _)] if *v == COUNT_STAR_EXPANSION);
    if function == "count" && counts_rows && name.starts_with("count(*)") {
        return Some("count".to_owned());
    }
    let arguments: Vec<String> = args.iter().map(ToString::to_string).collect();
    let called = name.strip_suffix(&format!("({})", arguments.join(",")))?;
    let is_name = !called.is_empty()
        && called
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_name.then(|| called.to_lowercase())
}

/// The expression that made `expr` when it is a column of an aggregate or window below
/// `input` (through `HAVING`, sorts, limits and windows); else `expr` itself.
fn defining<'a>(expr: &'a Expr, input: &'a LogicalPlan) -> &'a Expr {
    let Expr::Column(c) = expr else {
        return expr;
    };
    let Ok(i) = input.schema().index_of_column(c) else {
        return expr;
    };
    let made = match input {
        // The grouped expressions (a grouping set's, then its id), then the aggregates.
        LogicalPlan::Aggregate(a) => {
            match i.checked_sub(a.schema.fields().len() - a.aggr_expr.len()) {
                Some(j) => a.aggr_expr.get(j),
                None if matches!(a.group_expr.as_slice(), [Expr::GroupingSet(_)]) => None,
                None => a.group_expr.get(i),
            }
        }
        // A window's input columns (an aggregate's, when windows rank aggregates) pass through.
        LogicalPlan::Window(w) => match i.checked_sub(w.input.schema().fields().len()) {
            Some(j) => w.window_expr.get(j),
            None => return defining(expr, &w.input),
        },
        LogicalPlan::Filter(f) => return defining(expr, &f.input),
        LogicalPlan::Sort(s) => return defining(expr, &s.input),
        LogicalPlan::Limit(l) => return defining(expr, &l.input),
        _ => None,
    };
    match made {
        Some(Expr::Alias(a)) => &a.expr,
        Some(e) => e,
        None => expr,
    }
}

/// The name PostgreSQL gives a cast to the type of `field` (the type's own name, as in
/// `pg_type.typname`: `int4`, `numeric`, `timestamptz`; an array cast, its element's).
fn type_name(field: &Field) -> String {
    if let Some(alias) = field.metadata().get(arrow_pg::datatypes::PG_OID_ALIAS_KEY) {
        return alias.clone();
    }
    data_type_name(field.data_type()).to_owned()
}

fn data_type_name(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Boolean => "bool",
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "int2",
        DataType::Int32 | DataType::UInt16 => "int4",
        DataType::Int64 | DataType::UInt32 => "int8",
        DataType::UInt64 => "numeric",
        DataType::Float16 | DataType::Float32 => "float4",
        DataType::Float64 => "float8",
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => "numeric",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Time32(_) | DataType::Time64(_) => "time",
        DataType::Timestamp(_, None) => "timestamp",
        DataType::Timestamp(_, Some(_)) => "timestamptz",
        DataType::Interval(_) | DataType::Duration(_) => "interval",
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            data_type_name(f.data_type())
        }
        _ => UNNAMED,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    use super::output_names;

    async fn names(sql: &str) -> Vec<String> {
        let ctx = SessionContext::new();
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![1])),
                Arc::new(StringArray::from(vec!["a"])),
            ],
        )
        .expect("batch");
        ctx.register_batch("t", batch).expect("register");
        let plan = ctx.state().create_logical_plan(sql).await.expect("plans");
        output_names(&plan)
    }

    #[tokio::test]
    async fn names_like_postgres() {
        let cases: &[(&str, &[&str])] = &[
            (
                "SELECT 1+1, 'a', x + 1 FROM t",
                &["?column?", "?column?", "?column?"],
            ),
            ("SELECT 1, 2", &["?column?", "?column?"]),
            ("SELECT count(*) FROM t", &["count"]),
            ("SELECT count(*) OVER () FROM t", &["count"]),
            ("SELECT x AS \"f(x)\" FROM t", &["f(x)"]),
            ("SELECT ARRAY[1,2], ARRAY[1]::text", &["array", "array"]),
            (
                "SELECT count(*), sum(x), count(*) AS n FROM t",
                &["count", "sum", "n"],
            ),
            ("SELECT x::text, CAST(s AS int) FROM t", &["x", "s"]),
            (
                "SELECT 'a'::text, 1::bigint, 1.5::float8::numeric",
                &["text", "int8", "numeric"],
            ),
            ("SELECT now(), coalesce(x, 1) FROM t", &["now", "coalesce"]),
            ("SELECT CASE WHEN x > 0 THEN 1 END FROM t", &["case"]),
            ("SELECT CASE WHEN x > 0 THEN 1 ELSE x END FROM t", &["x"]),
            ("SELECT * FROM t", &["x", "s"]),
            ("SELECT * FROM (SELECT count(*) FROM t) q", &["count"]),
            ("SELECT upper(s) FROM t GROUP BY s ORDER BY s", &["upper"]),
            ("SELECT count(*) FROM t GROUP BY s ORDER BY s", &["count"]),
            (
                "SELECT s, count(*) FROM t GROUP BY s HAVING count(*) > 0",
                &["s", "count"],
            ),
            (
                "SELECT row_number() OVER (ORDER BY x) FROM t",
                &["row_number"],
            ),
            ("SELECT (SELECT max(x) FROM t)", &["max"]),
            ("SELECT EXISTS (SELECT 1 FROM t)", &["exists"]),
            (
                "SELECT x IS NULL, NOT true FROM t",
                &["?column?", "?column?"],
            ),
            ("SELECT 1 UNION ALL SELECT 2", &["?column?"]),
            ("SELECT DISTINCT s FROM t", &["s"]),
            (
                "SELECT a.x, b.x FROM t a JOIN t b ON a.x = b.x",
                &["x", "x"],
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(&names(sql).await, expected, "{sql}");
        }
    }
}
