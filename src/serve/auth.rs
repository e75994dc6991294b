//! Who may connect: the users of the configuration with SCRAM-SHA-256, or, with no users
//! configured, anyone on loopback as `admin` (SPEC 8). Plain passwords from the file are
//! salted and hashed at load into SCRAM verifiers, the cleartext not kept; PostgreSQL
//! verifiers (`SCRAM-SHA-256$…` from `pg_authid`) are taken as they are. The exchange itself
//! is [`super::scram`].

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, ServerParameterProvider, StartupHandler, finish_authentication,
    protocol_negotiation, save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, PgWireConnectionState, PidSecretKeyGenerator};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use super::scram::{Exchange, MECHANISM, Verifier};
use crate::config::{Role, UserConfig};
use crate::error::{Error, Result};

/// The PostgreSQL version the server presents itself as, everywhere it is asked.
pub const SERVER_VERSION: &str = "16.6";
/// `server_version_num` matching [`SERVER_VERSION`].
pub const SERVER_VERSION_NUM: &str = "160006";

/// A database user: what they may do and which tenants' rows they see.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role of SPEC 6.
    pub role: Role,
    /// Tenants whose rows the user sees; `None` = all.
    pub tenants: Option<Vec<String>>,
    verifier: Option<Verifier>,
}

/// The users the server admits.
#[derive(Debug, Clone)]
pub struct Users {
    by_name: HashMap<String, User>,
}

impl Users {
    /// Users from the configuration: plain passwords salted and hashed into SCRAM verifiers,
    /// PostgreSQL verifiers read as they are (a malformed one is an error naming the user).
    pub fn from_config(users: &[UserConfig]) -> Result<Users> {
        let mut by_name = HashMap::new();
        for u in users {
            let verifier = if Verifier::looks_like(&u.password) {
                Verifier::parse(&u.password)
                    .map_err(|e| Error::InvalidArgument(format!("user {}: {e}", u.name)))?
            } else {
                Verifier::from_password(&u.password)
            };
            let user = User {
                name: u.name.clone(),
                role: u.role,
                tenants: u.tenants.clone(),
                verifier: Some(verifier),
            };
            by_name.insert(u.name.clone(), user);
        }
        Ok(Users { by_name })
    }

    /// True when no user is configured: only loopback clients are admitted, as admin.
    pub fn is_open(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The user named `name`; with no users configured, an admin of that name.
    pub fn get(&self, name: &str) -> Option<User> {
        if self.is_open() {
            return Some(User {
                name: name.to_owned(),
                role: Role::Admin,
                tenants: None,
                verifier: None,
            });
        }
        self.by_name.get(name).cloned()
    }

    /// The verifier to check `name`'s proof against; an unknown user gets one no password
    /// matches, so they fail like a wrong password, revealing nothing.
    fn verifier(&self, name: &str) -> Verifier {
        self.by_name
            .get(name)
            .and_then(|u| u.verifier.clone())
            .unwrap_or_else(Verifier::impossible)
    }
}

/// Startup parameters: PostgreSQL 16, UTF8, ISO dates, UTC.
#[derive(Debug)]
pub struct Parameters(DefaultServerParameterProvider);

impl Default for Parameters {
    fn default() -> Self {
        let mut p = DefaultServerParameterProvider::default();
        p.server_version = SERVER_VERSION.to_owned();
        p.is_superuser = false;
        Parameters(p)
    }
}

impl ServerParameterProvider for Parameters {
    fn server_parameters<C>(&self, client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        self.0.server_parameters(client)
    }
}

/// The startup of one connection: TLS enforcement when required, then SCRAM when users are
/// configured, else loopback trust.
pub struct Startup {
    require_tls: bool,
    method: Method,
    pids: Arc<dyn PidSecretKeyGenerator>,
    /// The SCRAM exchange in progress, between the client's first and final messages.
    exchange: tokio::sync::Mutex<Option<Exchange>>,
}

/// How a connection authenticates.
enum Method {
    /// SCRAM-SHA-256 against the configured users' verifiers.
    Scram(Arc<Users>),
    /// No users configured: loopback clients only, as admin.
    LoopbackTrust,
}

impl Startup {
    /// A fresh startup handler (it holds the state of one authentication exchange).
    /// `pids` numbers the server's connections (shared, so backend ids are unique); with
    /// `require_tls`, connections that did not negotiate TLS are refused.
    pub fn new(
        users: &Arc<Users>,
        pids: Arc<dyn PidSecretKeyGenerator>,
        require_tls: bool,
    ) -> Startup {
        let method = if users.is_open() {
            Method::LoopbackTrust
        } else {
            Method::Scram(users.clone())
        };
        Startup {
            require_tls,
            method,
            pids,
            exchange: tokio::sync::Mutex::new(None),
        }
    }

