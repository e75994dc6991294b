//! Casts to a text of bounded length, `CAST(x AS VARCHAR(n))` and `x::varchar(n)`, as
//! PostgreSQL makes them: the text cut to its first `n` characters. DataFusion drops the
//! length and kept the whole text. [`rewrite`] turns such a cast into
//! `bounded_varchar(CAST(x AS VARCHAR), n)`, DataFusion's `left` named as a cast
//! ([`super::spelled`], [`super::column_names`]), which it becomes when the optimizer simplifies
//! expressions.

use std::sync::LazyLock;

use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::ast::{CharacterLength, DataType, Expr, Ident};

use super::spelled::Spelled;
use super::syntax::{call_of, parse_expr};

/// The function a bounded cast is planned as.
pub const NAME: &str = "bounded_varchar";

static UDF: LazyLock<ScalarUDF> = LazyLock::new(|| {
    Spelled::udf(NAME, datafusion::functions::unicode::left())
        .as_ref()
        .clone()
});

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    UDF.clone()
}

/// `expr` as a call of [`NAME`] when it casts to a text of bounded length.
pub fn rewrite(expr: &Expr) -> Option<Expr> {
    let Expr::Cast {
        kind,
        expr: inner,
        data_type,
        array: false,
        format: None,
    } = expr
    else {
        return None;
    };
    let (DataType::Varchar(Some(length))
    | DataType::CharacterVarying(Some(length))
    | DataType::CharVarying(Some(length))) = data_type
    else {
        return None;
    };
    let CharacterLength::IntegerLength { length, .. } = length else {
        return None;
    };
    let text = Expr::Cast {
        kind: kind.clone(),
        expr: inner.clone(),
        data_type: DataType::Varchar(None),
        array: false,
        format: None,
    };
    let length = parse_expr(&length.to_string())?;
    Some(call_of(Ident::new(NAME), vec![text, length]))
}
