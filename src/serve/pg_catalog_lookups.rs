//! The PostgreSQL functions that look an object up by OID: descriptions
//! (`obj_description`, `col_description`), view definitions (`pg_get_viewdef`) and function
//! signatures (`pg_get_function_result`, `pg_get_function_arguments`), answering from the
//! relations [`super::pg_catalog`] records and the cdrlake functions of
//! [`super::pg_catalog_procs`]; plus `json_build_object` (SQLAlchemy's column reflection).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::pg_catalog::Relations;
use super::pg_catalog_procs::by_oid;
use super::pg_types;

/// What a lookup function answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lookup {
    /// `obj_description(oid [, catalog])`.
    ObjDescription,
    /// `col_description(table oid, attnum)`.
    ColDescription,
    /// `pg_get_viewdef(oid [, pretty])`.
    ViewDef,
    /// `pg_get_function_result(oid)`.
    FunctionResult,
    /// `pg_get_function_arguments(oid)` and `pg_get_function_identity_arguments(oid)`.
    FunctionArguments,
    /// `pg_get_function_sqlbody(oid)`: cdrlake functions have no SQL body.
    FunctionSqlBody,
}

/// Each lookup function: name, what it answers, the types of its second argument forms.
/// `pg_get_viewdef` also takes the view's name as text (`pg_get_viewdef('call_log')`).
const LOOKUPS: &[(&str, Lookup, &[DataType])] = &[
    ("obj_description", Lookup::ObjDescription, &[DataType::Utf8]),
    (
        "col_description",
        Lookup::ColDescription,
        &[DataType::Int64],
    ),
    (
        "pg_get_viewdef",
        Lookup::ViewDef,
        &[DataType::Boolean, DataType::Int64],
    ),
    ("pg_get_function_result", Lookup::FunctionResult, &[]),
    ("pg_get_function_arguments", Lookup::FunctionArguments, &[]),
    (
        "pg_get_function_identity_arguments",
        Lookup::FunctionArguments,
        &[],
    ),
    ("pg_get_function_sqlbody", Lookup::FunctionSqlBody, &[]),
];

/// The lookup functions over `relations`, and `json_build_object`.
pub fn functions(relations: &Arc<Relations>) -> Vec<ScalarUDF> {
    let mut udfs: Vec<ScalarUDF> = LOOKUPS
        .iter()
        .map(|(name, lookup, second)| {
            let mut forms = vec![TypeSignature::Exact(vec![DataType::Int64])];
            forms.extend(
                second
                    .iter()
                    .map(|t| TypeSignature::Exact(vec![DataType::Int64, t.clone()])),
            );
            if *lookup == Lookup::ViewDef {
                forms.push(TypeSignature::Exact(vec![DataType::Utf8]));
                forms.push(TypeSignature::Exact(vec![
                    DataType::Utf8,
                    DataType::Boolean,
                ]));
            }
            ScalarUDF::new_from_impl(LookupUdf {
                name,
                lookup: *lookup,
                signature: Signature::one_of(forms, Volatility::Stable),
                relations: relations.clone(),
            })
        })
        .collect();
    udfs.push(ScalarUDF::new_from_impl(JsonBuildObject {
        signature: Signature::variadic_any(Volatility::Immutable),
    }));
    udfs
}

#[derive(Debug)]
struct LookupUdf {
    name: &'static str,
    lookup: Lookup,
    signature: Signature,
    relations: Arc<Relations>,
}

impl PartialEq for LookupUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.relations, &other.relations)
    }
}

impl Eq for LookupUdf {}

impl Hash for LookupUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl LookupUdf {
    fn answer(&self, oid: i64, second: Option<&str>) -> Option<String> {
        let relation = || self.relations.get(oid);
        match self.lookup {
            Lookup::ObjDescription => match second {
                Some("pg_proc") => by_oid(oid).map(|p| p.description.clone()),
                Some("pg_class") => relation()?.description(),
                Some(_) => None,
                None => by_oid(oid)
                    .map(|p| p.description.clone())
                    .or_else(|| relation()?.description()),
            },
            Lookup::ColDescription => relation()?.column_description(second?.parse().ok()?),
            Lookup::ViewDef => relation()?.view_definition(),
            Lookup::FunctionResult => by_oid(oid).map(|p| pg_types::name(&p.result).to_owned()),
            Lookup::FunctionArguments => by_oid(oid).map(|p| p.arguments()),
            Lookup::FunctionSqlBody => None,
        }
    }
}

