//! PostgreSQL's quoting of names and values in SQL text: `quote_ident(text)`,
//! `quote_literal(value)` and `quote_nullable(value)`, as PostgreSQL 15 quotes them (and as
//! `format('%I')` and `format('%L')` do, [`super::format`]). Schema browsers build the names
//! they look up with them (`quote_ident(table_schema) || '.' || quote_ident(table_name)`).

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::udf::{all_scalar, result, session_zone};

/// PostgreSQL 15's keywords that are not unreserved (`SELECT word FROM pg_get_keywords()
/// WHERE catcode <> 'U'`): a name spelled like one of them needs quotes. Sorted.
const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// `name` as PostgreSQL's `quote_ident` writes it: as it is when it reads back unchanged
/// without quotes (lower-case letters, digits and `_`, not starting with a digit, no keyword),
/// else in double quotes with each `"` doubled.
pub(crate) fn quote_ident(name: &str) -> Cow<'_, str> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && KEYWORDS.binary_search(&name).is_err();
    if plain {
        return Cow::Borrowed(name);
    }
    Cow::Owned(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// `text` as PostgreSQL's `quote_literal` writes it: in single quotes with each `'` and `\`
/// doubled, and an `E` before the quotes when there was a backslash.
pub(crate) fn quote_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 3);
    if text.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Which quoting function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Ident,
    Literal,
    Nullable,
}

/// The three functions: (name, kind, description).
const FUNCTIONS: &[(&str, Kind, &str)] = &[
    (
        "quote_ident",
        Kind::Ident,
        "The text as an SQL name: unchanged when it reads back so without quotes, else in double quotes with each double quote doubled. PostgreSQL's quote_ident. NULL for NULL.",
    ),
    (
        "quote_literal",
        Kind::Literal,
        "The value's text as an SQL string literal: in single quotes, quotes and backslashes doubled (E'…' when there is a backslash). PostgreSQL's quote_literal. NULL for NULL.",
    ),
    (
        "quote_nullable",
        Kind::Nullable,
        "As quote_literal, but the unquoted word NULL for NULL. PostgreSQL's quote_nullable.",
    ),
];

/// The quoting functions, to register in a session.
pub fn udfs() -> Vec<ScalarUDF> {
    FUNCTIONS
        .iter()
        .map(|(name, kind, description)| {
            ScalarUDF::new_from_impl(Quote {
                name,
                kind: *kind,
                description,
                signature: Signature::any(1, Volatility::Stable),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Quote {
    name: &'static str,
    kind: Kind,
    description: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for Quote {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[arrow::datatypes::DataType]) -> Result<arrow::datatypes::DataType> {
        Ok(arrow::datatypes::DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let zone = session_zone(&args.config_options)?;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [value] = arrays.as_slice() else {
            return exec_err!("{} takes one argument", self.name);
        };
        let texts = texts(value, zone)?;
        let mut out = StringBuilder::new();
        for text in &texts {
            match (text, self.kind) {
                (None, Kind::Nullable) => out.append_value("NULL"),
                (None, _) => out.append_null(),
                (Some(t), Kind::Ident) => out.append_value(quote_ident(t)),
                (Some(t), _) => out.append_value(quote_literal(t)),
            }
        }
        let out: ArrayRef = Arc::new(out.finish());
        result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOCS: LazyLock<Vec<Documentation>> = LazyLock::new(|| {
            FUNCTIONS
                .iter()
                .map(|(name, _, description)| {
                    super::udf::documentation(
                        "String Functions",
                        description,
                        match *name {
                            "quote_ident" => "quote_ident(text)",
                            "quote_literal" => "quote_literal(value)",
                            _ => "quote_nullable(value)",
                        },
                    )
                    .with_argument("value", "The text (or any value, as its text) to quote.")
                    .build()
                })
                .collect()
        });
        FUNCTIONS
            .iter()
            .position(|(name, _, _)| *name == self.name)
            .and_then(|i| DOCS.get(i))
    }
}

/// Each value of `array` as PostgreSQL's text output writes it (`None` for NULL), times in
/// `zone`.
/// Types PostgreSQL's text output does not cover are cast to text by Arrow.
pub(crate) fn texts(array: &ArrayRef, zone: chrono_tz::Tz) -> Result<Vec<Option<String>>> {
    if let Ok(texts) = crate::export::pg_text::column_text(array, zone) {
        return Ok(texts);
    }
    let cast = arrow::compute::cast(array, &arrow::datatypes::DataType::Utf8)?;
    let cast = cast.as_string::<i32>();
    Ok(cast.iter().map(|t| t.map(str::to_owned)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    /// PostgreSQL 15's answers.
    #[test]
    fn quotes_names_as_postgresql() {
        for (name, quoted) in [
            ("cdrs", "cdrs"),
            ("call_log", "call_log"),
            ("_x1", "_x1"),
            ("Cdrs", "\"Cdrs\""),
            ("1st", "\"1st\""),
            ("a b", "\"a b\""),
            ("user", "\"user\""),
            ("name", "name"),
            ("time", "\"time\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("", "\"\""),
            ("é", "\"é\""),
        ] {
            assert_eq!(quote_ident(name), quoted, "{name}");
        }
    }

    #[test]
    fn quotes_literals_as_postgresql() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(quote_literal(""), "''");
    }
}
