//! Table definitions, read from the declarative files under `schemas/tables/`.
//!
//! Each table is a TOML file: its name, documentation, columns (name, type, nullability,
//! allowed values, checks, doc) and storage hints (partitioning, sort order, bloom filters,
//! unique key). The files are embedded in the binary at build time and validated when first
//! used, so a malformed file fails start-up with its name and the problem. Storage, ingest and
//! the catalog all read their columns from here; nothing else spells out a table's columns.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::error::{Error, Result};

/// Everything under `schemas/`, embedded at build time.
pub static SCHEMAS_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/schemas");

/// Precision of money columns (`DECIMAL(18,6)`).
pub const DECIMAL_PRECISION: u8 = 18;
/// Scale of money columns (`DECIMAL(18,6)`).
pub const DECIMAL_SCALE: i8 = 6;
/// Time zone of every `timestamptz` column: instants are stored in UTC.
pub const UTC: &str = "UTC";

/// SQL type of a column, as written in the schema files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// 32-bit integer.
    Int,
    /// 64-bit integer.
    Bigint,
    /// Exact decimal, `DECIMAL(18,6)`.
    Decimal,
    /// An instant, stored in UTC with microsecond precision.
    Timestamptz,
    /// A calendar date.
    Date,
    /// true / false.
    Boolean,
}

impl ColumnType {
    /// The Arrow type the column is stored as.
    pub fn arrow(self) -> DataType {
        match self {
            ColumnType::Text => DataType::Utf8,
            ColumnType::Int => DataType::Int32,
            ColumnType::Bigint => DataType::Int64,
            ColumnType::Decimal => DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            ColumnType::Timestamptz => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            ColumnType::Date => DataType::Date32,
            ColumnType::Boolean => DataType::Boolean,
        }
    }
}

/// A check applied to a text column's values at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// A phone number as dialled, an extension, or a SIP/tel URI.
    Number,
    /// Only digits (rate prefixes).
    Digits,
    /// An ISO 4217 code: three upper-case letters.
    Currency,
}

/// One column of a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// Column name (public contract).
    pub name: String,
    /// SQL type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether the column may be null (default true).
    #[serde(default = "yes")]
    pub nullable: bool,
    /// The only values a text column may hold (an enum), lower-case snake_case.
    #[serde(default)]
    pub values: Vec<String>,
    /// A format check for text values.
    pub check: Option<Check>,
    /// Smallest allowed numeric value.
    pub min: Option<i64>,
    /// Largest allowed numeric value.
    pub max: Option<i64>,
    /// Value used when the input has no such column (text form).
    pub default: Option<String>,
    /// The column is computed at ingest from this other column (`call_date` from `start_time`).
    pub generated_from: Option<String>,
    /// What the column means.
    pub doc: String,
}

fn yes() -> bool {
    true
}

/// `earlier` must not be after `later` in any row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRule {
    /// The column that comes first.
    pub earlier: String,
    /// The column that comes second.
    pub later: String,
}

/// A table: columns plus the storage layout hints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    /// Table name (public contract).
    pub name: String,
    /// What the table holds.
    pub doc: String,
    /// Hive partition columns.
    #[serde(default)]
    pub partition_by: Vec<String>,
    /// Sort order of rows within a file.
    #[serde(default)]
    pub sort_by: Vec<String>,
    /// Columns with Parquet bloom filters.
    #[serde(default)]
    pub bloom_filters: Vec<String>,
    /// Columns whose values are (nearly) all distinct: stored without a Parquet dictionary,
    /// which would hold every value once more and cost a hash per value to build.
    #[serde(default)]
    pub distinct_values: Vec<String>,
    /// Columns that identify a row; ingest skips rows whose key is already stored.
    #[serde(default)]
    pub unique_key: Vec<String>,
    /// Pairs of timestamp columns that must not be out of order (nulls are not checked).
    #[serde(default)]
    pub order: Vec<OrderRule>,
    /// A `bigint` column the store fills when it appends rows: increasing over the table's
    /// life, in input order within a batch, so "the row stored last" is the highest value.
    #[serde(default)]
    pub stored_order: Option<String>,
    /// The columns, in order.
    pub columns: Vec<ColumnDef>,
    #[serde(skip)]
    arrow_schema: OnceLock<SchemaRef>,
    #[serde(skip)]
    positions: OnceLock<Positions>,
}

/// Positions of the columns named by a table's rules, resolved once so that per-row work
/// (ingest) indexes instead of looking names up.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    /// (generated column, its source column).
    pub generated: Vec<(usize, usize)>,
    /// (earlier, later) of each order rule.
    pub order: Vec<(usize, usize)>,
    /// The unique key's columns.
    pub unique_key: Vec<usize>,
    /// `call_id`, when the table has one.
    pub call_id: Option<usize>,
    /// `tenant`, when the table has one.
    pub tenant: Option<usize>,
}