impl ScalarUDFImpl for LookupUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        if self.lookup == Lookup::ViewDef && arrays[0].data_type().is_string() {
            let names = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let out: StringArray = names
                .as_string::<i32>()
                .iter()
                .map(|name| name.and_then(super::pg_catalog::view_definition_named))
                .collect();
            return Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef));
        }
        let oids = datafusion::arrow::compute::cast(&arrays[0], &DataType::Int64)?;
        let oids = oids.as_primitive::<Int64Type>();
        let second = match arrays.get(1) {
            Some(a) => Some(datafusion::arrow::compute::cast(a, &DataType::Utf8)?),
            None => None,
        };
        let second = second.as_ref().map(|a| a.as_string::<i32>());
        let out: StringArray = (0..oids.len())
            .map(|i| {
                if oids.is_null(i) || second.is_some_and(|s| s.is_null(i)) {
                    return None;
                }
                self.answer(oids.value(i), second.map(|s| s.value(i)))
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
    }
}

/// `json_build_object(key, value, …)`: a JSON object as text.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let rows = arrays.first().map_or(args.number_rows, |a| a.len());
        let out: StringArray = (0..rows)
            .map(|row| {
                let mut object = serde_json::Map::new();
                for pair in arrays.chunks(2) {
                    let key = ScalarValue::try_from_array(&pair[0], row)?.to_string();
                    let value = match pair.get(1) {
                        Some(a) => json_value(&ScalarValue::try_from_array(a, row)?),
                        None => serde_json::Value::Null,
                    };
                    object.insert(key, value);
                }
                Ok(Some(serde_json::Value::Object(object).to_string()))
            })
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

fn json_value(v: &ScalarValue) -> serde_json::Value {
    use serde_json::Value;
    if v.is_null() {
        return Value::Null;
    }
    match v {
        ScalarValue::Boolean(Some(b)) => Value::Bool(*b),
        v if v.data_type().is_numeric() => v
            .to_string()
            .parse::<serde_json::Number>()
            .map_or_else(|_| Value::String(v.to_string()), Value::Number),
        v => Value::String(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn json_build_object_builds_json() -> Result<()> {
        let ctx = SessionContext::new();
        for f in functions(&Arc::default()) {
            ctx.register_udf(f);
        }
        let batches = ctx
            .sql("SELECT json_build_object('always', true, 'start', 1, 'name', 'x', 'n', NULL)")
            .await?
            .collect()
            .await?;
        let text = batches[0].column(0).as_string::<i32>().value(0).to_owned();
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        assert_eq!(
            json,
            serde_json::json!({"always": true, "start": 1, "name": "x", "n": null})
        );
        Ok(())
    }

    #[tokio::test]
    async fn function_lookups_answer_for_cdrlake_functions() -> Result<()> {
        let ctx = SessionContext::new();
        for f in functions(&Arc::default()) {
            ctx.register_udf(f);
        }
        let oid = super::super::pg_catalog_procs::procs()[0].oid;
        let sql = format!(
            "SELECT pg_get_function_result({oid}), obj_description({oid}, 'pg_proc'), \
             obj_description({oid}, 'pg_class'), pg_get_viewdef({oid}, true)"
        );
        let batches = ctx.sql(&sql).await?.collect().await?;
        let b = &batches[0];
        assert_eq!(b.column(0).as_string::<i32>().value(0), "integer");
        assert!(
            b.column(1)
                .as_string::<i32>()
                .value(0)
                .starts_with("Billable seconds")
        );
        assert!(b.column(2).is_null(0) && b.column(3).is_null(0));
        Ok(())
    }
}
