//! `regclass(value)`: a relation's `pg_class` OID from its name, as PostgreSQL's cast of a
//! text to `regclass` finds it — `name` on the search path (`pg_catalog`, then `public`),
//! `schema.name`, `cdr.schema.name`, quoted parts kept as written (`parse_ident`); a text
//! of digits is that OID, and so is a number. An unknown name is an error (42P01).
//!
//! datafusion-pg-catalog rewrites `'name'::regclass` of a literal into a look-up of its own;
//! `CAST(expr AS regclass)` of anything else is rewritten into this function
//! ([`super::pg_catalog_sql`]): Metabase's field sync reads the comment of each column with
//! `col_description(format('%I.%I', table_schema, table_name)::regclass::oid, …)`.
//!
//! The OIDs are those `pg_class` lists ([`Relations`], read at start-up and at each scan),
//! and PostgreSQL's own for its catalog tables ([`CATALOG_TABLES`]).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Builder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::pg_catalog::Relations;
use crate::query::udf::{all_scalar, invalid, result};
use crate::query::{DATABASE, SCHEMA};

/// The function's name.
pub const NAME: &str = "regclass";

/// Schemas an unqualified name is looked up in, in order (PostgreSQL searches `pg_catalog`
/// first unless the path names it).
const SEARCH_PATH: &[&str] = &["pg_catalog", SCHEMA];

/// PostgreSQL's system catalog tables and their fixed OIDs (PostgreSQL 15: `SELECT relname,
/// oid FROM pg_class WHERE relnamespace = 11 AND relkind = 'r'`). `'pg_class'::regclass` is
/// 1259, the `classoid` of table descriptions in `pg_description`, as in PostgreSQL;
/// datafusion-pg-catalog's `pg_class` gives its own tables OIDs of its own. Sorted.
const CATALOG_TABLES: &[(&str, i32)] = &[
    ("pg_aggregate", 2600),
    ("pg_am", 2601),
    ("pg_amop", 2602),
    ("pg_amproc", 2603),
    ("pg_attrdef", 2604),
    ("pg_attribute", 1249),
    ("pg_auth_members", 1261),
    ("pg_authid", 1260),
    ("pg_cast", 2605),
    ("pg_class", 1259),
    ("pg_collation", 3456),
    ("pg_constraint", 2606),
    ("pg_conversion", 2607),
    ("pg_database", 1262),
    ("pg_db_role_setting", 2964),
    ("pg_default_acl", 826),
    ("pg_depend", 2608),
    ("pg_description", 2609),
    ("pg_enum", 3501),
    ("pg_event_trigger", 3466),
    ("pg_extension", 3079),
    ("pg_foreign_data_wrapper", 2328),
    ("pg_foreign_server", 1417),
    ("pg_foreign_table", 3118),
    ("pg_index", 2610),
    ("pg_inherits", 2611),
    ("pg_init_privs", 3394),
    ("pg_language", 2612),
    ("pg_largeobject", 2613),
    ("pg_largeobject_metadata", 2995),
    ("pg_namespace", 2615),
    ("pg_opclass", 2616),
    ("pg_operator", 2617),
    ("pg_opfamily", 2753),
    ("pg_parameter_acl", 6243),
    ("pg_partitioned_table", 3350),
    ("pg_policy", 3256),
    ("pg_proc", 1255),
    ("pg_publication", 6104),
    ("pg_publication_namespace", 6237),
    ("pg_publication_rel", 6106),
    ("pg_range", 3541),
    ("pg_replication_origin", 6000),
    ("pg_rewrite", 2618),
    ("pg_seclabel", 3596),
    ("pg_sequence", 2224),
    ("pg_shdepend", 1214),
    ("pg_shdescription", 2396),
    ("pg_shseclabel", 3592),
    ("pg_statistic", 2619),
    ("pg_statistic_ext", 3381),
    ("pg_statistic_ext_data", 3429),
    ("pg_subscription", 6100),
    ("pg_subscription_rel", 6102),
    ("pg_tablespace", 1213),
    ("pg_transform", 3576),
    ("pg_trigger", 2620),
    ("pg_ts_config", 3602),
    ("pg_ts_config_map", 3603),
    ("pg_ts_dict", 3600),
    ("pg_ts_parser", 3601),
    ("pg_ts_template", 3764),
    ("pg_type", 1247),
    ("pg_user_mapping", 1418),
];

/// The function over `relations`, to register in the server's session.
pub fn udf(relations: Arc<Relations>) -> ScalarUDF {
    ScalarUDF::new_from_impl(Regclass {
        relations,
        signature: Signature::any(1, Volatility::Stable),
    })
}

#[derive(Debug)]
struct Regclass {
    relations: Arc<Relations>,
    signature: Signature,
}

impl PartialEq for Regclass {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.relations, &other.relations)
    }
}

impl Eq for Regclass {}

impl std::hash::Hash for Regclass {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        NAME.hash(state);
    }
}

impl ScalarUDFImpl for Regclass {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [value] = arrays.as_slice() else {
            return exec_err!("{NAME}(name) takes one argument");
        };
        if value.data_type().is_integer() {
            return result(cast(value, &DataType::Int32)?, scalar);
        }
        let names = cast(value, &DataType::Utf8)?;
        let names = names.as_string::<i32>();
        let mut out = Int32Builder::with_capacity(names.len());
        for name in names.iter() {
            out.append_option(name.map(|n| self.oid(n)).transpose()?);
        }
        let out: ArrayRef = Arc::new(out.finish());
        result(out, scalar)
    }
}

impl Regclass {
    /// The OID of `schema`.`table`: a catalog table's fixed one, else the one `pg_class` lists.
    fn lookup(&self, schema: &str, table: &str) -> Option<i32> {
        let fixed = || {
            let at = CATALOG_TABLES
                .binary_search_by(|(n, _)| n.cmp(&table))
                .ok()?;
            CATALOG_TABLES.get(at).map(|(_, oid)| *oid)
        };
        match schema {
            "pg_catalog" => fixed().or_else(|| self.relations.oid_of(schema, table)),
            _ => self.relations.oid_of(schema, table),
        }
    }

    /// The OID `name` names.
    fn oid(&self, name: &str) -> Result<i32> {
        let trimmed = name.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return trimmed
                .parse()
                .map_err(|_| invalid(format!("OID out of range: \"{trimmed}\"")));
        }
        let parts = super::pg_parse_ident::split(trimmed, true)
            .map_err(|m| invalid(format!("invalid name syntax: \"{name}\" ({m})")))?;
        let found = match parts.as_slice() {
            [table] => SEARCH_PATH
                .iter()
                .find_map(|schema| self.lookup(schema, table)),
            [schema, table] => self.lookup(schema, table),
            [database, schema, table] if database == DATABASE => self.lookup(schema, table),
            [_, _, _] => {
                return Err(DataFusionError::NotImplemented(format!(
                    "cross-database references are not implemented: {name}"
                )));
            }
            _ => {
                return Err(invalid(format!(
                    "improper relation name (too many dotted names): {name}"
                )));
            }
        };
        found.ok_or_else(|| DataFusionError::Plan(format!("relation \"{name}\" does not exist")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_tables_are_sorted() {
        assert!(CATALOG_TABLES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
