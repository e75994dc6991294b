//! Temporary tables, as PostgreSQL has them: `CREATE TEMP TABLE t AS SELECT …` (an analyst's
//! intermediate result) or `CREATE [LOCAL] TEMPORARY TABLE t (…)` then `INSERT INTO t …`
//! (Tableau's set filters), held in memory by the connection that made them, seen by no other,
//! found before the stored tables of the same name, and gone with the connection or at
//! `DISCARD ALL`/`DISCARD TEMP`. Every role may make them, as PostgreSQL grants `TEMP` to all;
//! what fills them is read through the user's tenant filter like any query. A `CREATE TEMP
//! TABLE` that would leave the connection's temporary tables holding more than the per-query
//! memory limit (`query_memory_mb`) is undone and refused (53200).
//!
//! The statement rewrite ([`rewrite`]) makes `CREATE TEMP TABLE t` a `CREATE TABLE pg_temp.t`
//! (`ON COMMIT PRESERVE ROWS` dropped: rows live as long as the table); each connection sees
//! the catalog through [`SessionCatalogs`], whose `pg_temp` schema is the connection's own and
//! whose `public` schema looks a name up in `pg_temp` first.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemTable, MemorySchemaProvider, SchemaProvider,
    TableProvider,
};
use datafusion::common::Result;
use datafusion::sql::sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Statement};

use crate::query::{DATABASE, SCHEMA};

/// The schema of a connection's temporary tables.
pub const TEMP_SCHEMA: &str = "pg_temp";

/// A connection's temporary tables.
#[derive(Debug, Clone, Default)]
pub struct TempTables {
    tables: Arc<MemorySchemaProvider>,
    /// The shared `public` schema, once [`SessionCatalogs`] is made.
    shared: Arc<OnceLock<Arc<dyn SchemaProvider>>>,
}

impl TempTables {
    /// Whether `name` is one of these tables: `pg_temp.t`, or `t` when there is a temporary
    /// `t`.
    pub fn holds(&self, name: &ObjectName) -> bool {
        match parts(name).as_slice() {
            [schema, table] if schema == TEMP_SCHEMA => self.tables.table_exist(table),
            [table] => self.tables.table_exist(table),
            _ => false,
        }
    }

    /// Whether `name` names no table of the connection at all, temporary or shared: a
    /// `DROP TABLE IF EXISTS` of it (before a `CREATE TEMP TABLE` in a script) does nothing.
    pub fn names_nothing(&self, name: &ObjectName) -> bool {
        let shared = |t: &str| self.shared.get().is_none_or(|s| s.table_exist(t));
        match parts(name).as_slice() {
            [schema, table] if schema == TEMP_SCHEMA => !self.tables.table_exist(table),
            [schema, table] if schema == SCHEMA => {
                !self.tables.table_exist(table) && !shared(table)
            }
            [table] => !self.tables.table_exist(table) && !shared(table),
            _ => false,
        }
    }

    /// The bytes their rows hold in memory.
    pub async fn bytes(&self) -> usize {
        let mut total = 0;
        for name in self.tables.table_names() {
            let Ok(Some(table)) = self.tables.table(&name).await else {
                continue;
            };
            let Some(memory) = table.downcast_ref::<MemTable>() else {
                continue;
            };
            for partition in &memory.batches {
                total += partition
                    .read()
                    .await
                    .iter()
                    .map(|b| b.get_array_memory_size())
                    .sum::<usize>();
            }
        }
        total
    }

    /// Drops the table `statement` created ([`creates`]).
    pub fn drop_created(&self, statement: &Statement) {
        if let Statement::CreateTable(create) = statement
            && let Some(name) = create.name.0.last().and_then(ObjectNamePart::as_ident)
        {
            let _ = self.tables.deregister_table(&name.value);
        }
    }

    /// Drops them all (`DISCARD ALL`, `DISCARD TEMP`).
    pub fn clear(&self) {
        for name in self.tables.table_names() {
            let _ = self.tables.deregister_table(&name);
        }
    }
}

/// The parts of `name` as the catalog spells them (unquoted ones in lower case).
fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(ObjectNamePart::as_ident)
        .map(|i| match i.quote_style {
            Some(_) => i.value.clone(),
            None => i.value.to_lowercase(),
        })
        .collect()
}

