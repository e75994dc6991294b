//! The sqllogictest database both `.slt` runners share: a DataFusion session, result column
//! types, and how values print. Included by `udfs/tests/slt.rs` (the functions' spec over a
//! bare session) and by the root crate's `tests/integration/views_slt.rs` (the views' spec
//! over a real store) with `#[path]`, so that both spell results the same way.
//!
//! Column types in `query` headers: `T` text, `I` integer, `R` decimal or float, `B`
//! boolean, `P` timestamp, `?` anything else. Values print as Arrow displays them; NULL is
//! `NULL` and the empty string `(empty)`.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use sqllogictest::{AsyncDB, ColumnType, DBOutput};

/// Result column types as the `.slt` files spell them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Text,
    Integer,
    Real,
    Boolean,
    Timestamp,
    Other,
}

impl ColumnType for Column {
    fn from_char(value: char) -> Option<Self> {
        Some(match value {
            'T' => Self::Text,
            'I' => Self::Integer,
            'R' => Self::Real,
            'B' => Self::Boolean,
            'P' => Self::Timestamp,
            _ => Self::Other,
        })
    }

    fn to_char(&self) -> char {
        match self {
            Self::Text => 'T',
            Self::Integer => 'I',
            Self::Real => 'R',
            Self::Boolean => 'B',
            Self::Timestamp => 'P',
            Self::Other => '?',
        }
    }
}

fn column_of(data_type: &DataType) -> Column {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Column::Text,
        t if t.is_integer() => Column::Integer,
        t if t.is_floating() || t.is_decimal() => Column::Real,
        DataType::Boolean => Column::Boolean,
        DataType::Timestamp(..) => Column::Timestamp,
        _ => Column::Other,
    }
}

/// Rewrites a statement's text before it is planned.
pub type Rewrite = fn(&str) -> Result<String, DataFusionError>;

/// A DataFusion session the `.slt` statements run in, one after the other.
pub struct Engine {
    /// The session; statements see each other's effects (writes, `SET`).
    pub ctx: SessionContext,
    /// What a client's statement goes through before the session plans it, if anything (the
    /// server's and the command line's rewrites).
    pub rewrite: Option<Rewrite>,
}

#[async_trait::async_trait]
impl AsyncDB for Engine {
    type Error = DataFusionError;
    type ColumnType = Column;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Column>, DataFusionError> {
        let sql = match self.rewrite {
            Some(rewrite) => rewrite(sql)?,
            None => sql.to_owned(),
        };
        let batches = self.ctx.sql(&sql).await?.collect().await?;
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            return Ok(DBOutput::StatementComplete(0));
        };
        let types: Vec<Column> = schema
            .fields()
            .iter()
            .map(|f| column_of(f.data_type()))
            .collect();
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()?;
            for row in 0..batch.num_rows() {
                let cells = formatters.iter().zip(batch.columns()).map(|(f, c)| {
                    match f.value(row).to_string() {
                        s if s.is_empty() && c.is_valid(row) => "(empty)".to_owned(),
                        s => s,
                    }
                });
                rows.push(cells.collect());
            }
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "cdrlake"
    }
}
