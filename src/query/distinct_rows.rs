//! `count(DISTINCT (a, b))`: the distinct rows of values. DataFusion counts them as struct
//! values, whose memory it accounts by their batches' whole buffers, so a count over ~80K
//! distinct pairs failed the query memory limit ("Additional allocation failed").
//!
//! [`rewrite`] counts one text per row instead: each value cast to text and quoted as a
//! literal, or the word NULL (`quote_nullable`), joined by commas. Quoting makes the text tell
//! the values apart (a quote inside a value is doubled), so two rows give one text exactly when
//! their values' texts are equal; a row is counted even when its values are NULL, as
//! PostgreSQL counts a row value.

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType, DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, Value,
};

use super::syntax::call_of;

/// `count(DISTINCT (a, …))` counting texts of its rows; `None` for any other expression.
pub fn rewrite(expr: &Expr) -> Option<Expr> {
    let Expr::Function(f) = expr else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("count") {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment != Some(DuplicateTreatment::Distinct) {
        return None;
    }
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Tuple(values)))] = list.args.as_slice()
    else {
        return None;
    };
    let comma = Expr::Value(Value::SingleQuotedString(",".to_owned()).into());
    let mut parts = Vec::with_capacity(values.len() * 2);
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            parts.push(comma.clone());
        }
        let text = Expr::Cast {
            kind: CastKind::Cast,
            expr: Box::new(value.clone()),
            data_type: DataType::Text,
            array: false,
            format: None,
        };
        parts.push(call_of(Ident::new("quote_nullable"), vec![text]));
    }
    let mut counted = f.clone();
    if let FunctionArguments::List(list) = &mut counted.args {
        list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(call_of(
            Ident::new("concat"),
            parts,
        )))];
    }
    Some(Expr::Function(counted))
}
