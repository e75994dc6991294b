//! Where a store lives: a local directory (the default) or an object-store URL. Both are
//! addressed as URLs so every later step (Delta tables, the marker file) takes one code path.
//!
//! Object stores are those whose conditional writes the writer lock and Delta commits rely on
//! and that the object-store suite (tests/object_store/) runs every command against: S3 (and
//! S3-compatible servers) and Azure Blob Storage. Other schemes are refused here, before
//! anything is read or written.

use std::path::Path;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};

/// A parsed `--data` argument.
#[derive(Debug, Clone)]
pub struct Location {
    /// As the user wrote it, for messages.
    pub display: String,
    /// The store root, always ending in `/`.
    pub url: Url,
    /// How long a writer waits for the store's writer lock before giving up.
    pub lock_wait: Duration,
}

/// How long a writer waits for the writer lock unless told otherwise (`--lock-timeout`).
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(300);

/// URL schemes of the stores `--data` accepts: local files, S3 (`s3a` is Hadoop's name for
/// it) and Azure Blob Storage / ADLS Gen2 under each name deltalake registers for it.
const SUPPORTED_SCHEMES: &[&str] = &["file", "s3", "s3a", "az", "azure", "abfs", "abfss", "adl"];

/// Schemes refused with a reason of their own.
const REFUSED_SCHEMES: &[(&str, &str)] = &[(
    "gs",
    "gs:// (Google Cloud Storage) is not supported yet: the writer lock and Delta commits rely \
     on conditional writes (x-goog-if-generation-match) that cdrlake has not been tested \
     against on GCS; use s3:// or az://",
)];

impl Location {
    /// Parses a local path (relative paths resolve against the current directory) or a URL
    /// with a scheme (`s3://bucket/prefix`, `gs://…`, `az://…`, `file:///…`).
    pub fn parse(data: &str) -> Result<Location> {
        let bad = |m: String| Error::InvalidArgument(format!("--data {data}: {m}"));
        let looks_like_url = data.contains("://");
        let mut url = if looks_like_url {
            Url::parse(data).map_err(|e| bad(e.to_string()))?
        } else {
            let path = Path::new(data);
            let abs = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir()?.join(path)
            };
            Url::from_directory_path(&abs)
                .map_err(|()| bad("not a usable directory path".into()))?
        };
        check_scheme(data, url.scheme())?;
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(Location {
            display: data.to_string(),
            url,
            lock_wait: DEFAULT_LOCK_WAIT,
        })
    }

    /// The same location, with writers waiting up to `wait` for the writer lock (zero: try
    /// once).
    pub fn with_lock_wait(mut self, wait: Duration) -> Location {
        self.lock_wait = wait;
        self
    }

    /// The local directory, when the store is on the local file system.
    pub fn local_dir(&self) -> Option<std::path::PathBuf> {
        (self.url.scheme() == "file")
            .then(|| self.url.to_file_path().ok())
            .flatten()
    }

    /// URL of a table's directory.
    pub fn table_url(&self, table: &str) -> Result<Url> {
        self.url
            .join(&format!("{table}/"))
            .map_err(|e| Error::InvalidArgument(format!("table URL for {table}: {e}")))
    }
}

/// Refuses the schemes of stores cdrlake cannot use.
fn check_scheme(data: &str, scheme: &str) -> Result<()> {
    if SUPPORTED_SCHEMES.contains(&scheme) {
        return Ok(());
    }
    let reason = match REFUSED_SCHEMES.iter().find(|(s, _)| *s == scheme) {
        Some((_, reason)) => (*reason).to_string(),
        None => format!(
            "{scheme}:// is not a supported store; use a directory, s3://bucket/prefix or az://container/prefix"
        ),
    };
    Err(Error::UnsupportedStore {
        location: data.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_become_directory_urls() {
        let local = Location::parse("/tmp/store").unwrap();
        assert_eq!(local.url.as_str(), "file:///tmp/store/");
        assert_eq!(
            local.table_url("cdrs").unwrap().as_str(),
            "file:///tmp/store/cdrs/"
        );
        let s3 = Location::parse("s3://bucket/prefix").unwrap();
        assert_eq!(
            s3.table_url("cdrs").unwrap().as_str(),
            "s3://bucket/prefix/cdrs/"
        );
        assert!(s3.local_dir().is_none());
        let az = Location::parse("az://container/prefix").unwrap();
        assert_eq!(
            az.table_url("cdrs").unwrap().as_str(),
            "az://container/prefix/cdrs/"
        );
    }

    #[test]
    fn unsupported_stores_are_refused_before_anything_is_touched() {
        for (data, says) in [
            (
                "gs://bucket/prefix",
                "gs:// (Google Cloud Storage) is not supported yet",
            ),
            (
                "http://example.com/store",
                "http:// is not a supported store",
            ),
            ("memory:///", "memory:// is not a supported store"),
        ] {
            match Location::parse(data) {
                Err(Error::UnsupportedStore { location, reason }) => {
                    assert_eq!(location, data);
                    assert!(reason.contains(says), "{data}: {reason}");
                }
                other => panic!("{data}: expected UnsupportedStore, got {other:?}"),
            }
        }
    }
}
