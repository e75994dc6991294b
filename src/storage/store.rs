//! Opening and creating a store: the marker file, and one Delta table per table definition.

use std::collections::HashSet;
use std::sync::Arc;

use deltalake::kernel::{MetadataValue, StructField};
use deltalake::{DeltaTable, DeltaTableBuilder};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};
use serde::{Deserialize, Serialize};
use url::Url;

use super::{Location, WriterLock};
use crate::error::{Error, Result};
use crate::schema::{self, ColumnType, TableDef};

/// The marker file that makes a directory a cdrlake store.
pub const MARKER: &str = "cdrlake.json";

/// Layout version written in the marker.
const LAYOUT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    cdrlake_store: u32,
    tables: Vec<String>,
}

/// An open store.
#[derive(Debug, Clone)]
pub struct Store {
    location: Location,
    root: Arc<dyn ObjectStore>,
    root_path: ObjectPath,
}

impl Store {
    /// Opens an existing store; a location without one is an error.
    pub async fn open(location: Location) -> Result<Store> {
        if location.local_dir().is_some_and(|d| !d.exists()) {
            return Err(Error::NoStore {
                location: location.display,
            });
        }
        let store = Store::connect(location)?;
        match store.read_marker().await? {
            Some(_) => Ok(store),
            None if store.is_empty().await? => Err(Error::NoStore {
                location: store.location.display.clone(),
            }),
            None => Err(store.not_a_store()),
        }
    }

    /// Opens the store for writing, creating it (and its tables) in an empty or missing
    /// location, and takes the writer lock (waiting up to the location's `lock_wait` for
    /// another writer to finish). A non-empty location that is not a store is refused and
    /// left untouched.
    pub async fn open_for_writing(location: Location) -> Result<(Store, WriterLock)> {
        if let Some(dir) = location.local_dir().filter(|d| !d.exists()) {
            std::fs::create_dir_all(dir)?;
        }
        let store = Store::connect(location)?;
        let exists = store.read_marker().await?.is_some();
        if !exists && !store.holds_only_our_tables().await? {
            return Err(store.not_a_store());
        }
        let lock = WriterLock::acquire(&store).await?;
        if !exists {
            store.create().await?;
        }
        Ok((store, lock))
    }

    async fn create(&self) -> Result<()> {
        let store = self;
        // Tables first, marker last: a crash in between leaves a location holding only our
        // tables, which the next open finishes creating.
        for def in schema::tables()? {
            store.create_table(def).await?;
        }
        let marker = Marker {
            cdrlake_store: LAYOUT_VERSION,
            tables: schema::tables()?.iter().map(|t| t.name.clone()).collect(),
        };
        let body = serde_json::to_vec_pretty(&marker).map_err(std::io::Error::other)?;
        store
            .root
            .put(&store.path(MARKER), PutPayload::from(body))
            .await?;
        tracing::info!(location = %store.location.display, "created store");
        Ok(())
    }

    fn connect(location: Location) -> Result<Store> {
        register_object_stores();
        if let Some(dir) = location.local_dir()
            && dir.exists()
            && !dir.is_dir()
        {
            return Err(Error::NotAStore {
                location: location.display.clone(),
                reason: "it is a file, not a directory".into(),
            });
        }
        let (root, root_path) = object_store::parse_url_opts(&location.url, std::env::vars())?;
        Ok(Store {
            location,
            root: Arc::from(root),
            root_path,
        })
    }

