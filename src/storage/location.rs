//! Where a store lives: a local directory (the default) or an object-store URL. Both are
//! addressed as URLs so every later step (Delta tables, the marker file) takes one code path.

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
    }
}
