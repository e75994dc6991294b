//! `pg_catalog` as psql and BI tools read it: `datafusion-pg-catalog`'s tables, with the
//! rows and columns it lacks for cdrlake filled in.
//!
//! - `pg_proc` and `pg_description` gain the SPEC functions ([`super::pg_catalog_procs`]),
//!   and the documentation of every stored table, column and view (so `\df`, `\df+`,
//!   `\dt+`, `\d+` and JDBC's `REMARKS` show it);
//! - `pg_attribute.atttypmod` carries numeric precision and scale, so
//!   `format_type(atttypid, atttypmod)` says `numeric(18,6)` as PostgreSQL does;
//! - array columns psql reads (`pg_class.reloptions`, `pg_namespace.nspacl`, `pg_proc.proacl`,
//!   …) are `text[]`, `pg_constraint.conkey`/`confkey` `smallint[]` ([`ARRAY_COLUMNS`]);
//! - `pg_views` lists the views of `schemas/views/` with their definitions;
//! - `pg_type`'s `regproc` columns are `pg_proc` OIDs ([`super::pg_catalog_types`]).
//!
//! Everything else is `datafusion-pg-catalog`'s own. Table and schema OIDs are its dynamic
//! ones: each scan of `pg_class` records them in [`Relations`], which the description and
//! view-definition functions of [`super::pg_functions`] read.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, new_null_array};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{CatalogProviderList, MemTable, SchemaProvider, TableProvider};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::{
    PgCatalogSchemaProvider, PgCatalogStaticTables, PgCatalogTable,
};
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use futures::TryStreamExt;

use super::pg_catalog_procs::procs;
use super::pg_information_schema::PgInformationSchema;
use super::{pg_catalog_types, pg_functions, pg_types};
use crate::catalog::views;
use crate::error::{Error, Result as CdrResult};
use crate::query::{DATABASE, SCHEMA};
use crate::schema;

type Inner = PgCatalogSchemaProvider<Arc<dyn CatalogProviderList>, EmptyContextProvider>;

/// `pg_class.oid` of `pg_proc` and `pg_class` (the `classoid` of their descriptions).
const PG_PROC_OID: i32 = 1255;
const PG_CLASS_OID: i32 = 1259;

/// Installs `pg_catalog`, a PostgreSQL-shaped `information_schema` and the PostgreSQL
/// functions in `ctx` (whose default catalog is [`DATABASE`]).
pub fn setup(ctx: &SessionContext) -> CdrResult<()> {
    setup_pg_catalog(ctx, DATABASE, EmptyContextProvider).map_err(|e| Error::DataFusion(*e))?;
    let list = ctx.state().catalog_list().clone();
    let inner = PgCatalogSchemaProvider::try_new(
        list.clone(),
        Arc::new(PgCatalogStaticTables::try_new()?),
        EmptyContextProvider,
    )?;
    let relations = Arc::new(Relations::default());
    let catalog = ctx
        .catalog(DATABASE)
        .ok_or_else(|| Error::InvalidArgument(format!("catalog {DATABASE} is not registered")))?;
    let pg_catalog = PgCatalog {
        inner: Arc::new(inner),
        relations: relations.clone(),
        list: list.clone(),
        pg_type: OnceLock::new(),
    };
    catalog.register_schema("pg_catalog", Arc::new(pg_catalog))?;
    // Our own information_schema replaces DataFusion's built-in one (whose column types are
    // Arrow names); it still answers SHOW and the DataFusion tables through it.
    ctx.state_ref()
        .write()
        .config_mut()
        .options_mut()
        .catalog
        .information_schema = false;
    catalog.register_schema(
        "information_schema",
        Arc::new(PgInformationSchema::new(list)),
    )?;
    pg_functions::register(ctx, relations);
    Ok(())
}

/// A relation by its `pg_class` OID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Schema name.
    pub schema: String,
    /// Table or view name.
    pub name: String,
}

