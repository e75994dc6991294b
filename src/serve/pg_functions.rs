//! PostgreSQL functions that clients and BI tools call on connect or while browsing, and
//! that neither DataFusion nor `datafusion-pg-catalog` provide: `version()` as PostgreSQL
//! 16 (SQLAlchemy parses it), `pg_typeof`, settings (`current_setting`, `set_config`), sizes and
//! visibility (psql `\d+`, `\dt+`); sizes are not tracked and answer 0; `format_type`
//! ([`super::pg_format_type`]); `array_or_empty` for `ARRAY(SELECT …)`. The lookups by OID
//! (descriptions, view definitions, function signatures) are [`super::pg_catalog_lookups`].

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, StringArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use datafusion::prelude::SessionContext;
use postgres_types::Kind;

use super::auth::{SERVER_VERSION, SERVER_VERSION_NUM};
use super::pg_catalog::Relations;
use super::pg_catalog_lookups;
use super::pg_types::{self, ColumnType};
use crate::query::column_names::ARRAY_SUBQUERY;

/// What `version()` says.
pub fn version_string() -> String {
    format!(
        "PostgreSQL {SERVER_VERSION} (cdrlake {}) on x86_64-pc-linux-gnu, compiled by rustc, 64-bit",
        env!("CARGO_PKG_VERSION")
    )
}

/// Registers the functions in `ctx`; the lookups by OID read `relations`.
pub fn register(ctx: &SessionContext, relations: Arc<Relations>) {
    for udf in pg_catalog_lookups::functions(&relations) {
        ctx.register_udf(udf);
    }
    let version = version_string();
    ctx.register_udf(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| Ok(scalar_text(Some(version.clone())))),
    ));
    ctx.register_udf(create_udf(
        "current_setting",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|args| map_text(&args[0], setting)),
    ));
    ctx.register_udf(create_udf(
        "set_config",
        vec![DataType::Utf8, DataType::Utf8, DataType::Boolean],
        DataType::Utf8,
        Volatility::Volatile,
        Arc::new(|args| Ok(args[1].clone())),
    ));
    ctx.register_udf(create_udf(
        "shobj_description",
        vec![DataType::Int64, DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|_| Ok(scalar_text(None))),
    ));
    // pg_database_size takes a name (psql \l+) or an OID; the others an OID.
    for (name, arg) in [
        ("pg_table_size", DataType::Int64),
        ("pg_database_size", DataType::Utf8),
        ("pg_indexes_size", DataType::Int64),
    ] {
        ctx.register_udf(create_udf(
            name,
            vec![arg],
            DataType::Int64,
            Volatility::Stable,
            Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Int64(Some(0))))),
        ));
    }
    ctx.register_udf(create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args| size_pretty(&args[0])),
    ));
    for name in [
        "pg_function_is_visible",
        "pg_collation_is_visible",
        "pg_type_is_visible",
    ] {
        ctx.register_udf(create_udf(
            name,
            vec![DataType::Int64],
            DataType::Boolean,
            Volatility::Stable,
            Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))))),
        ));
    }
    ctx.register_udf(create_udf(
        "pg_get_serial_sequence",
        vec![DataType::Utf8, DataType::Utf8],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(|_| Ok(scalar_text(None))),
    ));
    // After datafusion-pg-catalog's quote_ident, which quoted quoted names as they were.
    for udf in crate::query::quote::udfs() {
        ctx.register_udf(udf);
    }
    ctx.register_udf(super::pg_regclass::udf(relations.clone()));
    ctx.register_udf(super::pg_format_type::udf());
    ctx.register_udf(super::pg_parse_ident::udf());
    ctx.register_udf(ScalarUDF::new_from_impl(ArrayOrEmpty {
        signature: Signature::any(1, Volatility::Immutable),
    }));
    ctx.register_udf(ScalarUDF::new_from_impl(PgTypeof {
        signature: Signature::any(1, Volatility::Immutable),
    }));
    ctx.register_udf(create_udf(
        "pg_is_in_recovery",
        vec![],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Boolean(Some(false))))),
    ));
    ctx.register_udf(create_udf(
        "pg_advisory_unlock_all",
        vec![],
        DataType::Utf8,
        Volatility::Volatile,
        Arc::new(|_| Ok(scalar_text(Some(String::new())))),
    ));
}

/// `array_or_empty(a)`: `a`, or the empty array of its type where `a` is NULL. The
/// `ARRAY(SELECT …)` rewrite ([`super::pg_catalog_sql`]) wraps its `array_agg` in it, which
/// is NULL over no rows where PostgreSQL's `ARRAY(SELECT …)` is `{}`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ArrayOrEmpty {
    signature: Signature,
}