/// `CREATE TEMP TABLE t …` as `CREATE TABLE pg_temp.t …`; true when `statement` was one.
pub fn rewrite(statement: &mut Statement) -> bool {
    let Statement::CreateTable(create) = statement else {
        return false;
    };
    if !create.temporary {
        return false;
    }
    create.temporary = false;
    create.global = None;
    create.on_commit = None;
    if let Some(table) = create.name.0.last().cloned() {
        create.name = ObjectName(vec![
            ObjectNamePart::Identifier(Ident::new(TEMP_SCHEMA)),
            table,
        ]);
    }
    true
}

/// Whether `statement` creates a temporary table (after [`rewrite`]).
pub fn creates(statement: &Statement) -> bool {
    matches!(statement, Statement::CreateTable(c)
        if c.name.0.len() == 2
            && c.name.0.first().and_then(ObjectNamePart::as_ident).is_some_and(|i| i.value == TEMP_SCHEMA))
}

/// A connection's view of the shared catalogs: catalog [`DATABASE`] with its temporary tables.
#[derive(Debug)]
pub struct SessionCatalogs {
    shared: Arc<dyn CatalogProviderList>,
    database: Arc<dyn CatalogProvider>,
}

impl SessionCatalogs {
    /// The shared catalogs `shared`, with `temp` as this connection's temporary tables.
    pub fn new(shared: Arc<dyn CatalogProviderList>, temp: &TempTables) -> Option<Self> {
        let database = shared.catalog(DATABASE)?;
        if let Some(public) = database.schema(SCHEMA) {
            let _ = temp.shared.set(public);
        }
        Some(Self {
            shared,
            database: Arc::new(TempCatalog {
                shared: database,
                temp: temp.tables.clone(),
            }),
        })
    }
}

impl CatalogProviderList for SessionCatalogs {
    fn register_catalog(
        &self,
        name: String,
        catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        self.shared.register_catalog(name, catalog)
    }

    fn catalog_names(&self) -> Vec<String> {
        self.shared.catalog_names()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        if name == DATABASE {
            return Some(self.database.clone());
        }
        self.shared.catalog(name)
    }
}

/// Catalog [`DATABASE`] with a connection's `pg_temp` schema.
#[derive(Debug)]
struct TempCatalog {
    shared: Arc<dyn CatalogProvider>,
    temp: Arc<MemorySchemaProvider>,
}

impl CatalogProvider for TempCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.shared.schema_names();
        names.push(TEMP_SCHEMA.to_owned());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        match name {
            TEMP_SCHEMA => Some(self.temp.clone()),
            SCHEMA => Some(Arc::new(TempFirst {
                temp: self.temp.clone(),
                shared: self.shared.schema(name)?,
            })),
            _ => self.shared.schema(name),
        }
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.shared.register_schema(name, schema)
    }
}

/// The `public` schema with the connection's temporary tables looked up first.
#[derive(Debug)]
struct TempFirst {
    temp: Arc<MemorySchemaProvider>,
    shared: Arc<dyn SchemaProvider>,
}

#[async_trait]
impl SchemaProvider for TempFirst {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.shared.table_names();
        names.extend(self.temp.table_names());
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        match self.temp.table(name).await? {
            Some(table) => Ok(Some(table)),
            None => self.shared.table(name).await,
        }
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        self.shared.register_table(name, table)
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.temp.table_exist(name) {
            return self.temp.deregister_table(name);
        }
        self.shared.deregister_table(name)
    }

    fn table_exist(&self, name: &str) -> bool {
        self.temp.table_exist(name) || self.shared.table_exist(name)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    use super::*;

    fn rewritten(sql: &str) -> (bool, String) {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        let statement = &mut statements[0];
        (rewrite(statement), statement.to_string())
    }

    #[test]
    fn temporary_tables_go_to_pg_temp() {
        let (changed, sql) = rewritten(
            "CREATE LOCAL TEMPORARY TABLE \"#Tableau_1\" (\"X\" TEXT) ON COMMIT PRESERVE ROWS",
        );
        assert!(changed);
        assert_eq!(sql, "CREATE TABLE pg_temp.\"#Tableau_1\" (\"X\" TEXT)");
        let (changed, sql) = rewritten("CREATE TEMP TABLE t AS SELECT 1 AS a");
        assert!(changed);
        assert_eq!(sql, "CREATE TABLE pg_temp.t AS SELECT 1 AS a");
        assert!(!rewritten("CREATE TABLE t (a INT)").0);
    }
}