    /// Admits the client: its backend key, AuthenticationOk and the startup parameters.
    async fn admit<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret) = self.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret);
        finish_authentication(client, &Parameters::default()).await?;
        client.flush().await?;
        Ok(())
    }
}

/// A protocol violation during the SCRAM exchange (08P01, as PostgreSQL says).
fn scram_violation(e: super::scram::ScramError) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        "08P01".into(),
        e.to_string(),
    )))
}

fn refused(message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        "28000".into(),
        message.into(),
    )))
}

#[async_trait]
impl StartupHandler for Startup {
    /// One startup message. A refusal (wrong password, TLS required, …) ends the connection
    /// as PostgreSQL ends it: a FATAL ErrorResponse, then the socket closes. (pgwire would
    /// follow it with ReadyForQuery, which drivers such as asyncpg take for a protocol error.)
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Err(e) = self.authenticate(client, message).await else {
            return Ok(());
        };
        let info = ErrorInfo::from(e);
        if !info.is_fatal() {
            return Err(PgWireError::UserError(Box::new(info)));
        }
        client
            .send(PgWireBackendMessage::ErrorResponse(info.into()))
            .await?;
        client.close().await?;
        Ok(())
    }
}

impl Startup {
    async fn authenticate<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if self.require_tls && !client.is_secure() {
            return Err(refused("this server requires TLS (sslmode=require)"));
        }
        match &self.method {
            Method::Scram(users) => match message {
                PgWireFrontendMessage::Startup(ref startup) => {
                    protocol_negotiation(client, startup).await?;
                    save_startup_parameters_to_metadata(client, startup);
                    client.set_state(PgWireConnectionState::AuthenticationInProgress);
                    client
                        .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                            vec![MECHANISM.to_owned()],
                        )))
                        .await?;
                    Ok(())
                }
                PgWireFrontendMessage::PasswordMessageFamily(msg) => {
                    let name = client.metadata().get("user").cloned().unwrap_or_default();
                    let mut exchange = self.exchange.lock().await;
                    match exchange.take() {
                        None => {
                            let first = msg.into_sasl_initial_response()?;
                            if first.auth_method != MECHANISM {
                                return Err(PgWireError::UnsupportedSASLAuthMethod(
                                    first.auth_method,
                                ));
                            }
                            let data = first.data.unwrap_or_default();
                            let (started, server_first) =
                                Exchange::start(&data, users.verifier(&name))
                                    .map_err(scram_violation)?;
                            *exchange = Some(started);
                            client
                                .send(PgWireBackendMessage::Authentication(
                                    Authentication::SASLContinue(server_first.into()),
                                ))
                                .await?;
                            Ok(())
                        }
                        Some(started) => {
                            let last = msg.into_sasl_response()?;
                            let Some(server_final) =
                                started.finish(&last.data).map_err(scram_violation)?
                            else {
                                tracing::info!(user = %name, "password authentication failed");
                                return Err(PgWireError::InvalidPassword(name));
                            };
                            client
                                .feed(PgWireBackendMessage::Authentication(
                                    Authentication::SASLFinal(server_final.into()),
                                ))
                                .await?;
                            self.admit(client).await
                        }
                    }
                }
                _ => Ok(()),
            },
            Method::LoopbackTrust => {
                let PgWireFrontendMessage::Startup(ref startup) = message else {
                    return Ok(());
                };
                if !client.socket_addr().ip().is_loopback() {
                    return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                        "FATAL".into(),
                        "28000".into(),
                        "no users are configured, so only loopback connections are admitted".into(),
                    ))));
                }
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                self.admit(client).await
            }
        }
    }
}