    /// Where the store is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    fn path(&self, name: &str) -> ObjectPath {
        self.root_path.clone().join(name)
    }

    /// The object store holding the store (a local directory is one too).
    pub(super) fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.root.clone()
    }

    /// Path of `name` in the store's root, in the object store.
    pub(super) fn object_path(&self, name: &str) -> ObjectPath {
        self.path(name)
    }

    fn not_a_store(&self) -> Error {
        Error::NotAStore {
            location: self.location.display.clone(),
            reason: format!("it is not empty and has no {MARKER}"),
        }
    }

    async fn read_marker(&self) -> Result<Option<Marker>> {
        match self.root.get(&self.path(MARKER)).await {
            Ok(got) => {
                let bytes = got.bytes().await?;
                let marker: Marker =
                    serde_json::from_slice(&bytes).map_err(|e| Error::NotAStore {
                        location: self.location.display.clone(),
                        reason: format!("{MARKER} is unreadable: {e}"),
                    })?;
                if marker.cdrlake_store != LAYOUT_VERSION {
                    return Err(Error::NotAStore {
                        location: self.location.display.clone(),
                        reason: format!("store layout {} is not supported", marker.cdrlake_store),
                    });
                }
                Ok(Some(marker))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn top_level_names(&self) -> Result<Vec<String>> {
        let listing = self.root.list_with_delimiter(Some(&self.root_path)).await?;
        let names = listing
            .common_prefixes
            .iter()
            .chain(listing.objects.iter().map(|o| &o.location))
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        Ok(names)
    }

    async fn is_empty(&self) -> Result<bool> {
        Ok(self.top_level_names().await?.is_empty())
    }

    async fn holds_only_our_tables(&self) -> Result<bool> {
        let tables = schema::tables()?;
        Ok(self.top_level_names().await?.iter().all(|n| {
            // A marker upload cut short leaves a temporary file named after it.
            n == super::lock::LOCK_FILE
                || n == super::MATERIALIZED_DIR
                || n.starts_with(MARKER)
                || tables.iter().any(|t| &t.name == n)
        }))
    }

    /// The latest snapshot of a table.
    pub async fn table(&self, name: &str) -> Result<DeltaTable> {
        let url = self.location.table_url(name)?;
        let mut table = DeltaTableBuilder::from_url(url)
            .map_err(Error::delta(name))?
            .build()
            .map_err(Error::delta(name))?;
        table.load().await.map_err(Error::delta(name))?;
        Ok(table)
    }

    async fn create_table(&self, def: &TableDef) -> Result<()> {
        let url = self.location.table_url(&def.name)?;
        let table = open_or_new(url, &def.name).await?;
        if table.version().is_some() {
            return Ok(());
        }
        let mut create = table
            .create()
            .with_table_name(&def.name)
            .with_comment(&def.doc)
            .with_partition_columns(def.partition_by.clone());
        for c in &def.columns {
            let field = StructField::new(&c.name, delta_type(c.ty)?, c.nullable)
                .with_metadata([("comment", MetadataValue::String(c.doc.clone()))]);
            create = create.with_columns([field]);
        }
        create.await.map_err(Error::delta(&def.name))?;
        Ok(())
    }
}

/// The Delta table `name` at `url`, loaded when it has a log, else to be created (no
/// version; a local table's directory is made). As `DeltaTable::try_from_url`, without loading
/// a location that holds no table yet (which logs an error of the kernel's).
pub(super) async fn open_or_new(url: Url, name: &str) -> Result<DeltaTable> {
    if let Ok(dir) = url.to_file_path() {
        std::fs::create_dir_all(&dir).map_err(|source| Error::WriteFile { path: dir, source })?;
    }
    let open = async {
        let mut table = DeltaTableBuilder::from_url(url)?.build()?;
        if table.log_store().is_delta_table_location().await? {
            table.load().await?;
        }
        Ok(table)
    };
    open.await.map_err(Error::delta(name))
}

/// The paths of the data files of `table`'s loaded version.
pub fn file_paths(table: &DeltaTable) -> deltalake::DeltaResult<HashSet<String>> {
    Ok(table
        .snapshot()?
        .log_data()
        .iter()
        .map(|f| f.path().into_owned())
        .collect())
}

/// The rows of `table`'s loaded version, from its log (each file's record count); 0 before
/// its first commit.
pub fn row_count(table: &DeltaTable) -> u64 {
    table.snapshot().map_or(0, |s| {
        s.log_data()
            .iter()
            .map(|f| f.num_records().unwrap_or(0) as u64)
            .sum()
    })
}

/// Teaches deltalake the object-store URL schemes cdrlake supports: `s3://` (and `s3a://`)
/// and `az://` (and `abfs[s]://`, `adl://`, `azure://`). Each is configured by its usual
/// environment variables (`AWS_*`, `AZURE_*`), read by deltalake for the tables and by
/// object_store for the store's root.
fn register_object_stores() {
    deltalake::aws::register_handlers(None);
    deltalake::azure::register_handlers(None);
}

fn delta_type(ty: ColumnType) -> Result<deltalake::kernel::DataType> {
    use deltalake::kernel::DataType as D;
    Ok(match ty {
        ColumnType::Text => D::STRING,
        ColumnType::Int => D::INTEGER,
        ColumnType::Bigint => D::LONG,
        ColumnType::Decimal => D::decimal(schema::DECIMAL_PRECISION, schema::DECIMAL_SCALE as u8)
            .map_err(|e| Error::schema_file("schemas/tables", e.to_string()))?,
        ColumnType::Timestamptz => D::TIMESTAMP,
        ColumnType::Date => D::DATE,
        ColumnType::Boolean => D::BOOLEAN,
    })
}
