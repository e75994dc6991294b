//! Which commit of a table was current at an instant, for `SET cdrlake.as_of`.
//!
//! The Delta library finds it by the modification times of the log's commit files. Those
//! are the times the files were last written, not the times of the commits: a store copied
//! to another disk or uploaded to an object store (`aws s3 sync`, a restore from backup)
//! gets new ones, and every earlier instant would then read an empty table. The commit's
//! own time, `commitInfo.timestamp` in its commit file (also what `cdrlake history` shows),
//! survives any copy; the file's modification time is used only for a commit that lacks it.
//! Commit times never change once written, so [`CommitTimes`] keeps those it has read.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use deltalake::DeltaTable;
use deltalake::logstore::commit_uri_from_version;
use object_store::ObjectStoreExt;

use crate::error::{Error, Result};

/// The commit times of one table read so far, by version (milliseconds since the epoch).
#[derive(Debug, Default)]
pub struct CommitTimes {
    known: Mutex<HashMap<u64, i64>>,
}

impl CommitTimes {
    /// The newest version of `table` (named `name`) committed at or before `at`. Commits
    /// made after `table` was loaded count too. Before the table's first commit this is
    /// version 0, the table's creation, which holds no rows; an instant older than the
    /// retained history (log entries cleaned up) is an error.
    pub async fn version_at(
        &self,
        table: &DeltaTable,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let loaded = table.version().unwrap_or(0);
        let latest = table
            .log_store()
            .get_latest_version(loaded)
            .await
            .map_err(Error::delta(name))?;
        let at = at.timestamp_millis();
        // Versions whose log entry was cleaned up form a prefix of the log, so "cleaned up or
        // committed by `at`" holds for a prefix of the versions: find its last one.
        let (mut lo, mut hi) = (0, latest + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.time(table, name, mid).await? {
                Some(t) if t > at => hi = mid,
                _ => lo = mid + 1,
            }
        }
        let Some(version) = lo.checked_sub(1) else {
            return Ok(0);
        };
        if self.time(table, name, version).await?.is_some() {
            return Ok(version);
        }
        // `version` is cleaned up and the next one, if any, is the oldest retained.
        let oldest = if version < latest {
            self.time(table, name, version + 1).await?
        } else {
            None
        };
        Err(Error::HistoryNotRetained {
            table: name.to_string(),
            at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
            oldest: oldest.and_then(DateTime::from_timestamp_millis),
        })
    }

    /// The time of commit `version`, `None` when its log entry no longer exists.
    async fn time(&self, table: &DeltaTable, name: &str, version: u64) -> Result<Option<i64>> {
        if let Some(t) = self.lock().get(&version) {
            return Ok(Some(*t));
        }
        let path = commit_uri_from_version(Some(version));
        let store = table.object_store();
        let got = match store.get(&path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let modified = got.meta.last_modified.timestamp_millis();
        let bytes = got.bytes().await?;
        let time = commit_timestamp(&bytes).unwrap_or_else(|| {
            tracing::debug!(table = name, version, "commit without commitInfo.timestamp");
            modified
        });
        self.lock().insert(version, time);
        Ok(Some(time))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, i64>> {
        // A poisoned map holds only complete entries: keep using it.
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `commitInfo.timestamp` of a commit file, when it has one.
fn commit_timestamp(bytes: &[u8]) -> Option<i64> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|action| action.get("commitInfo")?.get("timestamp")?.as_i64())
}

#[cfg(test)]
mod tests {
    use super::commit_timestamp;

    #[test]
    fn reads_the_commit_info_timestamp() {
        let text = br#"{"add":{"path":"a.parquet"}}
{"commitInfo":{"timestamp":1767225600000,"operation":"WRITE"}}"#;
        assert_eq!(commit_timestamp(text), Some(1_767_225_600_000));
        assert_eq!(commit_timestamp(br#"{"add":{"path":"a.parquet"}}"#), None);
        assert_eq!(commit_timestamp(b"not json"), None);
    }
}
