//! Serve: the PostgreSQL wire protocol over a store (SPEC 6). Our own accept loop and
//! per-connection handlers on pgwire, reusing datafusion-postgres as a kit of parts (query
//! handling, `pg_catalog`, Arrow↔PostgreSQL types), split the way the data flows:
//!
//! - [`auth`]: users, SCRAM-SHA-256, startup parameters (PostgreSQL 16);
//! - [`connection`]: one connection's message loop, with malformed messages refused;
//! - [`session`]: one connection's session and its query handlers;
//! - [`statement`]: what each statement is and who may run it;
//! - [`tenant`]: tenant isolation in the logical plan;
//! - [`copy_out`]: `COPY … TO STDOUT`;
//! - [`copy_in`]: `COPY … FROM STDIN` through the ingest pipeline;
//! - [`maintenance`]: scheduled compaction, vacuum and retention;
//! - [`metrics`]: `/metrics` and `/health`;
//! - [`cancel`]: cancel requests and statement timeouts;
//! - [`parameters`]: parameter types as PostgreSQL describes them;
//! - [`numeric`]: unconstrained `numeric` keeping the scale of its values;
//! - [`numeric_wire`]: `numeric` in the binary format with its column's scale;
//! - result columns are named as PostgreSQL names them ([`crate::query::column_names`]);
//! - [`sqlstate`]: errors to SQLSTATE codes;
//! - [`text_rows`]: text results in PostgreSQL's spelling;
//! - [`pg_functions`]: the PostgreSQL functions clients call that DataFusion lacks;
//! - [`pg_catalog`]: `pg_catalog` and `information_schema` as psql and BI tools read them
//!   ([`pg_catalog_procs`], [`pg_catalog_lookups`], [`pg_information_schema`],
//!   [`pg_catalog_sql`], [`pg_catalog_types`], [`pg_types`]).

pub mod auth;
pub mod cancel;
pub mod compat_parse;
pub mod connection;
pub mod copy_binary;
pub mod copy_binary_in;
pub mod copy_in;
pub mod copy_out;
pub mod described_types;
pub mod maintenance;
pub mod metrics;
pub mod numeric;
pub mod numeric_wire;
pub mod parameters;
pub mod pg_catalog;
pub mod pg_catalog_lookups;
pub mod pg_catalog_procs;
pub mod pg_catalog_sql;
pub mod pg_catalog_sql_asyncpg;
pub mod pg_catalog_sql_fold;
pub mod pg_catalog_sql_from;
pub mod pg_catalog_types;
pub mod pg_format_type;
pub mod pg_functions;
pub mod pg_information_schema;
pub mod pg_parse_ident;
pub mod pg_regclass;
pub mod pg_types;
pub mod row_description;
pub mod scram;
pub mod session;
pub mod sqlstate;
pub mod statement;
pub mod temp_tables;
pub mod tenant;
pub mod text_cast;
pub mod text_rows;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::{SessionState, SessionStateBuilder};
use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::{ClientInfo, ErrorHandler, PgWireServerHandlers, RandomPidSecretKeyGenerator};
use pgwire::error::PgWireError;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, ServerConfig};
use crate::error::{Error, Result};
use crate::ingest::Formats;
use crate::query;
use crate::storage::Store;
use auth::{Startup, Users};
use cancel::Registry;
use session::Session;

/// What every connection shares: the base session (catalog, functions), users, limits.
pub struct Shared {
    /// The session state each connection's own state starts from.
    pub base: SessionState,
    /// Who may connect.
    pub users: Arc<Users>,
    /// Connections that cancel requests may reach.
    pub cancels: Arc<Registry>,
    /// Default `statement_timeout` (none when 0).
    pub statement_timeout: Option<Duration>,
    /// Memory a query may use.
    pub query_memory_bytes: usize,
    /// The store, for `COPY … FROM STDIN`.
    pub store: Store,
    /// Ingest formats, for `COPY … FROM STDIN`.
    pub formats: Formats,
    /// Serialises the server's own writes (the store's writer lock is per process).
    pub writer: tokio::sync::Mutex<()>,
    /// What the server has done, for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    pids: Arc<RandomPidSecretKeyGenerator>,
}

/// The share of a query's memory limit reserved up front for merging a spilled sort.
const SORT_MERGE_SHARE: usize = 16;

