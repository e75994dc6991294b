//! `substring(text FROM 'pattern')` as PostgreSQL reads it when the pattern is a text: the
//! part of `text` the POSIX regular expression matches, or the part its first parenthesised
//! group matches when it has one; NULL when it does not match
//! (`substring(destination FROM '^\+(\d{2})')` is the country code's digits). DataFusion planned
//! every `FROM` as a start position and refused a text there. A planner of our own
//! ([`SubstringPattern`], ahead of DataFusion's) plans a text literal pattern as
//! `substring_pattern(text, pattern)`, named `substring` in results as in PostgreSQL
//! ([`super::column_names`]); a number is a start position, planned as DataFusion's `substr`
//! named `substring` ([`super::spelled`]).

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use regex::Regex;

use super::text_arg::Texts;
use super::to_char::Parsed;
use super::udf::{all_scalar, invalid, result};

/// The function's name.
pub const NAME: &str = "substring_pattern";

/// Plans `substring(text FROM 'pattern')`; see the [module docs](self).
#[derive(Debug, Default)]
pub struct SubstringPattern;

impl ExprPlanner for SubstringPattern {
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        let pattern = matches!(
            args.as_slice(),
            [
                _,
                Expr::Literal(
                    ScalarValue::Utf8(_) | ScalarValue::Utf8View(_) | ScalarValue::LargeUtf8(_),
                    _
                )
            ]
        );
        if !pattern {
            return Ok(PlannerResult::Planned(super::spelled::substring(args)));
        }
        Ok(PlannerResult::Planned(UDF.call(args)))
    }
}

static UDF: LazyLock<ScalarUDF> = LazyLock::new(|| {
    ScalarUDF::new_from_impl(SubstringFn {
        signature: Signature::string(2, Volatility::Immutable),
    })
});

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    UDF.clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SubstringFn {
    signature: Signature,
}

impl ScalarUDFImpl for SubstringFn {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let [text, pattern] = args.args.as_slice() else {
            return exec_err!("{NAME}(text, pattern) takes two arguments");
        };
        let texts = cast(&text.to_array(args.number_rows)?, &DataType::Utf8)?;
        let texts = texts.as_string::<i32>();
        let patterns = Texts::of(pattern)?;
        let mut compiled = Parsed::default();
        let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 4);
        for r in 0..texts.len() {
            let Some(pattern) = patterns.get(r).filter(|_| texts.is_valid(r)) else {
                out.append_null();
                continue;
            };
            let regex = compiled.of(pattern, |p| {
                Regex::new(p)
                    .map_err(|e| invalid(format!("invalid regular expression \"{p}\": {e}")))
            })?;
            out.append_option(first_match(regex, texts.value(r)));
        }
        let out: ArrayRef = Arc::new(out.finish());
        result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "String Functions",
                "What substring(text FROM pattern) plans to: the part of text the regular expression matches, or what its first parenthesised group matches; NULL without a match.",
                "substring(text FROM pattern)",
            )
            .with_sql_example(
                "```sql\n> select substring('+31201234567' from '^\\+(\\d{2})');\n31\n```",
            )
            .with_argument("text", "The text to search.")
            .with_argument("pattern", "A regular expression.")
            .build()
        });
        Some(&DOC)
    }
}

/// What `regex` picks out of `text`: its first group's match when it has groups, else the
/// whole match.
fn first_match<'t>(regex: &Regex, text: &'t str) -> Option<&'t str> {
    if regex.captures_len() > 1 {
        regex.captures(text)?.get(1).map(|m| m.as_str())
    } else {
        regex.find(text).map(|m| m.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL 15's answers.
    #[test]
    fn picks_as_postgresql() {
        for (text, pattern, want) in [
            ("+31201234567", r"^\+(\d{2})", Some("31")),
            ("abc123def45", r"\d+", Some("123")),
            ("abc", r"\d+", None),
            ("abc", r"(x)?b", None),
            ("a-b", r"(\w)-(\w)", Some("a")),
        ] {
            let regex = Regex::new(pattern).unwrap();
            assert_eq!(first_match(&regex, text), want, "{text} {pattern}");
        }
    }
}
