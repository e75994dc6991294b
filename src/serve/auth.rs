//! Who may connect: the users of the configuration with SCRAM-SHA-256, or, with no users
//! configured, anyone on loopback as `admin` (SPEC 8). Plain passwords from the file are
//! salted and hashed at load; the cleartext is not kept.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::sasl::scram::{SCRAM_ITERATIONS, ScramAuth, gen_salted_password};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, ServerParameterProvider,
    StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, PidSecretKeyGenerator};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

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
    salt: Vec<u8>,
    salted_password: Vec<u8>,
}

/// The users the server admits.
#[derive(Debug, Clone)]
pub struct Users {
    by_name: HashMap<String, User>,
}

impl Users {
    /// Users from the configuration, their passwords salted and hashed for SCRAM.
    pub fn from_config(users: &[UserConfig]) -> Result<Users> {
        let mut by_name = HashMap::new();
        for u in users {
            if u.password.starts_with("SCRAM-SHA-256$") {
                return Err(Error::InvalidArgument(format!(
                    "user {}: SCRAM verifiers are not supported yet; give the password in the configuration file",
                    u.name
                )));
            }
            let salt: [u8; 16] = rand::random();
            let user = User {
                name: u.name.clone(),
                role: u.role,
                tenants: u.tenants.clone(),
                salted_password: gen_salted_password(&u.password, &salt, SCRAM_ITERATIONS),
                salt: salt.to_vec(),
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
                salt: Vec::new(),
                salted_password: Vec::new(),
            });
        }
        self.by_name.get(name).cloned()
    }
}

#[async_trait]
impl AuthSource for Users {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let name = login.user().unwrap_or_default();
        match self.by_name.get(name) {
            Some(u) => Ok(Password::new(
                Some(u.salt.clone()),
                u.salted_password.clone(),
            )),
            // An unknown user fails the proof like a wrong password, revealing nothing.
            None => {
                let salt: [u8; 16] = rand::random();
                let nonsense: [u8; 32] = rand::random();
                Ok(Password::new(Some(salt.to_vec()), nonsense.to_vec()))
            }
        }
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
}

/// How a connection authenticates.
enum Method {
    /// SCRAM-SHA-256 against the configured users.
    Scram(SASLAuthStartupHandler<Parameters>),
    /// No users configured: loopback clients only, as admin.
    LoopbackTrust(Arc<dyn PidSecretKeyGenerator>),
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
            Method::LoopbackTrust(pids)
        } else {
            let scram = ScramAuth::new(users.clone());
            Method::Scram(
                SASLAuthStartupHandler::new(Arc::new(Parameters::default()))
                    .with_scram(scram)
                    .with_pid_secret_key_generator(pids),
            )
        };
        Startup {
            require_tls,
            method,
        }
    }
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
        if self.require_tls && !client.is_secure() {
            return Err(refused("this server requires TLS (sslmode=require)"));
        }
        match &self.method {
            Method::Scram(h) => h.on_startup(client, message).await,
            Method::LoopbackTrust(pids) => {
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
                let (pid, secret) = pids.generate(client);
                client.set_pid_and_secret_key(pid, secret);
                finish_authentication(client, &Parameters::default()).await?;
                client.flush().await?;
                Ok(())
            }
        }
    }
}