impl Shared {
    /// The base session over `store`: the query session of [`query::session`], the
    /// PostgreSQL-dialect parser, `pg_catalog` and the PostgreSQL functions.
    pub async fn new(store: &Store, config: &Config) -> Result<Shared> {
        let ctx = query::session(store, Arc::new(config.settings()?)).await?;
        let server = &config.server;
        let query_memory_bytes = server.query_memory_bytes();
        {
            let state = ctx.state_ref();
            let mut state = state.write();
            let options = state.config_mut().options_mut();
            options.set("datafusion.sql_parser.dialect", "PostgreSQL")?;
            // PostgreSQL reads 1.25 as numeric, and `now()` is a timestamptz in UTC.
            options.sql_parser.parse_float_as_decimal = true;
            options.execution.time_zone = Some("UTC".into());
            // The final merge of a spilled sort draws on this reservation. DataFusion's 10 MB
            // default fails sorts of 10M CDRs under the 2 GB query limit ("Additional allocation
            // failed for ExternalSorterMerge", apache/datafusion#16979; benches/RESULTS.md).
            options.execution.sort_spill_reservation_bytes =
                (query_memory_bytes / SORT_MERGE_SHARE).clamp(10 << 20, 128 << 20);
        }
        pg_catalog::setup(&ctx)?;
        {
            // After pg_catalog's own type planner, which ours wraps.
            let state = ctx.state_ref();
            let mut state = state.write();
            let with_numeric = SessionStateBuilder::new_from_existing(state.clone())
                .with_type_planner(Arc::new(numeric::PgTypePlanner::default()))
                .build();
            *state = with_numeric;
        }
        // Lists the relations, fixing their OIDs, before any client names one (`regclass`).
        ctx.sql("SELECT oid FROM pg_catalog.pg_class")
            .await?
            .collect()
            .await?;
        Ok(Shared {
            base: ctx.state(),
            users: Arc::new(Users::from_config(&config.users)?),
            cancels: Arc::new(Registry::default()),
            statement_timeout: (server.statement_timeout_s > 0)
                .then(|| Duration::from_secs(server.statement_timeout_s)),
            query_memory_bytes,
            pids: Arc::new(RandomPidSecretKeyGenerator::default()),
            store: store.clone(),
            formats: Formats::load(config.ingest.formats_dir.as_deref())?,
            writer: tokio::sync::Mutex::new(()),
            metrics: Arc::new(metrics::Metrics::default()),
        })
    }
}

/// The handlers of one connection.
struct Connection {
    session: Arc<Session>,
    startup: Arc<Startup>,
    cancels: Arc<Registry>,
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.session.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.session.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        self.session.clone()
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(Errors)
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancels.clone()
    }
}

/// Gives every error its SQLSTATE and logs it.
struct Errors;

impl ErrorHandler for Errors {
    fn on_error<C>(&self, client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        sqlstate::classify(error);
        tracing::debug!(client = %client.socket_addr(), %error, "statement failed");
    }
}

/// A listening server.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    require_tls: bool,
    limit: Arc<Semaphore>,
    maintenance: Option<(cdrlake_udfs::Settings, maintenance::Schedule)>,
    metrics: Option<TcpListener>,
}

impl Server {
    /// Binds `listen` (or the configured address) over `store`. A configured certificate
    /// that cannot be loaded is an error: the server never falls back to plaintext.
    pub async fn bind(store: &Store, config: &Config, listen: Option<&str>) -> Result<Server> {
        let server = &config.server;
        let addr = listen.unwrap_or(&server.listen);
        let tls = tls_acceptor(server)?;
        let settings = config.settings()?;
        let shared = Arc::new(Shared::new(store, config).await?);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::InvalidArgument(format!("cannot listen on {addr}: {e}")))?;
        let metrics = match &server.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                Error::InvalidArgument(format!("cannot listen for metrics on {addr}: {e}"))
            })?),
            None => None,
        };
        if shared.users.is_open() {
            tracing::warn!(
                "no users configured: admitting loopback connections only, each as admin"
            );
        }
        Ok(Server {
            listener,
            shared,
            tls,
            require_tls: server.tls_required,
            metrics,
            maintenance: (server.maintenance_interval_s > 0).then(|| {
                (
                    settings,
                    maintenance::Schedule {
                        interval: Duration::from_secs(server.maintenance_interval_s),
                        grace: Duration::from_secs(u64::from(server.vacuum_grace_minutes) * 60),
                        quiet: Duration::from_secs(server.materialize_quiet_s),
                    },
                )
            }),
            limit: Arc::new(Semaphore::new(server.max_connections.max(1))),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The address of the metrics endpoint, when configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Accepts connections until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<()> {
        tokio::pin!(shutdown);
        let _maintenance = self.maintenance.take().map(|(settings, schedule)| {
            AbortOnDrop(tokio::spawn(maintenance::run(
                self.shared.clone(),
                settings,
                schedule,
            )))
        });
        let _metrics = self.metrics.take().map(|listener| {
            AbortOnDrop(tokio::spawn(metrics::serve(
                listener,
                self.shared.metrics.clone(),
            )))
        });
        loop {
            let (socket, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                },
            };
            let Ok(permit) = self.limit.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "connection refused: max_connections reached");
                continue;
            };
            let handlers = Connection {
                session: Arc::new(Session::new(self.shared.clone())),
                startup: Arc::new(Startup::new(
                    &self.shared.users,
                    self.shared.pids.clone(),
                    self.require_tls,
                )),
                cancels: self.shared.cancels.clone(),
            };
            let tls = self.tls.clone();
            let metrics = self.shared.metrics.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let _open = metrics.connection();
                if let Err(e) = connection::serve(socket, tls, handlers).await {
                    tracing::debug!(%peer, "connection ended with error: {e}");
                }
            });
        }
        tracing::info!("shutting down");
        Ok(())
    }
}

/// Stops a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn tls_acceptor(server: &ServerConfig) -> Result<Option<TlsAcceptor>> {
    let (Some(cert), Some(key)) = (&server.tls_cert, &server.tls_key) else {
        if server.tls_required {
            return Err(Error::InvalidArgument(
                "tls_required is set but no tls_cert/tls_key are configured".into(),
            ));
        }
        return Ok(None);
    };
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &std::path::Path, e: &dyn std::fmt::Display| {
        Error::InvalidArgument(format!("TLS: cannot load {}: {e}", what.display()))
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| bad(cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| Error::InvalidArgument(format!("TLS: {e}")))?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}