impl ScalarUDFImpl for ArrayOrEmpty {
    fn name(&self) -> &str {
        ARRAY_SUBQUERY
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args.first().cloned().unwrap_or(DataType::Null))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.into_iter().next() else {
            return exec_err!("{ARRAY_SUBQUERY} takes one argument");
        };
        let empty = |data_type: &DataType| match data_type {
            DataType::List(field) => Ok(ScalarValue::List(ScalarValue::new_list(
                &[],
                field.data_type(),
                field.is_nullable(),
            ))),
            other => ScalarValue::try_from(other),
        };
        match arg {
            ColumnarValue::Scalar(v) if v.is_null() => {
                Ok(ColumnarValue::Scalar(empty(&v.data_type())?))
            }
            ColumnarValue::Array(a) if a.null_count() > 0 => {
                let filler = empty(a.data_type())?;
                let values = (0..a.len())
                    .map(|i| match a.is_null(i) {
                        true => Ok(filler.clone()),
                        false => ScalarValue::try_from_array(&a, i),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(ColumnarValue::Array(ScalarValue::iter_to_array(values)?))
            }
            other => Ok(other),
        }
    }
}

/// `pg_typeof(value)`: the SQL name of the value's type (`integer`, `timestamp with time
/// zone`, `text[]`), as the server describes the type to clients.
#[derive(Debug, PartialEq, Eq, Hash)]
struct PgTypeof {
    signature: Signature,
}

impl ScalarUDFImpl for PgTypeof {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(field) = args.arg_fields.first() else {
            return exec_err!("pg_typeof takes one argument");
        };
        let ty = ColumnType::of(field.data_type()).ty;
        let name = match ty.kind() {
            Kind::Array(element) => format!("{}[]", pg_types::name(element)),
            _ => pg_types::name(&ty).to_owned(),
        };
        Ok(scalar_text(Some(name)))
    }
}

fn scalar_text(v: Option<String>) -> ColumnarValue {
    ColumnarValue::Scalar(ScalarValue::Utf8(v))
}

/// The value of a server parameter, as PostgreSQL spells it; unknown ones are an error.
fn setting(name: &str) -> Result<Option<String>> {
    Ok(Some(
        match name.to_lowercase().as_str() {
            "server_version" => SERVER_VERSION,
            "server_version_num" => SERVER_VERSION_NUM,
            "search_path" => "\"$user\", public",
            "timezone" => "UTC",
            "datestyle" => "ISO, MDY",
            "intervalstyle" => "postgres",
            "client_encoding" | "server_encoding" => "UTF8",
            "standard_conforming_strings" => "on",
            "integer_datetimes" => "on",
            "max_identifier_length" => "63",
            "transaction_isolation" | "default_transaction_isolation" => "read committed",
            "jit" => "off",
            "application_name" => "",
            "is_superuser" => "off",
            _ => return exec_err!("unrecognized configuration parameter \"{name}\""),
        }
        .to_owned(),
    ))
}

fn map_text(
    arg: &ColumnarValue,
    f: impl Fn(&str) -> Result<Option<String>>,
) -> Result<ColumnarValue> {
    match arg {
        ColumnarValue::Scalar(s) => match s.try_as_str() {
            Some(Some(v)) => Ok(scalar_text(f(v)?)),
            _ => Ok(scalar_text(None)),
        },
        ColumnarValue::Array(a) => {
            let a = arrow::compute::cast(a, &DataType::Utf8)?;
            let out: StringArray = a
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(&f).transpose().map(Option::flatten))
                .collect::<Result<_>>()?;
            Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
        }
    }
}

/// `pg_size_pretty`: bytes in the largest unit that keeps at least 10 of it.
fn size_pretty(arg: &ColumnarValue) -> Result<ColumnarValue> {
    let pretty = |bytes: i64| {
        let mut v = bytes;
        for unit in ["bytes", "kB", "MB", "GB", "TB"] {
            if v.abs() < 10 * 1024 || unit == "TB" {
                return format!("{v} {unit}");
            }
            v = (v + 512).div_euclid(1024);
        }
        format!("{v} PB")
    };
    Ok(match arg {
        ColumnarValue::Scalar(s) => match s {
            ScalarValue::Int64(Some(v)) => scalar_text(Some(pretty(*v))),
            _ => scalar_text(None),
        },
        ColumnarValue::Array(a) => {
            let a = arrow::compute::cast(a, &DataType::Int64)?;
            let a: &Int64Array = a.as_primitive();
            let out: StringArray = (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| pretty(a.value(i))))
                .collect();
            ColumnarValue::Array(Arc::new(out))
        }
    })
}
