//! `format_type(oid, typmod)` as PostgreSQL's `format_type_extended` writes it: SQL names
//! for the types the standard names (`integer`, `character varying(10)`, `numeric(18,6)`,
//! `timestamp(3) with time zone`), the catalog name for the rest (`text`, `oid`,
//! `"char"`), `[]` after an array's element, `-` for OID 0 and `???` for an OID that is no
//! type (where `datafusion-pg-catalog`'s says `oid(N)`). The built-in types are
//! postgres-types' list, which is PostgreSQL's `pg_type`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use postgres_types::{Kind, Type};

/// The `format_type` function.
pub fn udf() -> ScalarUDF {
    create_udf(
        "format_type",
        vec![DataType::Int64, DataType::Int64],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|args| {
            let rows = args
                .iter()
                .find_map(|a| match a {
                    ColumnarValue::Array(a) => Some(a.len()),
                    ColumnarValue::Scalar(_) => None,
                })
                .unwrap_or(1);
            let arrays: Vec<_> = args
                .iter()
                .map(|a| a.to_array(rows))
                .collect::<Result<_>>()?;
            let oids = datafusion::arrow::compute::cast(&arrays[0], &DataType::Int64)?;
            let mods = datafusion::arrow::compute::cast(&arrays[1], &DataType::Int64)?;
            let (oids, mods) = (
                oids.as_primitive::<Int64Type>(),
                mods.as_primitive::<Int64Type>(),
            );
            let out: StringArray = (0..rows)
                .map(|i| {
                    (!oids.is_null(i)).then(|| {
                        let typmod =
                            (!mods.is_null(i)).then(|| i32::try_from(mods.value(i)).unwrap_or(-1));
                        format_type(oids.value(i), typmod)
                    })
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

/// `format_type(oid, typmod)`; `typmod` None is SQL NULL (no typmod given).
pub fn format_type(oid: i64, typmod: Option<i32>) -> String {
    if oid == 0 {
        return "-".to_owned();
    }
    let Some(ty) = u32::try_from(oid).ok().and_then(Type::from_oid) else {
        return "???".to_owned();
    };
    match ty.kind() {
        Kind::Array(element) if ty.name().starts_with('_') => {
            format!("{}[]", named(element, typmod))
        }
        _ => named(&ty, typmod),
    }
}

/// The name of the non-array type `ty` with `typmod` (PostgreSQL's switch on the OID).
fn named(ty: &Type, typmod: Option<i32>) -> String {
    let given = typmod.is_some();
    let typmod = typmod.filter(|m| *m >= 0);
    let with = |name: &str, suffix: Option<String>| match suffix {
        Some(s) => format!("{name}{s}"),
        None => name.to_owned(),
    };
    let length = |offset: i32| typmod.map(|m| format!("({})", m - offset));
    let time = |name: &str, zone: &str| match typmod {
        Some(m) => format!("{name}({m}) {zone}"),
        None => format!("{name} {zone}"),
    };
    match *ty {
        Type::BOOL => "boolean".to_owned(),
        Type::INT2 => "smallint".to_owned(),
        Type::INT4 => "integer".to_owned(),
        Type::INT8 => "bigint".to_owned(),
        Type::FLOAT4 => "real".to_owned(),
        Type::FLOAT8 => "double precision".to_owned(),
        // BIT or CHARACTER with typmod -1 given is not BIT(1) or CHARACTER(1): the catalog
        // name says so.
        Type::BIT if typmod.is_none() && given => "\"bit\"".to_owned(),
        Type::BIT => with("bit", length(0)),
        Type::BPCHAR if typmod.is_none() && given => "bpchar".to_owned(),
        Type::BPCHAR => with("character", length(4)),
        Type::VARBIT => with("bit varying", length(0)),
        Type::VARCHAR => with("character varying", length(4)),
        Type::NUMERIC => with(
            "numeric",
            typmod.map(|m| {
                let m = m - 4;
                let precision = (m >> 16) & 0xffff;
                let scale = ((m & 0x7ff) ^ 1024) - 1024;
                format!("({precision},{scale})")
            }),
        ),
        Type::TIME => time("time", "without time zone"),
        Type::TIMETZ => time("time", "with time zone"),
        Type::TIMESTAMP => time("timestamp", "without time zone"),
        Type::TIMESTAMPTZ => time("timestamp", "with time zone"),
        Type::INTERVAL => interval(typmod),
        Type::CHAR => "\"char\"".to_owned(),
        _ => ty.name().to_owned(),
    }
}

/// `interval` with its typmod: a field restriction (`year to month`) and a precision.
fn interval(typmod: Option<i32>) -> String {
    const FULL_RANGE: i32 = 0x7fff;
    const FIELDS: [(i32, &str); 13] = [
        (1 << 2, " year"),
        (1 << 1, " month"),
        (1 << 3, " day"),
        (1 << 10, " hour"),
        (1 << 11, " minute"),
        (1 << 12, " second"),
        ((1 << 2) | (1 << 1), " year to month"),
        ((1 << 3) | (1 << 10), " day to hour"),
        ((1 << 3) | (1 << 10) | (1 << 11), " day to minute"),
        (
            (1 << 3) | (1 << 10) | (1 << 11) | (1 << 12),
            " day to second",
        ),
        ((1 << 10) | (1 << 11), " hour to minute"),
        ((1 << 10) | (1 << 11) | (1 << 12), " hour to second"),
        ((1 << 11) | (1 << 12), " minute to second"),
    ];
    let Some(m) = typmod else {
        return "interval".to_owned();
    };
    let range = (m >> 16) & FULL_RANGE;
    let precision = m & 0xffff;
    let fields = FIELDS
        .iter()
        .find(|(r, _)| *r == range)
        .map_or("", |(_, f)| f);
    if precision == 0xffff {
        format!("interval{fields}")
    } else {
        format!("interval{fields}({precision})")
    }
}

#[cfg(test)]
mod tests {
    use super::format_type;

    #[test]
    fn names_as_postgres() {
        let numeric_18_6 = ((18 << 16) | 6) + 4;
        let cases: &[(i64, Option<i32>, &str)] = &[
            (99999, Some(-1), "???"),
            (0, Some(-1), "-"),
            (1700, Some(numeric_18_6), "numeric(18,6)"),
            (1700, None, "numeric"),
            (1043, Some(14), "character varying(10)"),
            (1184, Some(3), "timestamp(3) with time zone"),
            (1184, None, "timestamp with time zone"),
            (1114, Some(-1), "timestamp without time zone"),
            (1083, Some(3), "time(3) without time zone"),
            (1042, Some(5), "character(1)"),
            (1042, Some(-1), "bpchar"),
            (1042, None, "character"),
            (25, None, "text"),
            (23, Some(-1), "integer"),
            (1007, None, "integer[]"),
            (1231, Some(numeric_18_6), "numeric(18,6)[]"),
            (18, None, "\"char\""),
            (2205, None, "regclass"),
            (1186, Some(0x7fff_ffff), "interval"),
        ];
        for (oid, typmod, expected) in cases {
            assert_eq!(format_type(*oid, *typmod), *expected, "{oid} {typmod:?}");
        }
    }
}
