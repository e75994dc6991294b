//! `/metrics` (Prometheus text format) and `/health` on `[server] metrics_listen`: what the
//! server has done since it started — connections, statements and their latency, rows
//! loaded over COPY, rejects, commits, maintenance rounds.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Upper bounds (seconds) of the statement latency histogram's buckets.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    statements: AtomicU64,
    statement_errors: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_micros_sum: AtomicU64,
    rows_ingested: AtomicU64,
    rows_rejected: AtomicU64,
    commits: AtomicU64,
    maintenance_rounds: AtomicU64,
    maintenance_failures: AtomicU64,
}

/// Counts a connection while alive.
pub struct ConnectionGuard<'a>(&'a Metrics);

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// A connection opened; it is counted as open until the guard drops.
    pub fn connection(&self) -> ConnectionGuard<'_> {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(self)
    }

    /// A statement finished after `took`.
    pub fn statement(&self, took: Duration, ok: bool) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.statement_errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency_micros_sum.fetch_add(micros, Ordering::Relaxed);
    }

    /// Rows stored (or found duplicate) and rejected by a COPY FROM, in `commits` commits.
    pub fn ingested(&self, rows: u64, rejected: u64, commits: u64) {
        self.rows_ingested.fetch_add(rows, Ordering::Relaxed);
        self.rows_rejected.fetch_add(rejected, Ordering::Relaxed);
        self.commits.fetch_add(commits, Ordering::Relaxed);
    }

    /// A maintenance round (compaction, vacuum, retention) ran.
    pub fn maintenance(&self, ok: bool) {
        self.maintenance_rounds.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.maintenance_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "cdrlake_connections_open",
            "gauge",
            "Open client connections.",
            get(&self.connections_open),
        );
        metric(
            "cdrlake_connections_total",
            "counter",
            "Client connections accepted.",
            get(&self.connections_total),
        );
        metric(
            "cdrlake_statement_errors_total",
            "counter",
            "Statements that failed.",
            get(&self.statement_errors),
        );
        metric(
            "cdrlake_rows_ingested_total",
            "counter",
            "Rows accepted by COPY FROM.",
            get(&self.rows_ingested),
        );
        metric(
            "cdrlake_rows_rejected_total",
            "counter",
            "Rows rejected by COPY FROM.",
            get(&self.rows_rejected),
        );
        metric(
            "cdrlake_commits_total",
            "counter",
            "Commits made by the server.",
            get(&self.commits),
        );
        metric(
            "cdrlake_maintenance_rounds_total",
            "counter",
            "Compaction and retention rounds.",
            get(&self.maintenance_rounds),
        );
        metric(
            "cdrlake_maintenance_failures_total",
            "counter",
            "Maintenance rounds that failed or were skipped.",
            get(&self.maintenance_failures),
        );
        let name = "cdrlake_statement_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Statement latency.\n# TYPE {name} histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", get(count));
        }
        let total = get(&self.statements);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            get(&self.latency_micros_sum) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {total}");
        out
    }
}

/// Serves `/metrics` and `/health` over HTTP/1.1 on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(e) => {
                tracing::warn!("metrics listener: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let response = respond(&metrics, request.uri().path());
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new().serve_connection(TokioIo::new(socket), service);
            if let Err(e) = connection.await {
                tracing::debug!("metrics connection: {e}");
            }
        });
    }
}

/// The response to a GET of `path`.
fn respond(metrics: &Metrics, path: &str) -> Response<Full<Bytes>> {
    let (status, body) = match path {
        "/metrics" => (StatusCode::OK, metrics.render()),
        "/health" => (StatusCode::OK, "ok\n".to_owned()),
        _ => (StatusCode::NOT_FOUND, "not found\n".to_owned()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