impl Relation {
    /// What `obj_description(oid, 'pg_class')` says: a stored table's documentation, or
    /// the leading comment of a view's definition.
    pub fn description(&self) -> Option<String> {
        if self.schema != SCHEMA {
            return None;
        }
        if let Ok(table) = schema::table(&self.name) {
            return Some(table.doc.clone());
        }
        let sql = view_source(&self.name)?;
        let comment: Vec<&str> = sql
            .lines()
            .map_while(|l| l.trim().strip_prefix("--"))
            .map(str::trim)
            .collect();
        (!comment.is_empty()).then(|| comment.join(" "))
    }

    /// What `col_description(oid, attnum)` says: the documentation of a stored table's column.
    pub fn column_description(&self, attnum: i64) -> Option<String> {
        let table = schema::table(&self.name)
            .ok()
            .filter(|_| self.schema == SCHEMA)?;
        let column = table
            .columns
            .get(usize::try_from(attnum).ok()?.checked_sub(1)?)?;
        Some(column.doc.clone())
    }

    /// What `pg_get_viewdef(oid)` says: the view's `SELECT`.
    pub fn view_definition(&self) -> Option<String> {
        (self.schema == SCHEMA)
            .then(|| view_definition(&self.name))
            .flatten()
    }
}

/// The text of the `.sql` file of view `name`, its leading comment included.
fn view_source(name: &str) -> Option<String> {
    let views = views::definitions().ok()?;
    let (_, sql) = views.into_iter().find(|(n, _)| n == name)?;
    Some(sql.to_owned())
}

/// What `pg_get_viewdef('name')` says: the query of the view `name` (`call_log`,
/// `public.call_log`, `"call_log"`, as a `regclass` would read it); None for anything else.
pub fn view_definition_named(qualified: &str) -> Option<String> {
    let parts: Vec<String> = qualified
        .split('.')
        .map(|p| {
            let p = p.trim();
            match p.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => p.to_lowercase(),
            }
        })
        .collect();
    match parts.as_slice() {
        [name] => view_definition(name),
        [schema, name] if schema == SCHEMA => view_definition(name),
        _ => None,
    }
}

fn view_definition(name: &str) -> Option<String> {
    view_source(name).map(|sql| view_query(&sql).to_owned())
}

/// The query of a view's `.sql` file, as PostgreSQL's `pg_get_viewdef` and `pg_views` give
/// it: without the comment lines before it (the view's description) and the final `;`.
fn view_query(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    while rest.starts_with("--") {
        rest = rest
            .split_once('\n')
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    rest.trim_end().trim_end_matches(';').trim_end()
}

/// Relations by `pg_class` OID, as last seen by a scan of `pg_class`.
#[derive(Debug, Default)]
pub struct Relations(RwLock<HashMap<i64, Relation>>);

impl Relations {
    /// The relation with `oid`, if a scan of `pg_class` has listed it.
    pub fn get(&self, oid: i64) -> Option<Relation> {
        self.0.read().ok()?.get(&oid).cloned()
    }

    /// The OID of `schema`.`name`, if a scan of `pg_class` has listed it.
    pub(super) fn oid_of(&self, schema: &str, name: &str) -> Option<i32> {
        let map = self.0.read().ok()?;
        map.iter()
            .find(|(_, r)| r.schema == schema && r.name == name)
            .and_then(|(oid, _)| i32::try_from(*oid).ok())
    }

    fn replace(&self, relations: HashMap<i64, Relation>) {
        if let Ok(mut map) = self.0.write() {
            *map = relations;
        }
    }
}

/// The `pg_catalog` schema: `datafusion-pg-catalog`'s, with [`Patch`]ed tables.
#[derive(Debug)]
struct PgCatalog {
    inner: Arc<Inner>,
    relations: Arc<Relations>,
    list: Arc<dyn CatalogProviderList>,
    /// `pg_type`, built at its first use (it is static).
    pg_type: OnceLock<Arc<MemTable>>,
}

/// What is added to one of `datafusion-pg-catalog`'s tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Patch {
    Class,
    Namespace,
    Attribute,
    Proc,
    Description,
    Constraint,
}

