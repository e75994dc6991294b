//! The two text layouts of PostgreSQL's `COPY`: `csv` and `text`, with their options
//! (DELIMITER, NULL, QUOTE, ESCAPE, HEADER, FORCE_QUOTE), encoding Arrow batches into lines
//! exactly as PostgreSQL's `CopyAttributeOutCSV` / `CopyAttributeOutText` do.

use arrow::array::Array;
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono_tz::Tz;

use super::pg_text::{CellWriter, cell_writers};

/// `FORMAT csv` or `FORMAT text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    /// Comma-separated, quoted where needed, NULL as an empty unquoted field.
    Csv,
    /// Tab-separated, backslash escapes, NULL as `\N`.
    Text,
}

/// Which columns are quoted even when they need not be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ForceQuote {
    /// None (the default).
    #[default]
    None,
    /// Every non-null value (`FORCE_QUOTE *`).
    All,
    /// The named columns.
    Columns(Vec<String>),
}

/// The options of a `COPY … TO` in text or CSV layout, with PostgreSQL's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOptions {
    /// The layout.
    pub format: CopyFormat,
    /// Whether the first line names the columns.
    pub header: bool,
    /// Field separator.
    pub delimiter: char,
    /// The text of a NULL.
    pub null: String,
    /// Quote character (CSV).
    pub quote: char,
    /// Escape character inside quotes (CSV; defaults to the quote).
    pub escape: char,
    /// Columns always quoted (CSV).
    pub force_quote: ForceQuote,
}

/// One column of a batch being encoded.
struct Column<'a> {
    writer: CellWriter<'a>,
    nulls: Option<NullBuffer>,
    /// Quoted whatever its value (FORCE_QUOTE).
    forced: bool,
    /// Its text never holds a character the layout quotes or escapes (see `plain_text`).
    plain: bool,
}

impl CopyOptions {
    /// PostgreSQL's defaults for `format`.
    pub fn new(format: CopyFormat) -> CopyOptions {
        let (delimiter, null) = match format {
            CopyFormat::Csv => (',', String::new()),
            CopyFormat::Text => ('\t', "\\N".to_owned()),
        };
        CopyOptions {
            format,
            header: false,
            delimiter,
            null,
            quote: '"',
            escape: '"',
            force_quote: ForceQuote::None,
        }
    }

