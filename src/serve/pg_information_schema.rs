//! `information_schema` as PostgreSQL shapes it, for the BI tools and drivers that browse
//! through it (Grafana, Metabase, Power BI, pgjdbc): `columns` with PostgreSQL type names
//! (`text`, `timestamp with time zone`, `numeric`), `udt_name`s and numeric precision and
//! scale instead of DataFusion's Arrow names; empty constraint tables (cdrlake has no
//! primary or foreign keys). The other tables, and `df_settings` behind `SHOW`, are
//! DataFusion's own.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::information_schema::InformationSchemaProvider;
use datafusion::catalog::{CatalogProviderList, MemTable, SchemaProvider, TableProvider};
use datafusion::common::{Result, ScalarValue};

use super::pg_catalog::rows_batch;
use super::pg_types::ColumnType;

/// Columns of `information_schema.columns` (PostgreSQL 16), in order; `cardinal_number`
/// columns are int4, the others text.
const COLUMNS: &[(&str, bool)] = &[
    ("table_catalog", false),
    ("table_schema", false),
    ("table_name", false),
    ("column_name", false),
    ("ordinal_position", true),
    ("column_default", false),
    ("is_nullable", false),
    ("data_type", false),
    ("character_maximum_length", true),
    ("character_octet_length", true),
    ("numeric_precision", true),
    ("numeric_precision_radix", true),
    ("numeric_scale", true),
    ("datetime_precision", true),
    ("interval_type", false),
    ("interval_precision", true),
    ("character_set_catalog", false),
    ("character_set_schema", false),
    ("character_set_name", false),
    ("collation_catalog", false),
    ("collation_schema", false),
    ("collation_name", false),
    ("domain_catalog", false),
    ("domain_schema", false),
    ("domain_name", false),
    ("udt_catalog", false),
    ("udt_schema", false),
    ("udt_name", false),
    ("scope_catalog", false),
    ("scope_schema", false),
    ("scope_name", false),
    ("maximum_cardinality", true),
    ("dtd_identifier", false),
    ("is_self_referencing", false),
    ("is_identity", false),
    ("identity_generation", false),
    ("identity_start", false),
    ("identity_increment", false),
    ("identity_maximum", false),
    ("identity_minimum", false),
    ("identity_cycle", false),
    ("is_generated", false),
    ("generation_expression", false),
    ("is_updatable", false),
];

/// The constraint tables, empty: (name, columns).
const CONSTRAINT_TABLES: &[(&str, &[&str])] = &[
    (
        "table_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
    ),
    (
        "key_column_usage",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "position_in_unique_constraint",
        ],
    ),
    (
        "referential_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
    ),
    (
        "constraint_column_usage",
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    ),
];

/// The `information_schema` schema.
#[derive(Debug)]
pub struct PgInformationSchema {
    inner: InformationSchemaProvider,
    list: Arc<dyn CatalogProviderList>,
}

impl PgInformationSchema {
    /// `information_schema` over every catalog of `list`.
    pub fn new(list: Arc<dyn CatalogProviderList>) -> Self {
        PgInformationSchema {
            inner: InformationSchemaProvider::new(list.clone()),
            list,
        }
    }

    async fn columns(&self) -> Result<MemTable> {
        let schema = Arc::new(Schema::new(
            COLUMNS
                .iter()
                .map(|(name, number)| {
                    let ty = if *number {
                        DataType::Int32
                    } else {
                        DataType::Utf8
                    };
                    Field::new(*name, ty, true)
                })
                .collect::<Vec<_>>(),
        ));
        let mut rows = Vec::new();
        for catalog_name in self.list.catalog_names() {
            let Some(catalog) = self.list.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(provider) = catalog.schema(&schema_name) else {
                    continue;
                };
                if schema_name == "information_schema" {
                    continue;
                }
                let mut tables = provider.table_names();
                tables.sort();
                for table_name in tables {
                    let Some(table) = provider.table(&table_name).await? else {
                        continue;
                    };
                    for (i, field) in table.schema().fields().iter().enumerate() {
                        let t = ColumnType::of(field.data_type());
                        let int = |v: Option<i32>| ScalarValue::Int32(v);
                        let text = |v: &str| ScalarValue::Utf8(Some(v.to_owned()));
                        rows.push(vec![
                            ("table_catalog", text(&catalog_name)),
                            ("table_schema", text(&schema_name)),
                            ("table_name", text(&table_name)),
                            ("column_name", text(field.name())),
                            ("ordinal_position", int(i32::try_from(i + 1).ok())),
                            (
                                "is_nullable",
                                text(if field.is_nullable() { "YES" } else { "NO" }),
                            ),
                            ("data_type", text(t.data_type())),
                            ("numeric_precision", int(t.numeric_precision())),
                            ("numeric_precision_radix", int(t.numeric_radix())),
                            ("numeric_scale", int(t.numeric_scale())),
                            ("datetime_precision", int(t.datetime_precision())),
                            ("udt_catalog", text(&catalog_name)),
                            ("udt_schema", text("pg_catalog")),
                            ("udt_name", text(t.ty.name())),
                            ("dtd_identifier", text(&(i + 1).to_string())),
                            ("is_self_referencing", text("NO")),
                            ("is_identity", text("NO")),
                            ("identity_cycle", text("NO")),
                            ("is_generated", text("NEVER")),
                            ("is_updatable", text("YES")),
                        ]);
                    }
                }
            }
        }
        let batch = rows_batch(&schema, &rows)?;
        MemTable::try_new(schema, vec![vec![batch]])
    }
}

fn empty_table(columns: &[&str]) -> Result<MemTable> {
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| {
                let ty = if c.ends_with("position") || *c == "position_in_unique_constraint" {
                    DataType::Int32
                } else {
                    DataType::Utf8
                };
                Field::new(*c, ty, true)
            })
            .collect::<Vec<_>>(),
    ));
    MemTable::try_new(schema, vec![vec![]])
}

#[async_trait]
impl SchemaProvider for PgInformationSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(CONSTRAINT_TABLES.iter().map(|(n, _)| (*n).to_owned()));
        names.sort();
        names.dedup();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let name = name.to_ascii_lowercase();
        if name == "columns" {
            return Ok(Some(Arc::new(self.columns().await?)));
        }
        if let Some((_, columns)) = CONSTRAINT_TABLES.iter().find(|(n, _)| *n == name) {
            return Ok(Some(Arc::new(empty_table(columns)?)));
        }
        self.inner.table(&name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        CONSTRAINT_TABLES.iter().any(|(n, _)| *n == name) || self.inner.table_exist(&name)
    }
}