/// Array columns psql passes to `array_to_string` or `||`, missing from
/// `datafusion-pg-catalog` or typed there as text: (table, column, element type). The
/// `text[]` ones are always NULL here; `pg_constraint`'s column numbers (`smallint[]`, which
/// Metabase's foreign-key sync compares with `= ANY(c.conkey)`) are read from the text
/// datafusion-pg-catalog gives them (`[2, 20, 3]`).
const ARRAY_COLUMNS: &[(&str, &str, DataType)] = &[
    ("pg_class", "reloptions", DataType::Utf8),
    ("pg_class", "relacl", DataType::Utf8),
    ("pg_namespace", "nspacl", DataType::Utf8),
    ("pg_proc", "proacl", DataType::Utf8),
    ("pg_proc", "proconfig", DataType::Utf8),
    ("pg_constraint", "conkey", DataType::Int16),
    ("pg_constraint", "confkey", DataType::Int16),
];

/// The schema of `table` with its [`ARRAY_COLUMNS`] typed as arrays (added when missing).
fn with_array_columns(table: &str, schema: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (_, column, element) in ARRAY_COLUMNS.iter().filter(|(t, _, _)| *t == table) {
        let field = Field::new(*column, DataType::new_list(element.clone(), true), true);
        match fields.iter().position(|f| f.name() == column) {
            Some(i) => fields[i] = field,
            None => fields.push(field),
        }
    }
    Arc::new(Schema::new(fields))
}

/// `batch` with its text columns that `schema` types `smallint[]` read as such (`[1, 2]`);
/// other columns as they are.
fn with_number_lists(schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch> {
    use datafusion::arrow::array::{Int16Builder, ListBuilder};
    let int2_list = DataType::new_list(DataType::Int16, true);
    let mut columns = batch.columns().to_vec();
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for (i, field) in batch.schema().fields().iter().enumerate() {
        let wanted = schema.field_with_name(field.name()).ok();
        if wanted.map(|f| f.data_type()) != Some(&int2_list) || field.data_type() != &DataType::Utf8
        {
            continue;
        }
        let texts = batch.column(i).as_string::<i32>();
        let mut list = ListBuilder::new(Int16Builder::new());
        for text in texts.iter() {
            let Some(text) = text else {
                list.append(false);
                continue;
            };
            let numbers = text.trim_matches(|c| matches!(c, '[' | ']' | '{' | '}'));
            for n in numbers.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                list.values().append_option(n.parse::<i16>().ok());
            }
            list.append(true);
        }
        columns[i] = Arc::new(list.finish());
        fields[i] = Field::new(field.name(), int2_list.clone(), true);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// `batch` as a batch of `schema`: its columns by name, NULL where the types differ.
fn fit(schema: &SchemaRef, batch: &RecordBatch) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => c.clone(),
            _ => new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

impl Patch {
    fn of(name: &str) -> Option<Patch> {
        Some(match name {
            "pg_class" => Patch::Class,
            "pg_namespace" => Patch::Namespace,
            "pg_attribute" => Patch::Attribute,
            "pg_proc" => Patch::Proc,
            "pg_description" => Patch::Description,
            "pg_constraint" => Patch::Constraint,
            _ => return None,
        })
    }
}

#[async_trait]
impl SchemaProvider for PgCatalog {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let name = name.to_ascii_lowercase();
        if name == "pg_views" {
            return Ok(Some(Arc::new(pg_views()?)));
        }
        if name == "pg_type" {
            if let Some(table) = self.pg_type.get() {
                return Ok(Some(table.clone()));
            }
            let table = Arc::new(pg_catalog_types::pg_type(
                &self.build("pg_type")?,
                &self.build("pg_proc")?,
            )?);
            return Ok(Some(self.pg_type.get_or_init(|| table).clone()));
        }
        let Some(patch) = Patch::of(&name) else {
            return self.inner.table(&name).await;
        };
        let base = self.build(&name)?;
        let schema = with_array_columns(&name, &base.schema());
        let stream = Patched {
            patch,
            schema: schema.clone(),
            base: Arc::new(base),
            class: Arc::new(self.build("pg_class")?),
            namespace: Arc::new(self.build("pg_namespace")?),
            relations: self.relations.clone(),
            list: self.list.clone(),
        };
        Ok(Some(Arc::new(StreamingTable::try_new(
            schema,
            vec![Arc::new(stream)],
        )?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

impl PgCatalog {
    fn build(&self, name: &str) -> Result<PgCatalogTable> {
        self.inner.build_table_by_name(name)?.ok_or_else(|| {
            DataFusionError::Plan(format!(
                "pg_catalog.{name} is missing from datafusion-pg-catalog"
            ))
        })
    }
}

/// `pg_views`: the views of `schemas/views/`.
fn pg_views() -> Result<MemTable> {
    let schema = Arc::new(Schema::new(
        ["schemaname", "viewname", "viewowner", "definition"]
            .map(|n| Field::new(n, DataType::Utf8, true))
            .to_vec(),
    ));
    let defs = views::definitions().map_err(|e| DataFusionError::External(Box::new(e)))?;
    let rows: Vec<Vec<(&str, ScalarValue)>> = defs
        .iter()
        .map(|(name, sql)| {
            vec![
                ("schemaname", text(SCHEMA)),
                ("viewname", text(name)),
                ("viewowner", text("postgres")),
                ("definition", text(view_query(sql))),
            ]
        })
        .collect();
    let batch = rows_batch(&schema, &rows)?;
    MemTable::try_new(schema, vec![vec![batch]])
}

fn text(v: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(v.to_owned()))
}

fn int(v: i32) -> ScalarValue {
    ScalarValue::Int32(Some(v))
}

/// One of `datafusion-pg-catalog`'s tables with a [`Patch`] applied at each scan.
#[derive(Clone)]
struct Patched {
    patch: Patch,
    schema: SchemaRef,
    base: Arc<PgCatalogTable>,
    class: Arc<PgCatalogTable>,
    namespace: Arc<PgCatalogTable>,
    relations: Arc<Relations>,
    list: Arc<dyn CatalogProviderList>,
}

impl std::fmt::Debug for Patched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patched")
            .field("patch", &self.patch)
            .finish_non_exhaustive()
    }
}

impl PartitionStream for Patched {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let this = self.clone();
        let schema = self.schema.clone();
        let batch = async move { this.batch(ctx).await };
        Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(batch),
        ))
    }
}

