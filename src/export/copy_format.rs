//! The two text layouts of PostgreSQL's `COPY`: `csv` and `text`, with their options
//! (DELIMITER, NULL, QUOTE, ESCAPE, HEADER, FORCE_QUOTE), encoding Arrow batches into lines
//! exactly as PostgreSQL's `CopyAttributeOutCSV` / `CopyAttributeOutText` do.

use arrow::array::Array;
use arrow::datatypes::Schema;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono_tz::Tz;

use super::pg_text::cell_writers;

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

    /// Encodes every row of `batch` as one line (with its newline) and hands each to `emit`.
    pub fn encode_rows(
        &self,
        batch: &RecordBatch,
        zone: Tz,
        mut emit: impl FnMut(&str),
    ) -> Result<(), ArrowError> {
        let writers = cell_writers(batch.columns(), zone)?;
        let forced: Vec<bool> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| match &self.force_quote {
                ForceQuote::None => false,
                ForceQuote::All => true,
                ForceQuote::Columns(names) => names.iter().any(|n| n == f.name()),
            })
            .collect();
        let nulls: Vec<_> = batch.columns().iter().map(|c| c.logical_nulls()).collect();
        let is_null = |col: usize, row: usize| nulls[col].as_ref().is_some_and(|n| n.is_null(row));
        let single = writers.len() == 1;
        let mut line = String::new();
        let mut cell = String::new();
        for row in 0..batch.num_rows() {
            line.clear();
            for (col, writer) in writers.iter().enumerate() {
                if col > 0 {
                    line.push(self.delimiter);
                }
                if is_null(col, row) {
                    line.push_str(&self.null);
                    continue;
                }
                cell.clear();
                writer(row, &mut cell);
                self.push_field(&mut line, &cell, forced[col], single);
            }
            line.push('\n');
            emit(&line);
        }
        Ok(())
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
            (Ok(d), Ok(q)) if d.is_ascii() && q.is_ascii() => value
                .bytes()
                .any(|b| b == d || b == q || b == b'\n' || b == b'\r'),
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
        opts.encode_rows(&b, Tz::UTC, |l| out.push_str(l)).unwrap();
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
