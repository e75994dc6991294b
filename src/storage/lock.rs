//! One writer per store. Deduplication reads what is stored and then appends what is new; two
//! writers doing that at once could both append the same call. A local store takes an
//! exclusive OS file lock for the duration of a write session; it is released when the
//! process ends, however it ends (a SIGKILL included), so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions};

use super::Location;
use crate::error::{Error, Result};

/// Name of the lock file in a local store's root.
pub const LOCK_FILE: &str = ".writer.lock";

/// Held while writing; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    _file: Option<File>,
}

impl WriterLock {
    /// Takes the store's writer lock, failing at once if another process holds it.
    ///
    /// Object stores have no such lock here: a second concurrent writer there is the caller's
    /// to avoid (the server is the one writer).
    pub fn acquire(location: &Location) -> Result<WriterLock> {
        let Some(dir) = location.local_dir() else {
            return Ok(WriterLock { _file: None });
        };
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(WriterLock { _file: Some(file) }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
                location: location.display.clone(),
                lock: path.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}
