//! Stopping a running statement: PostgreSQL cancel requests and `statement_timeout`. Both
//! reach execution, not only planning: a statement's rows stream through [`Interruptible`],
//! which ends the stream with 57014 the moment the statement is cancelled or times out, and
//! dropping the stream stops DataFusion's tasks.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use pgwire::api::cancel::CancelHandler;
use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::messages::cancel::CancelRequest;
use tokio_util::sync::CancellationToken;

/// The statement of one connection that a cancel request may stop.
#[derive(Debug, Default)]
pub struct Statements {
    current: Mutex<CancellationToken>,
}

impl Statements {
    /// Starts a statement: the token a cancel request of this connection fires.
    pub fn begin(&self) -> CancellationToken {
        let token = CancellationToken::new();
        if let Ok(mut current) = self.current.lock() {
            *current = token.clone();
        }
        token
    }

    fn cancel(&self) {
        if let Ok(current) = self.current.lock() {
            current.cancel();
        }
    }
}

type Key = (i32, Vec<u8>);

/// Connections by backend key (pid, secret), for cancel requests that arrive on their own
/// connection.
#[derive(Debug, Default)]
pub struct Registry {
    connections: Mutex<HashMap<Key, Weak<Statements>>>,
}

impl Registry {
    /// Registers a connection's statements under its backend key; dropping the returned
    /// guard unregisters it.
    pub fn register(self: &Arc<Self>, pid: i32, secret: Vec<u8>, s: &Arc<Statements>) -> Guard {
        let key = (pid, secret);
        if let Ok(mut map) = self.connections.lock() {
            map.insert(key.clone(), Arc::downgrade(s));
        }
        Guard {
            registry: self.clone(),
            key,
        }
    }
}

/// Keeps a connection registered for cancel requests while alive.
#[derive(Debug)]
pub struct Guard {
    registry: Arc<Registry>,
    key: Key,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut map) = self.registry.connections.lock() {
            map.remove(&self.key);
        }
    }
}

#[async_trait]
impl CancelHandler for Registry {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let key = (request.pid, request.secret_key.to_bytes().to_vec());
        let target = self
            .connections
            .lock()
            .ok()
            .and_then(|m| m.get(&key).and_then(Weak::upgrade));
        if let Some(statements) = target {
            tracing::info!(pid = request.pid, "cancel request");
            statements.cancel();
        }
    }
}

/// Why a statement was stopped.
pub fn canceled(timeout: bool) -> PgWireError {
    let message = if timeout {
        "canceling statement due to statement timeout"
    } else {
        "canceling statement due to user request"
    };
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "57014".into(),
        message.into(),
    )))
}

/// Resolves when the statement is cancelled (`false`) or times out (`true`).
pub fn stopped(
    token: CancellationToken,
    timeout: Option<Duration>,
) -> Pin<Box<dyn Future<Output = bool> + Send>> {
    Box::pin(async move {
        match timeout {
            Some(t) => tokio::select! {
                () = token.cancelled() => false,
                () = tokio::time::sleep(t) => true,
            },
            None => {
                token.cancelled().await;
                false
            }
        }
    })
}

/// A stream of results that ends with a 57014 error as soon as `stop` resolves.
pub struct Interruptible<S> {
    inner: S,
    stop: Pin<Box<dyn Future<Output = bool> + Send>>,
    done: bool,
}

impl<S> Interruptible<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, stop: Pin<Box<dyn Future<Output = bool> + Send>>) -> Self {
        Interruptible {
            inner,
            stop,
            done: false,
        }
    }
}

impl<S, T> Stream for Interruptible<S>
where
    S: Stream<Item = Result<T, PgWireError>> + Unpin,
{
    type Item = Result<T, PgWireError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(timeout) = self.stop.as_mut().poll(cx) {
            self.done = true;
            return Poll::Ready(Some(Err(canceled(timeout))));
        }
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if matches!(next, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.done = true;
        }
        next
    }
}
