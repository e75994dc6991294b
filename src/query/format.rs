//! PostgreSQL's `format(formatstr, arg, …)`: the format string with each `%[n$][-][width]type`
//! replaced by an argument's text — `%s` as is (NULL as nothing), `%I` as an SQL name
//! ([`quote_ident`]), `%L` as an SQL literal ([`quote_literal`], NULL as `NULL`) — and `%%` by
//! `%`. `n$` takes the n-th argument (later specifiers go on from there), `-` pads on the right,
//! the width is a number, `*` (the next argument) or `*n$`; a negative width pads on the right.
//! Values are written as PostgreSQL writes them (`t`, `2026-11-01 10:00:00+01`), in the
//! session's zone. Metabase's field sync names each table `format('%I.%I', schema, name)`.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::quote::{quote_ident, quote_literal, texts};
use super::text_arg::Texts;
use super::udf::{all_scalar, invalid, result, session_zone};

/// `format(formatstr, arg, …)`; see the [module docs](self).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Format {
    signature: Signature,
}

impl Default for Format {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
        }
    }
}

impl ScalarUDFImpl for Format {
    fn name(&self) -> &str {
        "format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let zone = session_zone(&args.config_options)?;
        let Some((pattern, values)) = args.args.split_first() else {
            return Err(invalid("format(formatstr, arg, …) needs a format string"));
        };
        // The format string is read once when it is a literal; the values are written as
        // PostgreSQL writes them.
        let patterns = Texts::of(pattern)?;
        let values: Vec<Vec<Option<String>>> = ColumnarValue::values_to_arrays(values)?
            .iter()
            .map(|v| texts(v, zone))
            .collect::<Result<_>>()?;
        let mut out = StringBuilder::new();
        let mut row_args = Vec::with_capacity(values.len());
        for r in 0..args.number_rows {
            let Some(pattern) = patterns.get(r) else {
                out.append_null();
                continue;
            };
            row_args.clear();
            row_args.extend(values.iter().map(|v| v[r].as_deref()));
            out.append_value(format(pattern, &row_args)?);
        }
        let out: ArrayRef = Arc::new(out.finish());
        result(out, scalar)
    }

    fn documentation(&self) -> Option<&Documentation> {
        static DOC: LazyLock<Documentation> = LazyLock::new(|| {
            super::udf::documentation(
                "String Functions",
                "The format string with each %s replaced by the next argument's text (NULL: nothing), %I by it quoted as an SQL name, %L as an SQL literal (NULL: NULL), %% by %. %n$s takes the n-th argument, %-10s pads to 10 characters on the right, %10s on the left, %*s takes the width from an argument. PostgreSQL's format. NULL when the format string is.",
                "format(formatstr, arg, …)",
            )
            .with_sql_example(
                "```sql\n> select format('%I.%I has %s rows', 'public', 'cdrs', 42);\npublic.cdrs has 42 rows\n```",
            )
            .with_argument("formatstr", "The text with %s, %I, %L, %% specifiers.")
            .with_argument("arg", "Values of any type, written as PostgreSQL writes them.")
            .build()
        });
        Some(&DOC)
    }
}

/// One specifier, parsed: the argument it takes (1-based), the width's source, left-justified,
/// the type character.
struct Specifier {
    position: Option<usize>,
    width: Width,
    left: bool,
    kind: char,
}

/// Where a specifier's width comes from.
enum Width {
    None,
    Fixed(usize),
    /// `*` (the next argument) or `*n$` (the n-th).
    Argument(Option<usize>),
}

/// `pattern` with `args` put in; see the [module docs](self).
fn format(pattern: &str, args: &[Option<&str>]) -> Result<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    // The next argument to take, 1-based (arguments are numbered after the format string).
    let mut next = 1;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let spec = specifier(&mut chars)?;
        if !matches!(spec.kind, 's' | 'I' | 'L') {
            return Err(invalid(format!(
                "unrecognized format() type specifier \"{}\" (for a single \"%\" use \"%%\")",
                spec.kind
            )));
        }
        let (width, left) = match spec.width {
            Width::None => (0, spec.left),
            Width::Fixed(w) => (w, spec.left),
            Width::Argument(at) => {
                let at = at.unwrap_or(next);
                let value = argument(args, at)?;
                next = at + 1;
                let w: i64 = match value {
                    None => 0,
                    Some(t) => t.trim().parse().map_err(|_| {
                        invalid(format!("format() width \"{t}\" is not an integer"))
                    })?,
                };
                let w = usize::try_from(w.unsigned_abs())
                    .map_err(|_| invalid("format() width is too large"))?;
                (
                    w,
                    spec.left || value.is_some_and(|t| t.trim().starts_with('-')),
                )
            }
        };
        let at = spec.position.unwrap_or(next);
        let value = argument(args, at)?;
        next = at + 1;
        let text = match (spec.kind, value) {
            ('I', None) => {
                return Err(invalid(
                    "null values cannot be formatted as an SQL identifier",
                ));
            }
            ('I', Some(v)) => quote_ident(v).into_owned(),
            ('L', None) => "NULL".to_owned(),
            ('L', Some(v)) => quote_literal(v),
            (_, v) => v.unwrap_or_default().to_owned(),
        };
        let pad = width.saturating_sub(text.chars().count());
        if !left {
            out.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(&text);
        if left {
            out.extend(std::iter::repeat_n(' ', pad));
        }
    }
    Ok(out)
}