impl TableDef {
    /// Parses and validates one table file.
    pub fn parse(file: &str, text: &str) -> Result<TableDef> {
        let def: TableDef =
            toml::from_str(text).map_err(|e| Error::schema_file(file, e.to_string()))?;
        def.validate().map_err(|m| Error::schema_file(file, m))?;
        Ok(def)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let mut seen = HashMap::new();
        for (i, c) in self.columns.iter().enumerate() {
            if seen.insert(c.name.as_str(), i).is_some() {
                return Err(format!("column {} is declared twice", c.name));
            }
            if !c.values.is_empty() && c.ty != ColumnType::Text {
                return Err(format!(
                    "column {}: values are only for text columns",
                    c.name
                ));
            }
            if c.check.is_some() && c.ty != ColumnType::Text {
                return Err(format!("column {}: check is only for text columns", c.name));
            }
        }
        let lists = [
            ("partition_by", &self.partition_by),
            ("sort_by", &self.sort_by),
            ("bloom_filters", &self.bloom_filters),
            ("distinct_values", &self.distinct_values),
            ("unique_key", &self.unique_key),
        ];
        let ordered = self.order.iter().flat_map(|r| [&r.earlier, &r.later]);
        if let Some(bad) = ordered.clone().find(|n| !seen.contains_key(n.as_str())) {
            return Err(format!("order names unknown column {bad}"));
        }
        for (what, names) in lists {
            if let Some(bad) = names.iter().find(|n| !seen.contains_key(n.as_str())) {
                return Err(format!("{what} names unknown column {bad}"));
            }
        }
        if let Some(name) = &self.stored_order {
            match seen.get(name.as_str()).map(|&i| self.columns[i].ty) {
                Some(ColumnType::Bigint) => {}
                Some(_) => return Err(format!("stored_order column {name} must be a bigint")),
                None => return Err(format!("stored_order names unknown column {name}")),
            }
        }
        for c in &self.columns {
            if let Some(src) = &c.generated_from {
                let Some(&i) = seen.get(src.as_str()) else {
                    return Err(format!("column {} is generated from unknown {src}", c.name));
                };
                let pair = (self.columns[i].ty, c.ty);
                if pair != (ColumnType::Timestamptz, ColumnType::Date) {
                    return Err(format!(
                        "column {}: only a date generated from a timestamptz is supported",
                        c.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Position of the column called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Positions of the columns the table's rules name (names were checked at load).
    pub fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| {
            let at = |name: &str| self.index_of(name);
            Positions {
                generated: self
                    .columns
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| Some((i, at(c.generated_from.as_deref()?)?)))
                    .collect(),
                order: self
                    .order
                    .iter()
                    .filter_map(|r| Some((at(&r.earlier)?, at(&r.later)?)))
                    .collect(),
                unique_key: self.unique_key.iter().filter_map(|n| at(n)).collect(),
                call_id: at("call_id"),
                tenant: at("tenant"),
            }
        })
    }

    /// The Arrow schema of the table's rows (column docs live in the table's metadata).
    pub fn arrow_schema(&self) -> SchemaRef {
        self.arrow_schema
            .get_or_init(|| {
                let fields = self
                    .columns
                    .iter()
                    .map(|c| Field::new(&c.name, c.ty.arrow(), c.nullable));
                Arc::new(Schema::new(fields.collect::<Vec<_>>()))
            })
            .clone()
    }
}

/// All table definitions, loaded once from the embedded `schemas/tables/`.
pub fn tables() -> Result<&'static [TableDef]> {
    static TABLES: OnceLock<std::result::Result<Vec<TableDef>, String>> = OnceLock::new();
    TABLES
        .get_or_init(|| load_tables().map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|m| Error::schema_file("schemas/tables", m.clone()))
}

/// The table called `name`.
pub fn table(name: &str) -> Result<&'static TableDef> {
    tables()?
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| Error::InvalidArgument(format!("unknown table {name}")))
}

fn load_tables() -> Result<Vec<TableDef>> {
    let dir = SCHEMAS_DIR
        .get_dir("tables")
        .ok_or_else(|| Error::schema_file("schemas/tables", "directory missing"))?;
    let mut tables = Vec::new();
    for file in dir.files() {
        let path = file.path().display().to_string();
        if !path.ends_with(".toml") {
            continue;
        }
        let text = file
            .contents_utf8()
            .ok_or_else(|| Error::schema_file(&path, "not UTF-8"))?;
        let def = TableDef::parse(&path, text)?;
        let stem = file.path().file_stem().and_then(|s| s.to_str());
        if stem != Some(def.name.as_str()) {
            return Err(Error::schema_file(
                &path,
                format!("declares table {}", def.name),
            ));
        }
        tables.push(def);
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_file_loads() {
        let names: Vec<_> = tables().unwrap().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "billing_events",
                "cdrs",
                "ingest_rejects",
                "rates",
                "refunds"
            ]
        );
        let cdrs = table("cdrs").unwrap();
        assert_eq!(cdrs.partition_by, ["call_date"]);
        assert_eq!(cdrs.columns.len(), 34);
        assert_eq!(
            cdrs.arrow_schema()
                .field_with_name("charge")
                .unwrap()
                .data_type(),
            &DataType::Decimal128(18, 6)
        );
    }

    #[test]
    fn invalid_files_are_refused_with_the_reason() {
        let dup = r#"
            name = "t"
            doc = "d"
            unique_key = ["nope"]
            [[columns]]
            name = "a"
            type = "text"
            doc = "a"
        "#;
        let err = TableDef::parse("t.toml", dup).unwrap_err().to_string();
        assert!(
            err.contains("unique_key names unknown column nope"),
            "{err}"
        );
        let bad_type = "name='t'\ndoc='d'\n[[columns]]\nname='a'\ntype='float'\ndoc='a'\n";
        let err = TableDef::parse("t.toml", bad_type).unwrap_err().to_string();
        assert!(err.contains("t.toml"), "{err}");
    }
}
