//! The cdrlake functions as PostgreSQL sees them: one [`Proc`] per SPEC function (the
//! `cdrlake-udfs` crate), with PostgreSQL argument and result types and the function's
//! `#[user_doc]` description. Feeds the `pg_proc` and `pg_description` rows of
//! [`super::pg_catalog`] and the `pg_get_function_*` / `obj_description` functions of
//! [`super::pg_functions`], so psql `\df` and `\df+` list them as PostgreSQL would.
//!
//! The functions declare their argument types through DataFusion's `coerce_types` (their
//! signatures are user-defined), so the PostgreSQL type of each argument is read back from
//! that public contract: what an argument is coerced to when given a `bigint`, a `boolean`
//! or a `text` while the others are NULL. An argument that takes a value of any type (only
//! its NULL-ness counts, as `call_status`'s `connect_time`) is named after the `cdrs` column
//! SPEC 3 passes it, and has that column's type (`timestamp with time zone`); it is
//! `anyelement` only when no column has its name.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::{ScalarUDF, Volatility};
use pgwire::api::Type;

use super::pg_types;

/// First OID of the cdrlake functions: above the dynamic range of tables and schemas that
/// `datafusion-pg-catalog` hands out from 16384, and below `i32::MAX` (`pg_proc.oid` is int4).
pub const FIRST_OID: i32 = 1_000_000_000;

/// One cdrlake function as a `pg_proc` row sees it.
#[derive(Debug, Clone)]
pub struct Proc {
    /// `pg_proc.oid`.
    pub oid: i32,
    /// Function name.
    pub name: String,
    /// Argument names and PostgreSQL types, in order.
    pub args: Vec<(String, Type)>,
    /// Arguments that must be given; the rest default to NULL.
    pub required: usize,
    /// PostgreSQL result type.
    pub result: Type,
    /// `i`mmutable, `s`table or `v`olatile.
    pub volatility: &'static str,
    /// The function's documentation (its `#[user_doc]` description).
    pub description: String,
}

