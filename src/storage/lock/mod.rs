//! One writer per store. Deduplication reads what is stored and then appends what is new; two
//! writers doing that at once could both append the same call, so every write session (an
//! ingest, COPY, compaction, retention, a SQL write) holds the store's writer lock.
//!
//! - A local store takes an exclusive OS file lock ([`file`](mod@file)); the OS releases it
//!   when the process ends, however it ends (a SIGKILL included), so a crash never leaves it
//!   held.
//! - An object store has no such lock; there the lock is an object that a writer creates
//!   with a conditional put and keeps renewing ([`lease`]). A writer that crashed stops
//!   renewing it, and the next writer takes it over once it has seen it unchanged for a lease.
//!
//! A writer that finds the lock held waits for it, up to the location's
//! [`lock_wait`](super::Location::lock_wait), saying who holds it; then gives up with
//! [`Error::Locked`]. Appends do not rely on the lock alone: each commit also declares the
//! table version it deduplicated against (see `append`), so even two writers that both
//! believed they held the lock could not store a call twice.

mod file;
mod lease;

use std::time::{Duration, Instant};

use super::Store;
use crate::error::{Error, Result};

/// Name of the lock file (local store) or lock object (object store) in the store's root.
pub const LOCK_FILE: &str = ".writer.lock";

/// How often a waiting writer tries again.
const POLL: Duration = Duration::from_millis(200);

/// Held while writing; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    _held: Held,
}

#[derive(Debug)]
#[expect(
    dead_code,
    reason = "held for what dropping it does: releasing the lock"
)]
enum Held {
    File(file::FileLock),
    Lease(lease::Lease),
}

/// One attempt to take the lock.
enum Attempt {
    Taken(Held),
    /// Someone else holds it; who, as they described themselves.
    Busy {
        holder: String,
    },
}

impl WriterLock {
    /// Takes the store's writer lock, waiting up to the location's `lock_wait` while another
    /// writer holds it.
    pub async fn acquire(store: &Store) -> Result<WriterLock> {
        let location = store.location();
        let started = Instant::now();
        let mut observer = lease::Observer::default();
        let mut announced: Option<String> = None;
        loop {
            let attempt = match location.local_dir() {
                Some(dir) => file::try_take(&dir)?,
                None => lease::try_take(store, &mut observer).await?,
            };
            let holder = match attempt {
                Attempt::Taken(held) => {
                    if announced.is_some() {
                        tracing::warn!(
                            location = %location.display,
                            waited_s = started.elapsed().as_secs(),
                            "took the writer lock"
                        );
                    }
                    return Ok(WriterLock { _held: held });
                }
                Attempt::Busy { holder } => holder,
            };
            if started.elapsed() >= location.lock_wait {
                return Err(Error::Locked {
                    location: location.display.clone(),
                    lock: lock_name(store),
                    holder,
                    waited_s: started.elapsed().as_secs(),
                });
            }
            if announced.as_ref() != Some(&holder) {
                tracing::warn!(
                    location = %location.display,
                    timeout_s = location.lock_wait.as_secs(),
                    "waiting for the writer lock held by {holder}"
                );
                announced = Some(holder);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Where the lock lives, for messages.
fn lock_name(store: &Store) -> String {
    match store.location().local_dir() {
        Some(dir) => dir.join(LOCK_FILE).display().to_string(),
        None => format!("{}{LOCK_FILE}", store.location().url),
    }
}

/// How this process describes itself to writers waiting for its lock.
fn holder_description() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "an unknown host".into());
    let command: String = std::env::args()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(160)
        .collect();
    format!(
        "{command} (pid {} on {host}) since {}",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    )
}
