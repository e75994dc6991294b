//! `parse_ident(text [, strict])` as PostgreSQL splits a qualified name: whitespace around the
//! parts and the dots is skipped, unquoted parts are lower-cased, quoted ones kept (`""` is a
//! quote). `'x'::regclass` resolves names through it (datafusion-pg-catalog's rewrite), so
//! `'"public" . "rates"'::regclass`, the form ADBC's bulk ingest looks its table up with, names
//! the table `rates`. datafusion-pg-catalog's own function kept the blanks and the case.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, ListBuilder, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(ParseIdent {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseIdent {
    signature: Signature,
}

impl ScalarUDFImpl for ParseIdent {
    fn name(&self) -> &str {
        "parse_ident"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [_] => Ok(vec![DataType::Utf8]),
            [_, _] => Ok(vec![DataType::Utf8, DataType::Boolean]),
            _ => plan_err!("parse_ident(text [, strict]) takes one or two arguments"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Utf8,
            true,
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = crate::query::udf::all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(texts) = arrays.first() else {
            return exec_err!("parse_ident takes a text");
        };
        let texts = cast(texts, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let strict = match arrays.get(1) {
            Some(s) => cast(s, &DataType::Boolean)?.as_boolean().clone(),
            None => BooleanArray::from(vec![true; texts.len()]),
        };
        let mut out = ListBuilder::new(StringBuilder::new());
        for r in 0..texts.len() {
            if texts.is_null(r) || strict.is_null(r) {
                out.append(false);
                continue;
            }
            let parts = split(texts.value(r), strict.value(r)).map_err(|message| {
                crate::query::udf::invalid(format!(
                    "string is not a valid identifier: \"{}\" ({message})",
                    texts.value(r)
                ))
            })?;
            for part in parts {
                out.values().append_value(part);
            }
            out.append(true);
        }
        crate::query::udf::result(Arc::new(out.finish()), scalar)
    }
}

/// The parts of `text`; with `strict`, nothing may follow the last one.
pub(super) fn split(text: &str, strict: bool) -> Result<Vec<String>, &'static str> {
    let mut parts = Vec::new();
    let mut rest = text.trim_start();
    loop {
        let part = if let Some(quoted) = rest.strip_prefix('"') {
            let mut part = String::new();
            let mut chars = quoted.char_indices();
            loop {
                match chars.next() {
                    None => return Err("unclosed double quotes"),
                    Some((i, '"')) if quoted[i + 1..].starts_with('"') => {
                        part.push('"');
                        chars.next();
                    }
                    Some((i, '"')) => {
                        rest = &quoted[i + 1..];
                        break;
                    }
                    Some((_, c)) => part.push(c),
                }
            }
            if part.is_empty() {
                return Err("quoted identifier must not be empty");
            }
            part
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(rest.len());
            if end == 0 {
                return Err("no valid identifier");
            }
            let part = rest[..end].to_ascii_lowercase();
            rest = &rest[end..];
            part
        };
        parts.push(part);
        rest = rest.trim_start();
        match rest.strip_prefix('.') {
            Some(after) => rest = after.trim_start(),
            None => break,
        }
    }
    if strict && !rest.is_empty() {
        return Err("extra characters after the last identifier");
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_as_postgresql() {
        let ok = |s: &str| split(s, true).expect(s);
        assert_eq!(ok("\"public\" . \"rates\""), ["public", "rates"]);
        assert_eq!(ok("Public.Rates"), ["public", "rates"]);
        assert_eq!(ok("\"SomeSchema\".someTable"), ["SomeSchema", "sometable"]);
        assert_eq!(ok("  cdrs  "), ["cdrs"]);
        assert_eq!(ok("\"a\"\"b\".c"), ["a\"b", "c"]);
        assert!(split("a.", true).is_err());
        assert!(split("a b", true).is_err());
        assert_eq!(split("a b", false).expect("lenient"), ["a"]);
        assert!(split("\"open", true).is_err());
    }
}
