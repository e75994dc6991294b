//! The writer lock of an object store: a lock object that a writer creates with a conditional
//! put (`If-None-Match: *` on S3 and Azure, `x-goog-if-generation-match: 0` on GCS, so only
//! one of several racing writers succeeds) and then renews every few seconds with conditional
//! updates on the version it last wrote (`If-Match` on the ETag on S3 and Azure, the
//! generation on GCS: object_store's [`UpdateVersion`] carries both, and each store uses the
//! one it understands).
//!
//! A writer that finds the object keeps watching its version. When it has not changed for a
//! whole lease, its holder stopped renewing (crashed, killed, cut off), and the waiter takes
//! the lock over with a conditional update on that version, which again only one waiter wins.
//! Staleness is judged by the waiter's own monotonic clock, so clocks that differ between
//! machines do not matter. Releasing rewrites the object as `released` (conditionally too),
//! rather than deleting it: a holder that lost its lease can never remove its successor's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify};

use super::{Attempt, Held, LOCK_FILE};
use crate::error::{Error, Result};
use crate::storage::Store;

/// How long a lock object may go unrenewed before a waiter takes it over.
const LEASE: Duration = Duration::from_secs(15);
/// How often the holder renews it: several renewals fit in a lease, so a slow request or two
/// never lets it lapse.
const RENEW: Duration = Duration::from_secs(3);

/// The lock object's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Body {
    /// Who holds it.
    holder: String,
    /// Seconds without renewal after which it may be taken over.
    lease_s: u64,
    /// Renewals so far (each changes the content, hence the ETag).
    renewals: u64,
    /// Set when the holder let it go.
    released: bool,
}

impl Body {
    fn payload(&self) -> Result<PutPayload> {
        Ok(PutPayload::from(
            serde_json::to_vec(self).map_err(std::io::Error::other)?,
        ))
    }
}

/// What a waiting writer has seen of the lock object: its version, and since when.
#[derive(Debug, Default)]
pub(super) struct Observer {
    seen: Option<(UpdateVersion, Instant)>,
}

impl Observer {
    /// Records `version`; true when it has been the same for longer than `lease`.
    fn unchanged_for(&mut self, version: &UpdateVersion, lease: Duration) -> bool {
        match &self.seen {
            Some((seen, since)) if seen == version => since.elapsed() > lease,
            _ => {
                self.seen = Some((version.clone(), Instant::now()));
                false
            }
        }
    }
}

/// The version a conditional update of an object just written or read must match.
fn version_of(e_tag: Option<String>, version: Option<String>) -> UpdateVersion {
    UpdateVersion { e_tag, version }
}

/// A held lease: renewed in the background until dropped, then released.
#[derive(Debug)]
pub struct Lease {
    root: Arc<dyn ObjectStore>,
    path: ObjectPath,
    stop: Arc<Notify>,
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    body: Body,
    /// The version last written, which the next renewal must still find.
    version: UpdateVersion,
    /// Another writer took the lock over: nothing left to renew or release.
    lost: bool,
}