impl Proc {
    /// What `pg_get_function_arguments` says: `name type[, name type DEFAULT NULL]…`.
    pub fn arguments(&self) -> String {
        self.args
            .iter()
            .enumerate()
            .map(|(i, (name, ty))| {
                let default = if i >= self.required {
                    " DEFAULT NULL"
                } else {
                    ""
                };
                format!("{name} {}{default}", pg_types::name(ty))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `pg_proc.proargtypes`: the argument type OIDs, space separated (an `oidvector`).
    pub fn arg_oids(&self) -> String {
        let oids: Vec<String> = self.args.iter().map(|(_, t)| t.oid().to_string()).collect();
        oids.join(" ")
    }

    /// `pg_proc.proargnames`: `{a,b}`.
    pub fn arg_names(&self) -> String {
        let names: Vec<&str> = self.args.iter().map(|(n, _)| n.as_str()).collect();
        format!("{{{}}}", names.join(","))
    }
}

/// Every cdrlake function, in the order `cdrlake_udfs::functions` lists them.
pub fn procs() -> &'static [Proc] {
    static PROCS: LazyLock<Vec<Proc>> = LazyLock::new(|| {
        cdrlake_udfs::functions(Arc::default())
            .iter()
            .zip(FIRST_OID..)
            .map(|(udf, oid)| describe(udf, oid))
            .collect()
    });
    &PROCS
}

/// The function with `oid`, if it is a cdrlake function.
pub fn by_oid(oid: i64) -> Option<&'static Proc> {
    let i = usize::try_from(oid.checked_sub(i64::from(FIRST_OID))?).ok()?;
    procs().get(i)
}

fn describe(udf: &ScalarUDF, oid: i32) -> Proc {
    let doc = udf.documentation();
    let names: Vec<String> = doc
        .and_then(|d| d.arguments.as_ref())
        .map(|a| a.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let accepts = |types: &[DataType]| udf.coerce_types(types).ok();
    let required = (0..=names.len())
        .find(|k| accepts(&vec![DataType::Null; *k]).is_some())
        .unwrap_or(names.len());
    let types: Vec<(DataType, Type)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| argument_type(&accepts, names.len(), i, name))
        .collect();
    let arrow: Vec<DataType> = types.iter().map(|(a, _)| a.clone()).collect();
    let result = udf
        .return_type(&arrow)
        .ok()
        .and_then(|t| arrow_pg::datatypes::into_pg_type(&t).ok())
        .unwrap_or(Type::TEXT);
    Proc {
        oid,
        name: udf.name().to_owned(),
        args: names
            .into_iter()
            .zip(types.into_iter().map(|(_, t)| t))
            .collect(),
        required,
        result,
        volatility: match udf.signature().volatility {
            Volatility::Immutable => "i",
            Volatility::Stable => "s",
            Volatility::Volatile => "v",
        },
        description: doc.map(|d| d.description.clone()).unwrap_or_default(),
    }
}

/// The type argument `i` (`name`) of `n` is declared as: what a `bigint`, `boolean` or
/// `text` given there (the others NULL) is coerced to.
fn argument_type(
    accepts: &impl Fn(&[DataType]) -> Option<Vec<DataType>>,
    n: usize,
    i: usize,
    name: &str,
) -> (DataType, Type) {
    let given = |ty: DataType| {
        let mut types = vec![DataType::Null; n];
        types[i] = ty;
        accepts(&types).and_then(|t| t.get(i).cloned())
    };
    let as_int = given(DataType::Int64);
    let as_bool = given(DataType::Boolean);
    match (as_int, as_bool) {
        (Some(DataType::Int64), Some(_)) => {
            cdrs_column(name).unwrap_or((DataType::Int64, Type::ANYELEMENT))
        }
        (Some(DataType::Int64), None) => (DataType::Int64, Type::INT8),
        (Some(d @ DataType::Decimal128(..)), _) => (d, Type::NUMERIC),
        (Some(_), _) => (DataType::Utf8, Type::TEXT),
        (None, Some(_)) => (DataType::Boolean, Type::BOOL),
        (None, None) => match given(DataType::Utf8) {
            Some(t @ DataType::Timestamp(..)) => (t, Type::TIMESTAMPTZ),
            _ => (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                Type::TIMESTAMPTZ,
            ),
        },
    }
}

/// The Arrow and PostgreSQL types of the `cdrs` column `name`, if there is one.
fn cdrs_column(name: &str) -> Option<(DataType, Type)> {
    let arrow = crate::schema::table("cdrs").ok()?.column(name)?.ty.arrow();
    let pg = arrow_pg::datatypes::into_pg_type(&arrow).ok()?;
    Some((arrow, pg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(name: &str) -> &'static Proc {
        procs()
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} is not a cdrlake function"))
    }

    #[test]
    fn argument_and_result_types_follow_the_declarations() {
        let charge = proc("call_charge");
        assert_eq!(
            charge.arguments(),
            "billed_s bigint, rate_per_min numeric, connect_fee numeric"
        );
        assert_eq!(charge.result, Type::NUMERIC);
        let status = proc("call_status");
        assert_eq!(
            status.arguments(),
            "direction text, call_type text, connect_time timestamp with time zone, sip_code bigint, hangup_cause text"
        );
        assert_eq!(status.result, Type::TEXT);
        let local = proc("tenant_local_time");
        assert_eq!(local.args[1].1, Type::TIMESTAMPTZ);
        assert_eq!(proc("billing_result").args[1].1, Type::BOOL);
    }

    #[test]
    fn every_function_has_its_documentation_and_a_distinct_oid() {
        for p in procs() {
            assert!(!p.description.is_empty(), "{} undocumented", p.name);
            assert_eq!(by_oid(i64::from(p.oid)).map(|q| &q.name), Some(&p.name));
        }
        assert!(by_oid(i64::from(FIRST_OID) - 1).is_none());
    }
}