/// All rows of `table`.
async fn collect(table: &PgCatalogTable, ctx: Arc<TaskContext>) -> Result<RecordBatch> {
    let schema = table.schema();
    let batches: Vec<RecordBatch> = match table {
        PgCatalogTable::Static(t) => t.data().to_vec(),
        PgCatalogTable::Dynamic(t) => t.execute(ctx).try_collect().await?,
        PgCatalogTable::Empty(_) => Vec::new(),
    };
    Ok(concat_batches(&schema, &batches)?)
}

impl Patched {
    async fn batch(self, ctx: Arc<TaskContext>) -> Result<RecordBatch> {
        let public = self.refresh_relations(ctx.clone()).await?;
        let base = collect(&self.base, ctx).await?;
        match self.patch {
            Patch::Class | Patch::Namespace => fit(&self.schema, &base),
            Patch::Constraint => fit(&self.schema, &with_number_lists(&self.schema, &base)?),
            Patch::Attribute => fit(&self.schema, &self.typmods(base).await?),
            Patch::Proc => {
                let rows: Vec<Vec<(&str, ScalarValue)>> = procs()
                    .iter()
                    .map(|p| {
                        vec![
                            ("oid", int(p.oid)),
                            ("proname", text(&p.name)),
                            ("pronamespace", int(public)),
                            ("proowner", int(10)),
                            ("prolang", int(12)),
                            ("procost", ScalarValue::Float32(Some(1.0))),
                            ("prokind", text("f")),
                            ("provolatile", text(p.volatility)),
                            ("proparallel", text("s")),
                            (
                                "pronargs",
                                ScalarValue::Int16(i16::try_from(p.args.len()).ok()),
                            ),
                            (
                                "pronargdefaults",
                                ScalarValue::Int16(i16::try_from(p.args.len() - p.required).ok()),
                            ),
                            ("prorettype", int(p.result.oid() as i32)),
                            ("proargtypes", text(&p.arg_oids())),
                            ("proargnames", text(&p.arg_names())),
                            ("prosrc", text(&p.name)),
                        ]
                    })
                    .collect();
                fit(&self.schema, &append(base, &rows)?)
            }
            Patch::Description => {
                let mut rows: Vec<Vec<(&str, ScalarValue)>> = procs()
                    .iter()
                    .map(|p| description(p.oid, PG_PROC_OID, 0, &p.description))
                    .collect();
                rows.extend(self.relation_descriptions());
                fit(&self.schema, &append(base, &rows)?)
            }
        }
    }

