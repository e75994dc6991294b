//! One client connection on the wire: pgwire's TLS negotiation and message loop, with the
//! framing of the client's messages checked before pgwire decodes them.
//!
//! pgwire reads leniently what PostgreSQL refuses: a simple Query whose text has no
//! terminating NUL (or whose length ends the message before it), or a message whose length
//! is below 4, becomes an empty query, and whatever bytes follow are read as further
//! messages. PostgreSQL answers `FATAL 08P01` ("invalid message format") and closes the
//! connection; so does cdrlake. [`Checked`] sits between the (decrypted) stream and
//! pgwire's codec, follows the message boundaries, holds back a malformed message, sends the
//! error and ends the stream. The loop is pgwire's `process_socket`, which takes no stream
//! of ours, with PostgreSQL's ending after a FATAL error: the ErrorResponse, then the socket
//! closes, without the ReadyForQuery pgwire's `process_error` sends after every error. A
//! message pgwire cannot decode after startup (an unknown type, an impossible length) is
//! such an error, 08P01, where pgwire would drop the connection without a word.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::BytesMut;
use futures::{SinkExt, StreamExt};
use pgwire::api::PgWireServerHandlers;
use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::TlsAcceptor;
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};

use super::sqlstate::PROTOCOL_VIOLATION;

/// How long a client has to complete its startup (pgwire's own limit).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Bytes of outgoing messages gathered before they are written to the socket (tokio-util's
/// default is 8 KiB): a large result or COPY goes out in fewer, larger writes. Every reply
/// is still flushed when complete.
const WRITE_BUFFER: usize = 64 * 1024;

/// Serves one client connection with `handlers` until it ends.
pub async fn serve<H: PgWireServerHandlers>(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: H,
) -> io::Result<()> {
    let startup_timeout = tokio::time::sleep(STARTUP_TIMEOUT);
    tokio::pin!(startup_timeout);
    let negotiated = tokio::select! {
        () = &mut startup_timeout => return Ok(()),
        s = negotiate_tls(tcp, tls) => s?,
    };
    let Some(socket) = negotiated else {
        return Ok(());
    };
    let old = socket.into_parts();
    let mut framing = Framing::default();
    framing.observe(&old.read_buf);
    let mut parts = FramedParts::new(
        Checked {
            io: old.io,
            framing,
            state: State::Open,
        },
        old.codec,
    );
    parts.read_buf = old.read_buf;
    parts.write_buf = old.write_buf;
    let mut socket = Framed::from_parts(parts);
    socket.set_backpressure_boundary(WRITE_BUFFER);

    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    let errors = handlers.error_handler();
    loop {
        use pgwire::api::{ClientInfo, ErrorHandler, PgWireConnectionState};
        let starting = matches!(
            socket.state(),
            PgWireConnectionState::AwaitingStartup
                | PgWireConnectionState::AuthenticationInProgress
        );
        let msg = if starting {
            tokio::select! {
                () = &mut startup_timeout => None,
                msg = socket.next() => msg,
            }
        } else {
            socket.next().await
        };
        let msg = match msg {
            Some(Ok(msg)) => msg,
            None | Some(Err(PgWireError::IoError(_))) => break,
            // Before startup PostgreSQL only logs what it cannot read (COMMERROR).
            Some(Err(e)) if starting => {
                tracing::debug!(error = %e, "undecodable startup message");
                break;
            }
            Some(Err(e)) => {
                let info = ErrorInfo::new("FATAL".into(), PROTOCOL_VIOLATION.into(), e.to_string());
                tracing::debug!(error = %e, "undecodable client message");
                end_fatally(&mut socket, info).await?;
                break;
            }
        };
        // A client that sends Terminate waits for the server to close (asyncpg).
        if matches!(msg, PgWireFrontendMessage::Terminate(_)) {
            break;
        }
        let is_extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => msg.is_extended_query(),
        };
        let processed = process_message(
            msg,
            &mut socket,
            startup.clone(),
            simple.clone(),
            extended.clone(),
            copy.clone(),
            cancel.clone(),
        )
        .await;
        if let Err(mut e) = processed {
            errors.on_error(&socket, &mut e);
            let info = ErrorInfo::from(e);
            if info.is_fatal() {
                end_fatally(&mut socket, info).await?;
                break;
            }
            let e = PgWireError::UserError(Box::new(info));
            process_error(&mut socket, e, is_extended_query).await?;
        }
    }
    Ok(())
}

/// Sends a FATAL error and closes the connection, as PostgreSQL does: no ReadyForQuery.
async fn end_fatally<S>(socket: &mut S, info: ErrorInfo) -> io::Result<()>
where
    S: futures::Sink<PgWireBackendMessage, Error = io::Error> + Unpin,
{
    socket
        .send(PgWireBackendMessage::ErrorResponse(info.into()))
        .await?;
    socket.close().await
}

/// Where the client's byte stream is, message by message.
#[derive(Debug, Default)]
struct Framing {
    /// Whether the startup packet (untyped: length, then body) has been seen.
    started: bool,
    /// The header bytes of the current message read so far.
    header: Vec<u8>,
    /// The current message's body: its type, the bytes still to come, and for a Query
    /// where its first NUL was and whether another byte followed it.
    body: Option<Body>,
}

#[derive(Debug)]
struct Body {
    kind: u8,
    remaining: usize,
    nul_seen: bool,
    after_nul: bool,
}

