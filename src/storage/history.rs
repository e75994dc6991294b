//! A table's commits as its Delta log records them: version, time, operation, files and
//! rows added and removed. The log is read directly, one commit file per version, because
//! the Delta library's history does not say which version each entry belongs to.

use chrono::{DateTime, Utc};
use deltalake::logstore::commit_uri_from_version;
use object_store::ObjectStoreExt;

use super::{OPERATION_KEY, Store};
use crate::error::{Error, Result};

/// One commit of a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    /// Table version the commit created.
    pub version: u64,
    /// When it was committed.
    pub time: Option<DateTime<Utc>>,
    /// Delta operation (`WRITE`, `DELETE`, `MERGE`, …), or cdrlake's when it names one
    /// (`COMPACT`).
    pub operation: String,
    /// Data files added.
    pub files_added: u64,
    /// Data files removed.
    pub files_removed: u64,
    /// Rows in the files added.
    pub rows_added: u64,
    /// Rows deleted, when the operation reports it (a compaction deletes none).
    pub rows_deleted: Option<u64>,
}

impl Store {
    /// The commits of `table` still in its log, oldest first.
    pub async fn history(&self, table: &str) -> Result<Vec<Commit>> {
        let delta = self.table(table).await?;
        let Some(latest) = delta.version() else {
            return Ok(Vec::new());
        };
        let store = delta.object_store();
        let mut commits = Vec::new();
        for version in 0..=latest {
            let path = commit_uri_from_version(Some(version));
            let bytes = match store.get(&path).await {
                Ok(got) => got.bytes().await?,
                // Log entries older than the log's retention may have been cleaned up.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let text = String::from_utf8_lossy(&bytes);
            commits.push(parse_commit(version, &text).map_err(|e| Error::Delta {
                table: table.to_string(),
                source: deltalake::DeltaTableError::Generic(format!(
                    "commit {version} is unreadable: {e}"
                )),
            })?);
        }
        Ok(commits)
    }
}

/// Summarises the actions of one commit file.
fn parse_commit(version: u64, text: &str) -> std::result::Result<Commit, serde_json::Error> {
    let mut commit = Commit {
        version,
        ..Default::default()
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let action: serde_json::Value = serde_json::from_str(line)?;
        if let Some(add) = action.get("add") {
            commit.files_added += 1;
            commit.rows_added += add
                .get("stats")
                .and_then(|s| s.as_str())
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                .and_then(|s| s.get("numRecords").and_then(|n| n.as_u64()))
                .unwrap_or(0);
        } else if action.get("remove").is_some() {
            commit.files_removed += 1;
        } else if let Some(info) = action.get("commitInfo") {
            commit.time = info
                .get("timestamp")
                .and_then(|t| t.as_i64())
                .and_then(DateTime::from_timestamp_millis);
            let ours = info.get(OPERATION_KEY).and_then(|o| o.as_str());
            let delta = info.get("operation").and_then(|o| o.as_str());
            commit.operation = ours.or(delta).unwrap_or("?").to_uppercase();
            let metrics = info.get("operationMetrics");
            commit.rows_deleted = ["num_deleted_rows", "num_target_rows_deleted"]
                .iter()
                .find_map(|k| metrics.and_then(|m| m.get(*k)).and_then(metric));
        }
    }
    Ok(commit)
}

/// A metric value, written as a number or a string of digits.
fn metric(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_adds_removes_and_metrics() {
        let text = r#"{"commitInfo":{"timestamp":1767225600000,"operation":"DELETE","operationMetrics":{"num_deleted_rows":7}}}
{"add":{"path":"a.parquet","stats":"{\"numRecords\":3}"}}
{"remove":{"path":"b.parquet"}}
{"remove":{"path":"c.parquet"}}"#;
        let c = parse_commit(4, text).unwrap();
        assert_eq!(c.version, 4);
        assert_eq!(c.operation, "DELETE");
        assert_eq!((c.files_added, c.files_removed, c.rows_added), (1, 2, 3));
        assert_eq!(c.rows_deleted, Some(7));
        assert_eq!(c.time.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
    }
}