    /// Scans `pg_class` and `pg_namespace`, records every relation's OID in
    /// [`Relations`] and returns the OID of the `public` schema.
    async fn refresh_relations(&self, ctx: Arc<TaskContext>) -> Result<i32> {
        let namespaces = collect(&self.namespace, ctx.clone()).await?;
        let class = collect(&self.class, ctx).await?;
        let ns_oids = int32(&namespaces, "oid")?;
        let ns_names = namespaces
            .column_by_name("nspname")
            .map(|c| c.as_string::<i32>().clone());
        let names: HashMap<i32, String> = match &ns_names {
            Some(n) => (0..n.len())
                .map(|i| (ns_oids.value(i), n.value(i).to_owned()))
                .collect(),
            None => HashMap::new(),
        };
        let oids = int32(&class, "oid")?;
        let spaces = int32(&class, "relnamespace")?;
        let relnames = class
            .column_by_name("relname")
            .map(|c| c.as_string::<i32>().clone())
            .ok_or_else(|| DataFusionError::Plan("pg_class has no relname".into()))?;
        let relations = (0..class.num_rows())
            .map(|i| {
                let schema = names.get(&spaces.value(i)).cloned().unwrap_or_default();
                let name = relnames.value(i).to_owned();
                (i64::from(oids.value(i)), Relation { schema, name })
            })
            .collect();
        self.relations.replace(relations);
        Ok(names
            .iter()
            .find(|(_, n)| *n == SCHEMA)
            .map_or(0, |(oid, _)| *oid))
    }

    /// Descriptions of the stored tables, their columns and the views.
    fn relation_descriptions(&self) -> Vec<Vec<(&'static str, ScalarValue)>> {
        let mut rows = Vec::new();
        for table in schema::tables().unwrap_or_default() {
            let Some(oid) = self.relations.oid_of(SCHEMA, &table.name) else {
                continue;
            };
            rows.push(description(oid, PG_CLASS_OID, 0, &table.doc));
            for (i, column) in table.columns.iter().enumerate() {
                let attnum = i32::try_from(i + 1).unwrap_or(i32::MAX);
                rows.push(description(oid, PG_CLASS_OID, attnum, &column.doc));
            }
        }
        for (name, _) in views::definitions().unwrap_or_default() {
            let relation = Relation {
                schema: SCHEMA.into(),
                name,
            };
            if let (Some(oid), Some(doc)) = (
                self.relations.oid_of(SCHEMA, &relation.name),
                relation.description(),
            ) {
                rows.push(description(oid, PG_CLASS_OID, 0, &doc));
            }
        }
        rows
    }

    /// `pg_attribute` with `atttypmod` set for numeric columns.
    async fn typmods(&self, base: RecordBatch) -> Result<RecordBatch> {
        let relids = int32(&base, "attrelid")?;
        let types = int32(&base, "atttypid")?;
        let nums = base
            .column_by_name("attnum")
            .map(|c| {
                c.as_primitive::<datafusion::arrow::datatypes::Int16Type>()
                    .clone()
            })
            .ok_or_else(|| DataFusionError::Plan("pg_attribute has no attnum".into()))?;
        let Some(typmod_at) = base.schema().index_of("atttypmod").ok() else {
            return Ok(base);
        };
        let old = base.column(typmod_at).as_primitive::<Int32Type>();
        let mut schemas: HashMap<i32, Option<SchemaRef>> = HashMap::new();
        let mut typmods = Vec::with_capacity(base.num_rows());
        for i in 0..base.num_rows() {
            let mut typmod = old.value(i);
            if types.value(i) == 1700 {
                let relid = relids.value(i);
                if let std::collections::hash_map::Entry::Vacant(e) = schemas.entry(relid) {
                    e.insert(self.table_schema(relid).await);
                }
                let field = schemas.get(&relid).and_then(Option::as_ref).and_then(|s| {
                    s.fields()
                        .get(usize::try_from(nums.value(i)).ok()?.checked_sub(1)?)
                        .cloned()
                });
                if let Some(field) = field {
                    typmod = pg_types::ColumnType::of(field.data_type()).typmod;
                }
            }
            typmods.push(typmod);
        }
        let mut columns = base.columns().to_vec();
        columns[typmod_at] = Arc::new(datafusion::arrow::array::Int32Array::from(typmods));
        Ok(RecordBatch::try_new(base.schema(), columns)?)
    }

