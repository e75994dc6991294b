//! In-process stores: ingest and query through the library instead of the `cdrlake` binary.
//!
//! The binary's path (`CARGO_BIN_EXE_cdrlake`) is one file per target directory; when several
//! checkouts share a target directory, a test can run another checkout's binary. Tests of
//! the SQL surface (views, functions) use this module so that they always run the code
//! under test.

use std::path::Path;
use std::sync::Arc;

use arrow::util::display::array_value_to_string;
use cdrlake::ingest::{self, Formats, IngestOptions};
use cdrlake::query;
use cdrlake::storage::{Location, Store};
use cdrlake_udfs::Settings;

/// A store in a temporary directory.
pub struct Lake {
    pub dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Lake {
    pub fn new() -> Lake {
        Lake {
            dir: tempfile::tempdir().expect("temp dir"),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    fn location(&self) -> Location {
        let store = self.dir.path().join("store");
        Location::parse(store.to_str().expect("utf-8 path")).expect("location")
    }

    /// Ingests `text` as a file named `name` in `format`; returns (stored, duplicates, rejected).
    pub fn ingest(&self, name: &str, format: &str, text: &str) -> (u64, u64, u64) {
        let opts = IngestOptions {
            format: Some(format.to_string()),
            ..IngestOptions::default()
        };
        self.ingest_with(name, opts, text)
    }

    /// Ingests `text` as a file named `name` with `opts` (format, tenant of rows without one);
    /// returns (stored, duplicates, rejected).
    // `open` returns the library's `Result`, whose error type is the library's to size.
    #[allow(clippy::result_large_err)]
    pub fn ingest_with(&self, name: &str, opts: IngestOptions, text: &str) -> (u64, u64, u64) {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write input");
        self.runtime.block_on(async {
            let formats = Formats::load(None::<&Path>).expect("formats");
            let (store, _lock) = Store::open_for_writing(self.location())
                .await
                .expect("store");
            let report = ingest::ingest(
                &store,
                &formats,
                name,
                move || ingest::open_input(&path),
                &opts,
                |_| {},
            )
            .await
            .expect("ingest");
            (report.stored, report.duplicates, report.rejected)
        })
    }

    /// Runs `future` on the lake's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// A SQL session over the store, as `cdrlake query` builds it, with default settings.
    pub fn session(&self) -> datafusion::prelude::SessionContext {
        self.session_with(Arc::default())
    }

    /// A SQL session over the store with the tenants' `settings`.
    pub fn session_with(&self, settings: Arc<Settings>) -> datafusion::prelude::SessionContext {
        self.runtime.block_on(async {
            let store = Store::open(self.location()).await.expect("store");
            query::session(&store, settings).await.expect("session")
        })
    }

    /// Runs `sql`; every value as text (NULL as the empty string), or the error message.
    pub fn try_rows(&self, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let ctx = self.session();
        self.runtime.block_on(async {
            let batches = query::collect(&ctx, sql).await.map_err(|e| e.to_string())?;
            let mut rows = Vec::new();
            for batch in &batches {
                for row in 0..batch.num_rows() {
                    let cells = batch
                        .columns()
                        .iter()
                        .map(|c| array_value_to_string(c, row));
                    rows.push(cells.collect::<Result<_, _>>().map_err(|e| e.to_string())?);
                }
            }
            Ok(rows)
        })
    }

    /// Runs `sql`, insisting it succeeds.
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        self.try_rows(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The single value `sql` returns.
    pub fn value(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        assert_eq!(rows.len(), 1, "{sql} returned {rows:?}");
        rows[0][0].clone()
    }
}