/// Tries once to take the lock object of `store`.
pub(super) async fn try_take(store: &Store, observer: &mut Observer) -> Result<Attempt> {
    let root = store.object_store();
    let path = store.object_path(LOCK_FILE);
    let fail = |message: String| Error::LockObject {
        location: store.location().display.clone(),
        lock: path.to_string(),
        message,
    };
    let body = Body {
        holder: super::holder_description(),
        lease_s: LEASE.as_secs(),
        renewals: 0,
        released: false,
    };
    match root
        .put_opts(&path, body.payload()?, PutMode::Create.into())
        .await
    {
        Ok(put) => {
            let version = version_of(put.e_tag, put.version);
            return Ok(Attempt::Taken(Lease::start(root, path, body, version)));
        }
        Err(object_store::Error::AlreadyExists { .. }) => {}
        Err(e) => return Err(fail(format!("cannot create it: {e}"))),
    }
    let got = match root.get(&path).await {
        Ok(got) => got,
        // Released objects are rewritten, never deleted; one that vanished was removed by
        // hand. Try again at the next poll.
        Err(object_store::Error::NotFound { .. }) => {
            return Ok(Attempt::Busy {
                holder: "nobody (the lock object was just removed)".into(),
            });
        }
        Err(e) => return Err(fail(format!("cannot read it: {e}"))),
    };
    let version = version_of(got.meta.e_tag.clone(), got.meta.version.clone());
    if version.e_tag.is_none() && version.version.is_none() {
        return Err(fail(
            "the object store returns neither an ETag nor a version for it, so it cannot be updated conditionally"
                .into(),
        ));
    }
    let bytes = got
        .bytes()
        .await
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    let current: Body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Body {
        holder: "an unreadable lock object".into(),
        lease_s: LEASE.as_secs(),
        renewals: 0,
        released: false,
    });
    let lease = Duration::from_secs(current.lease_s.max(1));
    let expired = observer.unchanged_for(&version, lease);
    if !current.released && !expired {
        return Ok(Attempt::Busy {
            holder: current.holder,
        });
    }
    let mode = PutMode::Update(version);
    match root.put_opts(&path, body.payload()?, mode.into()).await {
        Ok(put) => {
            if !current.released {
                tracing::warn!(
                    lock = %path,
                    "took over the writer lock of {}: not renewed for {} s, its writer is gone",
                    current.holder,
                    lease.as_secs()
                );
            }
            let version = version_of(put.e_tag, put.version);
            Ok(Attempt::Taken(Lease::start(root, path, body, version)))
        }
        // Another waiter was faster.
        Err(
            object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. },
        ) => Ok(Attempt::Busy {
            holder: current.holder,
        }),
        Err(e) => Err(fail(format!("cannot take it over: {e}"))),
    }
}

impl Lease {
    fn start(
        root: Arc<dyn ObjectStore>,
        path: ObjectPath,
        body: Body,
        version: UpdateVersion,
    ) -> Held {
        let lease = Lease {
            root,
            path,
            stop: Arc::new(Notify::new()),
            state: Arc::new(Mutex::new(State {
                body,
                version,
                lost: false,
            })),
        };
        tokio::spawn(renew(
            lease.root.clone(),
            lease.path.clone(),
            lease.stop.clone(),
            lease.state.clone(),
        ));
        Held::Lease(lease)
    }
}

/// Renews the lease every [`RENEW`] until told to stop or the lock is lost.
async fn renew(
    root: Arc<dyn ObjectStore>,
    path: ObjectPath,
    stop: Arc<Notify>,
    state: Arc<Mutex<State>>,
) {
    loop {
        tokio::select! {
            () = stop.notified() => return,
            () = tokio::time::sleep(RENEW) => {}
        }
        let mut state = state.lock().await;
        state.body.renewals += 1;
        let result = match state.body.payload() {
            Ok(payload) => {
                let mode = PutMode::Update(state.version.clone());
                root.put_opts(&path, payload, mode.into()).await
            }
            Err(e) => {
                tracing::error!(lock = %path, "cannot renew the writer lock: {e}");
                continue;
            }
        };
        match result {
            Ok(put) => state.version = version_of(put.e_tag, put.version),
            Err(object_store::Error::Precondition { .. }) => {
                tracing::error!(
                    lock = %path,
                    "lost the writer lock: another writer took it over after this process failed to renew it for {} s",
                    LEASE.as_secs()
                );
                state.lost = true;
                return;
            }
            // Transient: the next renewal tries again, well within the lease.
            Err(e) => tracing::warn!(lock = %path, "could not renew the writer lock: {e}"),
        }
    }
}

/// Marks the lock object released, unless another writer took it over meanwhile.
async fn release(root: Arc<dyn ObjectStore>, path: ObjectPath, state: Arc<Mutex<State>>) {
    let state = state.lock().await;
    if state.lost {
        return;
    }
    let mut body = state.body.clone();
    body.released = true;
    let mode = PutMode::Update(state.version.clone());
    let result = match body.payload() {
        Ok(payload) => root
            .put_opts(&path, payload, mode.into())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = result {
        tracing::warn!(
            lock = %path,
            "could not release the writer lock ({e}); the next writer takes it over after {} s",
            LEASE.as_secs()
        );
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.notify_one();
        let release = release(self.root.clone(), self.path.clone(), self.state.clone());
        match tokio::runtime::Handle::try_current() {
            // Release before the caller goes on, so that a writer started right after this
            // one finds the lock free.
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| handle.block_on(release));
            }
            Ok(handle) => {
                handle.spawn(release);
            }
            // No runtime left: the lease lapses by itself.
            Err(_) => {}
        }
    }
}
