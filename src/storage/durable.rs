//! Making a commit durable before it is acknowledged. The object store's local file system
//! writes and renames without `fsync`, which survives a process crash (the page cache
//! outlives the process) but not a power loss. For a local store we therefore flush, after
//! each commit and before reporting it: the data files it added, the commit file, and the
//! directories holding them.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::Store;
use crate::error::Result;

impl Store {
    /// Makes commit `version` of `table` durable when the store is a local directory (an
    /// object store's put is durable when it returns).
    pub(super) fn sync_commit(&self, table: &str, version: Option<u64>) -> Result<()> {
        if let (Some(dir), Some(v)) = (self.location().local_dir(), version) {
            sync_commit(&dir.join(table), v)?;
        }
        Ok(())
    }
}

/// Flushes commit `version` of the Delta table in `table_dir` and everything it added.
pub fn sync_commit(table_dir: &Path, version: u64) -> Result<()> {
    let log_dir = table_dir.join("_delta_log");
    let commit = log_dir.join(format!("{version:020}.json"));
    let mut dirs = BTreeSet::from([log_dir.clone(), table_dir.to_path_buf()]);
    for path in added_files(&commit)? {
        let file = table_dir.join(&path);
        File::open(&file)?.sync_all()?;
        if let Some(parent) = file.parent() {
            dirs.insert(parent.to_path_buf());
        }
    }
    File::open(&commit)?.sync_all()?;
    for dir in dirs {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Relative paths of the files a commit adds (`{"add": {"path": …}}` lines).
fn added_files(commit: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(commit)?;
    let mut paths = Vec::new();
    for line in text.lines() {
        let action: serde_json::Value =
            serde_json::from_str(line).map_err(std::io::Error::other)?;
        if let Some(path) = action.pointer("/add/path").and_then(|p| p.as_str()) {
            // Delta paths are URL-encoded relative paths (`call_date=2026-11-01/part-….parquet`).
            let decoded = percent_decode(path);
            paths.push(PathBuf::from(decoded));
        }
    }
    Ok(paths)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}
