//! The writer lock of a local store: an exclusive OS lock on a file in the store's root,
//! released by the OS when the process ends. The holder writes its description into the file
//! so that a waiting writer can say whom it waits for.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use super::{Attempt, Held, LOCK_FILE};
use crate::error::Result;

/// A held file lock; dropping the file releases it.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// Tries once to lock `dir`'s lock file.
pub(super) fn try_take(dir: &Path) -> Result<Attempt> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            file.write_all(super::holder_description().as_bytes())?;
            file.flush()?;
            Ok(Attempt::Taken(Held::File(FileLock { _file: file })))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // The holder may be writing its description right now: an empty read is fine.
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "another process".to_string(),
                h => h.to_string(),
            };
            Ok(Attempt::Busy { holder })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}