    /// The header line (with its newline) for `schema`, or `None` without HEADER.
    pub fn header_line(&self, schema: &Schema) -> Option<String> {
        if !self.header {
            return None;
        }
        let mut line = String::new();
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                line.push(self.delimiter);
            }
            self.push_field(&mut line, field.name(), false, schema.fields().len() == 1);
        }
        line.push('\n');
        Some(line)
    }

    /// Appends every row of `batch` to `out` as one line (with its newline), and where each
    /// line ends to `ends`.
    ///
    /// Each cell is written straight into `out` and quoted or escaped afterwards only when
    /// its text calls for it; columns of numbers, times and booleans are not scanned when
    /// the delimiter and quote cannot occur in their text.
    pub fn encode_rows(
        &self,
        batch: &RecordBatch,
        zone: Tz,
        out: &mut String,
        ends: &mut Vec<usize>,
    ) -> Result<(), ArrowError> {
        let writers = cell_writers(batch.columns(), zone)?;
        let schema = batch.schema();
        let columns: Vec<_> = writers
            .into_iter()
            .zip(schema.fields().iter().zip(batch.columns()))
            .map(|(writer, (field, array))| Column {
                writer,
                nulls: array.logical_nulls(),
                forced: match &self.force_quote {
                    ForceQuote::None => false,
                    ForceQuote::All => true,
                    ForceQuote::Columns(names) => names.iter().any(|n| n == field.name()),
                },
                plain: self.plain_text(field.data_type()),
            })
            .collect();
        let single = columns.len() == 1;
        ends.reserve(batch.num_rows());
        for row in 0..batch.num_rows() {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    out.push(self.delimiter);
                }
                if column.nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    out.push_str(&self.null);
                    continue;
                }
                let start = out.len();
                (column.writer)(row, out);
                if self.needs_rewrite(&out[start..], column, single) {
                    let value = out.split_off(start);
                    self.push_field(out, &value, column.forced, single);
                }
            }
            out.push('\n');
            ends.push(out.len());
        }
        Ok(())
    }

    /// Whether a cell's text, as written, must be quoted (CSV) or escaped (text).
    fn needs_rewrite(&self, value: &str, column: &Column<'_>, single: bool) -> bool {
        match self.format {
            CopyFormat::Csv => {
                column.forced
                    || value == self.null
                    || (single && value == "\\.")
                    || (!column.plain && self.has_csv_special(value))
            }
            CopyFormat::Text => {
                !column.plain
                    && value.chars().any(|c| {
                        matches!(c, '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' | '\u{b}')
                            || c == self.delimiter
                    })
            }
        }
    }

    /// Whether the text of every value of `data_type` is free of the characters this layout
    /// quotes or escapes: true for numbers, times and booleans (digits, letters, `-+:. `)
    /// unless the delimiter or quote is one of those.
    fn plain_text(&self, data_type: &DataType) -> bool {
        let typed =
            data_type.is_numeric() || data_type.is_temporal() || *data_type == DataType::Boolean;
        let safe = |c: char| c.is_ascii() && !c.is_ascii_alphanumeric() && !" +-.:".contains(c);
        typed && safe(self.delimiter) && (self.format == CopyFormat::Text || safe(self.quote))
    }

    fn push_field(&self, line: &mut String, value: &str, force: bool, single_column: bool) {
        match self.format {
            CopyFormat::Csv => self.push_csv(line, value, force, single_column),
            CopyFormat::Text => self.push_text(line, value),
        }
    }

    /// Quoted iff forced, or it holds the delimiter, the quote, CR or LF, or equals the NULL
    /// text (so an empty string is `""` while NULL is empty), or is a lone `\.`.
    fn push_csv(&self, line: &mut String, value: &str, force: bool, single_column: bool) {
        let needs_quotes = force
            || value == self.null
            || (single_column && value == "\\.")
            || self.has_csv_special(value);
        if !needs_quotes {
            line.push_str(value);
            return;
        }
        line.push(self.quote);
        for c in value.chars() {
            if c == self.quote || c == self.escape {
                line.push(self.escape);
            }
            line.push(c);
        }
        line.push(self.quote);
    }

    /// Whether `value` holds the delimiter, the quote, CR or LF (scanned as bytes when the
    /// delimiter and quote are ASCII, as PostgreSQL requires of them).
    fn has_csv_special(&self, value: &str) -> bool {
        match (u8::try_from(self.delimiter), u8::try_from(self.quote)) {
            // Without an early exit, so that the compiler can compare many bytes at once.
            (Ok(d), Ok(q)) if d.is_ascii() && q.is_ascii() => {
                value.bytes().fold(false, |hit, b| {
                    hit | (b == d) | (b == q) | (b == b'\n') | (b == b'\r')
                })
            }
            _ => value
                .chars()
                .any(|c| c == self.delimiter || c == self.quote || c == '\n' || c == '\r'),
        }
    }

    fn push_text(&self, line: &mut String, value: &str) {
        for c in value.chars() {
            match c {
                '\\' => line.push_str("\\\\"),
                '\n' => line.push_str("\\n"),
                '\r' => line.push_str("\\r"),
                '\t' => line.push_str("\\t"),
                '\u{8}' => line.push_str("\\b"),
                '\u{c}' => line.push_str("\\f"),
                '\u{b}' => line.push_str("\\v"),
                c if c == self.delimiter => {
                    line.push('\\');
                    line.push(c);
                }
                c => line.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field};

    use super::*;

    fn batch() -> RecordBatch {
        let id: ArrayRef = Arc::new(Int32Array::from(vec![Some(5), Some(6), Some(7), None]));
        let s: ArrayRef = Arc::new(StringArray::from(vec![
            Some("\\\t\n\rte,st\\N"),
            None,
            Some(""),
            Some("say \"hi\""),
        ]));
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("a,b", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(Arc::new(schema), vec![id, s]).unwrap()
    }

    fn lines(opts: &CopyOptions) -> String {
        let b = batch();
        let mut out = opts.header_line(&b.schema()).unwrap_or_default();
        let mut ends = Vec::new();
        opts.encode_rows(&b, Tz::UTC, &mut out, &mut ends).unwrap();
        out
    }

    #[test]
    fn csv_tells_empty_strings_from_nulls() {
        let mut opts = CopyOptions::new(CopyFormat::Csv);
        opts.header = true;
        assert_eq!(
            lines(&opts),
            "id,\"a,b\"\n5,\"\\\t\n\rte,st\\N\"\n6,\n7,\"\"\n,\"say \"\"hi\"\"\"\n"
        );
    }

    #[test]
    fn text_escapes_backslashes_and_controls() {
        let opts = CopyOptions::new(CopyFormat::Text);
        assert_eq!(
            lines(&opts),
            "5\t\\\\\\t\\n\\rte,st\\\\N\n6\t\\N\n7\t\n\\N\tsay \"hi\"\n"
        );
    }

    #[test]
    fn csv_options_change_quoting() {
        let mut opts = CopyOptions::new(CopyFormat::Csv);
        opts.delimiter = ';';
        opts.null = "NULL".into();
        opts.escape = '\\';
        opts.force_quote = ForceQuote::Columns(vec!["id".into()]);
        assert_eq!(
            lines(&opts),
            "\"5\";\"\\\\\t\n\rte,st\\\\N\"\n\"6\";NULL\n\"7\";\nNULL;\"say \\\"hi\\\"\"\n"
        );
    }
}