/// Why a message is refused.
type Violation = &'static str;

impl Framing {
    /// Follows `bytes` that were read before the check began (nothing is refused there).
    fn observe(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let taken = match self.advance(rest) {
                Ok(n) => n,
                Err((at, _)) => at + 1,
            };
            rest = &rest[taken.min(rest.len())..];
        }
    }

    /// Follows as much of `bytes` as belongs to the current message (or header) and returns
    /// how many it took; or, when the message is malformed, the offset of the byte at which
    /// that became known and why.
    fn advance(&mut self, bytes: &[u8]) -> Result<usize, (usize, Violation)> {
        if let Some(body) = &mut self.body {
            let take = body.remaining.min(bytes.len());
            if body.kind == b'Q' {
                for &b in &bytes[..take] {
                    if body.nul_seen {
                        body.after_nul = true;
                    } else if b == 0 {
                        body.nul_seen = true;
                    }
                }
            }
            body.remaining -= take;
            if body.remaining == 0 {
                let query = body.kind == b'Q';
                let bad = query && (!body.nul_seen || body.after_nul);
                self.body = None;
                if bad {
                    return Err((
                        take - 1,
                        "invalid message format: the query string does not end the message",
                    ));
                }
            }
            return Ok(take);
        }
        let header_len = if self.started { 5 } else { 4 };
        let take = (header_len - self.header.len()).min(bytes.len());
        self.header.extend_from_slice(&bytes[..take]);
        if self.header.len() < header_len {
            return Ok(take);
        }
        let (kind, len) = if self.started {
            (self.header[0], &self.header[1..5])
        } else {
            (0, &self.header[0..4])
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        self.header.clear();
        self.started = true;
        if len < 4 {
            return Err((take - 1, "invalid message length"));
        }
        if len == 4 && kind == b'Q' {
            return Err((
                take - 1,
                "invalid message format: a query without its string",
            ));
        }
        if len > 4 {
            self.body = Some(Body {
                kind,
                remaining: len - 4,
                nul_seen: false,
                after_nul: false,
            });
        }
        Ok(take)
    }
}

/// The client's stream, passed on until a malformed message; then the error, and its end.
struct Checked<T> {
    io: T,
    framing: Framing,
    state: State,
}

enum State {
    Open,
    /// Sending the ErrorResponse (from this offset).
    Refusing(BytesMut),
    Closed,
}

fn error_response(violation: Violation) -> BytesMut {
    let info = ErrorInfo::new("FATAL".into(), PROTOCOL_VIOLATION.into(), violation.into());
    let mut out = BytesMut::new();
    // An ErrorResponse always encodes; an empty buffer only closes the connection.
    let _ = PgWireBackendMessage::ErrorResponse(info.into()).encode(&mut out);
    out
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Checked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Closed => return Poll::Ready(Ok(())),
                State::Refusing(out) => {
                    while !out.is_empty() {
                        let n = ready!(Pin::new(&mut this.io).poll_write(cx, out))?;
                        if n == 0 {
                            break;
                        }
                        let _ = out.split_to(n);
                    }
                    ready!(Pin::new(&mut this.io).poll_flush(cx))?;
                    this.state = State::Closed;
                }
                State::Open => {
                    let start = buf.filled().len();
                    ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
                    let mut offset = start;
                    while offset < buf.filled().len() {
                        match this.framing.advance(&buf.filled()[offset..]) {
                            Ok(n) => offset += n,
                            Err((at, violation)) => {
                                tracing::debug!(violation, "malformed client message");
                                buf.set_filled(offset + at);
                                this.state = State::Refusing(error_response(violation));
                                break;
                            }
                        }
                    }
                    // Bytes before the malformed message still go to pgwire first.
                    if buf.filled().len() > start || !matches!(this.state, State::Refusing(_)) {
                        return Poll::Ready(Ok(()));
                    }
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Checked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_violation(bytes: &[u8]) -> Option<usize> {
        let mut framing = Framing {
            started: true,
            ..Framing::default()
        };
        let mut offset = 0;
        while offset < bytes.len() {
            match framing.advance(&bytes[offset..]) {
                Ok(n) => offset += n,
                Err((at, _)) => return Some(offset + at),
            }
        }
        None
    }

    #[test]
    fn well_formed_messages_pass() {
        assert_eq!(
            first_violation(b"Q\0\0\0\x0dSELECT 1\0Q\0\0\0\x05\0X\0\0\0\x04"),
            None
        );
        assert_eq!(first_violation(b"p\0\0\0\x06ab"), None);
    }

    #[test]
    fn malformed_queries_are_caught_at_their_last_byte() {
        assert_eq!(first_violation(b"Q\0\0\0\x0cSELECT 1"), Some(12));
        assert_eq!(first_violation(b"Q\0\0\0\x08SELECT 1\0"), Some(8));
        assert_eq!(first_violation(b"Q\0\0\0\x0dSELECT\x001\0"), Some(13));
        assert_eq!(first_violation(b"Q\0\0\0\x02"), Some(4));
        assert_eq!(first_violation(b"Q\0\0\0\x04"), Some(4));
    }

    #[test]
    fn the_startup_packet_is_untyped() {
        let mut framing = Framing::default();
        framing.observe(&[0, 0, 0, 8, 0, 3, 0, 0]);
        assert!(framing.started);
        assert_eq!(
            framing.advance(b"Q\0\0\0\x02"),
            Err((4, "invalid message length"))
        );
    }
}