/// The argument at `at` (1-based); an error when there are fewer.
fn argument<'a>(args: &[Option<&'a str>], at: usize) -> Result<Option<&'a str>> {
    at.checked_sub(1)
        .and_then(|i| args.get(i))
        .copied()
        .ok_or_else(|| invalid("too few arguments for format()"))
}

/// The specifier after a `%`, up to and including its type character.
fn specifier(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Specifier> {
    let unterminated =
        || invalid("unterminated format() type specifier (for a single \"%\" use \"%%\")");
    let mut spec = Specifier {
        position: None,
        width: Width::None,
        left: false,
        kind: ' ',
    };
    // Digits first: a position when a `$` follows, else the width.
    if let Some(n) = digits(chars)? {
        if chars.peek() == Some(&'$') {
            chars.next();
            spec.position = Some(position(n)?);
        } else {
            spec.width = Width::Fixed(n);
            spec.kind = chars.next().ok_or_else(unterminated)?;
            return Ok(spec);
        }
    }
    while chars.peek() == Some(&'-') {
        chars.next();
        spec.left = true;
    }
    if chars.peek() == Some(&'*') {
        chars.next();
        let at = match digits(chars)? {
            Some(n) if chars.peek() == Some(&'$') => {
                chars.next();
                Some(position(n)?)
            }
            Some(_) => {
                return Err(invalid("width argument position must be ended by \"$\""));
            }
            None => None,
        };
        spec.width = Width::Argument(at);
    } else if let Some(n) = digits(chars)? {
        spec.width = Width::Fixed(n);
    }
    spec.kind = chars.next().ok_or_else(unterminated)?;
    Ok(spec)
}

/// An argument position `n$`: from 1.
fn position(n: usize) -> Result<usize> {
    if n == 0 {
        return Err(invalid(
            "format specifies argument 0, but arguments are numbered from 1",
        ));
    }
    Ok(n)
}

/// The number at the front of `chars`, if digits are there.
fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Option<usize>> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        n = Some(
            n.unwrap_or(0)
                .checked_mul(10)
                .and_then(|n| n.checked_add(d as usize))
                .ok_or_else(|| invalid("number is out of range in format()"))?,
        );
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL 15's answers.
    #[test]
    fn formats_as_postgresql() {
        let cases: &[(&str, &[Option<&str>], &str)] = &[
            ("%I.%I", &[Some("public"), Some("cdrs")], "public.cdrs"),
            ("%I", &[Some("Call Log")], "\"Call Log\""),
            ("\"%s\".\"%s\"", &[Some("x"), Some("y")], "\"x\".\"y\""),
            ("%s|%L|%L", &[None, Some("it's"), None], "|'it''s'|NULL"),
            ("100%%", &[], "100%"),
            ("%2$s %1$s %s", &[Some("a"), Some("b")], "b a b"),
            ("[%5s][%-5s]", &[Some("ab"), Some("cd")], "[   ab][cd   ]"),
            ("[%*s]", &[Some("4"), Some("x")], "[   x]"),
            ("[%*s]", &[Some("-4"), Some("x")], "[x   ]"),
            ("[%-*s]", &[Some("4"), Some("x")], "[x   ]"),
            ("[%1$*2$s]", &[Some("x"), Some("3")], "[  x]"),
            ("[%3s]", &[Some("abcd")], "[abcd]"),
            ("[%3s]", &[None], "[   ]"),
            ("%s", &[Some("a"), Some("unused")], "a"),
        ];
        for (pattern, args, want) in cases {
            assert_eq!(format(pattern, args).unwrap(), *want, "{pattern}");
        }
    }

    #[test]
    fn refuses_what_postgresql_refuses() {
        for (pattern, args, message) in [
            ("%s %s", &[Some("a")][..], "too few arguments"),
            (
                "%x",
                &[Some("a")][..],
                "unrecognized format() type specifier \"x\"",
            ),
            ("%", &[][..], "unterminated"),
            ("%0$s", &[Some("a")][..], "argument 0"),
            ("[%*2$s]", &[Some("x"), Some("3")][..], "too few arguments"),
            (
                "%I",
                &[None][..],
                "cannot be formatted as an SQL identifier",
            ),
        ] {
            let e = format(pattern, args).unwrap_err().to_string();
            assert!(e.contains(message), "{pattern}: {e}");
        }
    }
}
