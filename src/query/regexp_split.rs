//! `regexp_split_to_array(text, pattern [, flags])`: `text` split at each match of the regular
//! expression, as PostgreSQL splits it: a text without a match is one piece, and an empty match
//! at the start or end of the text or right after another match splits nothing (so `''` splits
//! a text into its characters). `.` matches a newline, as in PostgreSQL's default; the flags
//! `i` (any case), `c` (case), `s`, `n`, `p`, `w` (newline handling) and `x` (expanded) apply,
//! and `g` is refused as PostgreSQL refuses it. NULL when an argument is.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use regex::{Regex, RegexBuilder};

use super::text_arg::{Texts, text_type};
use super::to_char::Parsed;
use super::udf::{all_scalar, invalid, result};

/// The function's name.
const NAME: &str = "regexp_split_to_array";

/// `regexp_split_to_array`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpSplit {
    signature: Signature,
}

/// The function, to register in a session.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(RegexpSplit {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

/// The element of the result's list.
fn element() -> Arc<Field> {
    Arc::new(Field::new_list_field(DataType::Utf8, true))
}

/// `pattern` compiled with PostgreSQL's `flags`.
fn compile(pattern: &str, flags: &str) -> Result<Regex> {
    let mut builder = RegexBuilder::new(pattern);
    builder.dot_matches_new_line(true);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'c' => builder.case_insensitive(false),
            's' => builder.dot_matches_new_line(true).multi_line(false),
            'n' => builder.dot_matches_new_line(false).multi_line(true),
            'p' => builder.dot_matches_new_line(false).multi_line(false),
            'w' => builder.dot_matches_new_line(true).multi_line(true),
            'x' => builder.ignore_whitespace(true),
            'g' => {
                return Err(invalid(format!(
                    "{NAME}() does not support the \"global\" option"
                )));
            }
            other => {
                return Err(invalid(format!(
                    "invalid regular expression option: \"{other}\""
                )));
            }
        };
    }
    builder
        .build()
        .map_err(|e| invalid(format!("invalid regular expression \"{pattern}\": {e}")))
}

/// The pieces of `text` between the matches of `regex` that split it.
fn split<'t>(regex: &Regex, text: &'t str) -> Vec<&'t str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_end = None;
    for m in regex.find_iter(text) {
        let empty = m.start() == m.end();
        let degenerate =
            m.start() == 0 || m.start() == text.len() || previous_end == Some(m.start());
        if empty && degenerate {
            continue;
        }
        pieces.push(&text[start..m.start()]);
        start = m.end();
        previous_end = Some(m.end());
    }
    pieces.push(&text[start..]);
    pieces
}

impl ScalarUDFImpl for RegexpSplit {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&types.len()) {
            return plan_err!("{NAME}(text, pattern [, flags]): not {types:?}");
        }
        types.iter().map(|t| text_type(NAME, "text", t)).collect()
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(element()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let [text, pattern, flags @ ..] = args.args.as_slice() else {
            return exec_err!("{NAME}(text, pattern [, flags]) takes two or three arguments");
        };
        let texts = Texts::of(text)?;
        let patterns = Texts::of(pattern)?;
        let flags = flags.first().map(Texts::of).transpose()?;
        let mut compiled = Parsed::default();
        let mut out = ListBuilder::new(StringBuilder::new()).with_field(element());
        for r in 0..args.number_rows {
            let flag = match &flags {
                Some(flags) => flags.get(r),
                None => Some(""),
            };
            let (Some(text), Some(pattern), Some(flag)) = (texts.get(r), patterns.get(r), flag)
            else {
                out.append_null();
                continue;
            };
            // The flags are part of the key: a pattern compiled once per change of either.
            let key = format!("{flag}/{pattern}");
            let regex = compiled.of(&key, |_| compile(pattern, flag))?;
            for piece in split(regex, text) {
                out.values().append_value(piece);
            }
            out.append(true);
        }
        let out: ArrayRef = Arc::new(out.finish());
        result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "String Functions",
                "text split at each match of a regular expression, as an array (PostgreSQL's rules for empty matches and flags).",
                "regexp_split_to_array(text, pattern [, flags])",
            )
            .with_sql_example(
                "```sql\n> select regexp_split_to_array('sip:100@pbx, sip:200@pbx', ',\\s*');\n[sip:100@pbx, sip:200@pbx]\n```",
            )
            .with_argument("text", "The text to split.")
            .with_argument("pattern", "A regular expression.")
            .with_argument("flags", "PostgreSQL's flags: i, c, s, n, p, w, x.")
            .build()
        });
        Some(&DOC)
    }
}

#[cfg(test)]
mod tests {
    use super::{compile, split};

    /// PostgreSQL 15's answers.
    #[test]
    fn splits_as_postgresql() {
        for (text, pattern, flags, want) in [
            ("a,b,,c", ",", "", vec!["a", "b", "", "c"]),
            ("hello", "", "", vec!["h", "e", "l", "l", "o"]),
            ("abc", "x*", "", vec!["a", "b", "c"]),
            ("a1b22c", r"\d+", "", vec!["a", "b", "c"]),
            (",a,", ",", "", vec!["", "a", ""]),
            ("", ",", "", vec![""]),
            ("aXbxc", "x", "i", vec!["a", "b", "c"]),
            ("a\nb", "a.b", "", vec!["", ""]),
            ("a\nb", "a.b", "n", vec!["a\nb"]),
            ("a\nb", "^b", "w", vec!["a\n", ""]),
        ] {
            let regex = compile(pattern, flags).unwrap();
            assert_eq!(split(&regex, text), want, "{text:?} {pattern:?} {flags:?}");
        }
        assert!(compile(",", "g").is_err());
    }
}