    async fn table_schema(&self, relid: i32) -> Option<SchemaRef> {
        let relation = self.relations.get(i64::from(relid))?;
        let schema = self.list.catalog(DATABASE)?.schema(&relation.schema)?;
        let table = schema.table(&relation.name).await.ok()??;
        Some(table.schema())
    }
}

fn int32<'a>(
    batch: &'a RecordBatch,
    name: &str,
) -> Result<&'a datafusion::arrow::array::PrimitiveArray<Int32Type>> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_primitive_opt::<Int32Type>())
        .ok_or_else(|| DataFusionError::Plan(format!("pg_catalog column {name} is not int4")))
}

fn description(oid: i32, classoid: i32, subid: i32, doc: &str) -> Vec<(&'static str, ScalarValue)> {
    vec![
        ("objoid", int(oid)),
        ("classoid", int(classoid)),
        ("objsubid", int(subid)),
        ("description", text(doc)),
    ]
}

/// `base` with `rows` appended.
fn append(base: RecordBatch, rows: &[Vec<(&str, ScalarValue)>]) -> Result<RecordBatch> {
    let schema = base.schema();
    let extra = rows_batch(&schema, rows)?;
    Ok(concat_batches(&schema, &[base, extra])?)
}

/// A batch of `schema` from rows given as (column, value) pairs: a column a row does not
/// name is NULL, or its type's default when the column is not nullable.
pub(super) fn rows_batch(
    schema: &SchemaRef,
    rows: &[Vec<(&str, ScalarValue)>],
) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let values = rows
                .iter()
                .map(|row| {
                    let given = row.iter().find(|(n, _)| *n == field.name()).map(|(_, v)| v);
                    match given {
                        Some(v) => v.cast_to(field.data_type()),
                        None if field.is_nullable() => ScalarValue::try_from(field.data_type()),
                        None => ScalarValue::new_default(field.data_type()),
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            if values.is_empty() {
                return Ok(new_null_array(field.data_type(), 0));
            }
            ScalarValue::iter_to_array(values)
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_columns_are_null_or_default() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("b", DataType::Utf8, true),
            Field::new("c", DataType::Boolean, false),
        ]));
        let batch = rows_batch(&schema, &[vec![("b", text("x"))], vec![("a", int(7))]]).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let a = batch.column(0).as_primitive::<Int32Type>();
        assert_eq!((a.value(0), a.value(1)), (0, 7));
        assert!(batch.column(1).is_null(1));
        assert_eq!(batch.column(2).null_count(), 0);
    }

    #[test]
    fn a_view_query_has_no_leading_comment() {
        assert_eq!(
            view_query("-- what\n--\n-- why\n\nSELECT 1 -- one\nFROM t;\n"),
            "SELECT 1 -- one\nFROM t"
        );
        assert_eq!(view_query("SELECT 2"), "SELECT 2");
        assert_eq!(view_query("-- only a comment"), "");
    }

    #[test]
    fn descriptions_come_from_the_schema_files() {
        let cdrs = Relation {
            schema: SCHEMA.into(),
            name: "cdrs".into(),
        };
        assert_eq!(
            cdrs.description(),
            schema::table("cdrs").ok().map(|t| t.doc.clone())
        );
        let call_id = schema::table("cdrs").unwrap().columns[0].doc.clone();
        assert_eq!(cdrs.column_description(1), Some(call_id));
        assert_eq!(cdrs.column_description(0), None);
        let log = Relation {
            schema: SCHEMA.into(),
            name: "call_log".into(),
        };
        let query = log.view_definition().unwrap();
        assert!(
            query.starts_with("WITH") || query.starts_with("SELECT"),
            "{query}"
        );
        assert!(query.contains("FROM cdrs"));
        assert!(
            log.description()
                .unwrap()
                .starts_with("The call-tracking call log")
        );
    }
}
