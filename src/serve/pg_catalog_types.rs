//! `pg_type` with its `regproc` columns as PostgreSQL stores them: the OID of a `pg_proc`
//! row, 0 for none.
//!
//! `datafusion-pg-catalog` exports them as the function names a `regproc` prints as
//! (`typreceive = 'array_recv'`, `'-'` for none), so a join on `pg_proc.oid` — Npgsql's
//! type loading, `LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive`, which tells
//! arrays by `proc.proname = 'array_recv'` — never matches, and a comparison with a
//! `'array_in'::regproc` cast (rewritten to a `pg_proc.oid` look-up) compares a name with a
//! number. Here each name is resolved against the same export's `pg_proc`; every name in
//! it is there (a test checks), and where a name is overloaded the lowest OID is taken, as
//! those functions' OIDs in PostgreSQL are.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::common::{DataFusionError, Result};
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::PgCatalogTable;

/// The `regproc` columns of `pg_type`.
pub const REGPROC_COLUMNS: &[&str] = &[
    "typinput",
    "typoutput",
    "typreceive",
    "typsend",
    "typmodin",
    "typmodout",
    "typanalyze",
    "typsubscript",
];

/// `pg_type` from the static `pg_type` and `pg_proc` tables, with [`REGPROC_COLUMNS`] as
/// int4 OIDs.
pub fn pg_type(pg_type: &PgCatalogTable, pg_proc: &PgCatalogTable) -> Result<MemTable> {
    let types = rows(pg_type, "pg_type")?;
    let procs = rows(pg_proc, "pg_proc")?;
    let batch = with_proc_oids(&types, &procs)?;
    MemTable::try_new(batch.schema(), vec![vec![batch]])
}

/// All rows of a static catalog table.
fn rows(table: &PgCatalogTable, name: &str) -> Result<RecordBatch> {
    match table {
        PgCatalogTable::Static(t) => Ok(concat_batches(&t.schema(), t.data())?),
        _ => Err(DataFusionError::Plan(format!(
            "pg_catalog.{name} is not a static table in datafusion-pg-catalog"
        ))),
    }
}

/// `types` with each [`REGPROC_COLUMNS`] name replaced by its OID in `procs`.
fn with_proc_oids(types: &RecordBatch, procs: &RecordBatch) -> Result<RecordBatch> {
    let column = |name: &str, ty: &DataType| -> Result<ArrayRef> {
        let c = procs
            .column_by_name(name)
            .ok_or_else(|| missing("pg_proc", name))?;
        Ok(cast(c, ty)?)
    };
    let oids = column("oid", &DataType::Int32)?;
    let oids = oids.as_primitive::<Int32Type>();
    let names = column("proname", &DataType::Utf8)?;
    let names = names.as_string::<i32>();
    let mut by_name: HashMap<&str, i32> = HashMap::new();
    for i in (0..procs.num_rows()).filter(|i| !oids.is_null(*i) && !names.is_null(*i)) {
        let oid = oids.value(i);
        by_name
            .entry(names.value(i))
            .and_modify(|o| *o = (*o).min(oid))
            .or_insert(oid);
    }
    let schema = types.schema();
    let mut fields: Vec<Field> = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(types.columns()) {
        if !REGPROC_COLUMNS.contains(&field.name().as_str()) || column.data_type().is_integer() {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let text = cast(column, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let resolved: Int32Array = (0..text.len())
            .map(|i| {
                if text.is_null(i) {
                    return None;
                }
                match text.value(i) {
                    "-" | "" | "0" => Some(0),
                    name => by_name
                        .get(name.rsplit('.').next().unwrap_or(name))
                        .copied(),
                }
            })
            .collect();
        fields.push(Field::new(field.name(), DataType::Int32, true));
        columns.push(Arc::new(resolved));
    }
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn missing(table: &str, column: &str) -> DataFusionError {
    DataFusionError::Plan(format!("pg_catalog.{table} has no column {column}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion_postgres::datafusion_pg_catalog::pg_catalog::PgCatalogStaticTables;

    fn table(name: &str) -> PgCatalogTable {
        let statics = PgCatalogStaticTables::try_new().unwrap();
        match name {
            "pg_type" => statics.pg_type.clone().into(),
            _ => statics.pg_proc.clone().into(),
        }
    }

    #[test]
    fn regproc_columns_are_proc_oids() {
        let types = rows(&table("pg_type"), "pg_type").unwrap();
        let procs = rows(&table("pg_proc"), "pg_proc").unwrap();
        let patched = with_proc_oids(&types, &procs).unwrap();
        let typname = cast(patched.column_by_name("typname").unwrap(), &DataType::Utf8).unwrap();
        let typname = typname.as_string::<i32>();
        let oid_of = |column: &str, ty: &str| {
            let c = patched
                .column_by_name(column)
                .unwrap()
                .as_primitive::<Int32Type>();
            let row = (0..typname.len())
                .find(|i| typname.value(*i) == ty)
                .unwrap();
            c.is_valid(row).then(|| c.value(row))
        };
        // PostgreSQL's OIDs: array_recv 2400, array_in 750, boolrecv 2436, int4in 42.
        assert_eq!(oid_of("typreceive", "_int4"), Some(2400));
        assert_eq!(oid_of("typinput", "_text"), Some(750));
        assert_eq!(oid_of("typreceive", "bool"), Some(2436));
        assert_eq!(oid_of("typinput", "int4"), Some(42));
        assert_eq!(oid_of("typmodin", "int4"), Some(0));
        // Every function name the export holds is one of its pg_proc rows.
        for column in REGPROC_COLUMNS {
            if let Some(c) = patched.column_by_name(column) {
                assert_eq!(c.null_count(), 0, "{column} has names missing from pg_proc");
            }
        }
    }
}
