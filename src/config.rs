//! Configuration: the TOML file of SPEC section 8, parsed into typed values and validated.
//! `--config` names it; without it, `./cdrlake.toml` is read when present, else defaults apply.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The default configuration file, read when present.
pub const DEFAULT_FILE: &str = "cdrlake.toml";

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Server settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// Ingest settings.
    #[serde(default)]
    pub ingest: IngestConfig,
    /// Database users.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Per-tenant settings; `"*"` holds the defaults.
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantSettings>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// TLS certificate (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Refuse connections that do not use TLS.
    pub tls_required: bool,
    /// Statement timeout in seconds (0 = none).
    pub statement_timeout_s: u64,
    /// Memory a query may use, in MiB.
    pub query_memory_mb: u64,
    /// Most concurrent connections.
    pub max_connections: usize,
    /// Seconds between the server's maintenance rounds (compaction, vacuum, retention);
    /// 0 turns them off.
    pub maintenance_interval_s: u64,
    /// Minutes a file replaced by compaction is kept for running queries and time travel.
    pub vacuum_grace_minutes: u32,
    /// Seconds the tables of a materialized view (`call_log`, `call_reports`) must stay
    /// unchanged before the server stores its rows anew between maintenance rounds; 0: only
    /// at start-up and after rounds.
    pub materialize_quiet_s: u64,
    /// Address of the `/metrics` and `/health` HTTP endpoint; none when unset.
    pub metrics_listen: Option<String>,
}

impl ServerConfig {
    /// `query_memory_mb` in bytes (saturating).
    pub fn query_memory_bytes(&self) -> usize {
        usize::try_from(self.query_memory_mb)
            .unwrap_or(usize::MAX / (1 << 20))
            .saturating_mul(1 << 20)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:5433".into(),
            tls_cert: None,
            tls_key: None,
            tls_required: false,
            statement_timeout_s: 300,
            query_memory_mb: 2048,
            max_connections: 100,
            maintenance_interval_s: 3600,
            vacuum_grace_minutes: 24 * 60,
            materialize_quiet_s: 60,
            metrics_listen: None,
        }
    }
}

/// `[ingest]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// A directory of further format mapping files (`*.toml`, as in `schemas/formats/`).
    pub formats_dir: Option<PathBuf>,
}

/// A role of SPEC 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads.
    Analyst,
    /// Reads, issues refunds and billing events.
    Billing,
    /// Loads CDRs.
    Ingest,
    /// Everything.
    Admin,
}

/// `[[users]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Login name.
    pub name: String,
    /// Plain password or a SCRAM-SHA-256 verifier.
    pub password: String,
    /// What the user may do.
    pub role: Role,
    /// Tenants the user may see; all when absent.
    pub tenants: Option<Vec<String>>,
}

/// `[tenants.NAME]`: settings of SPEC 2.5; unset fields fall back to `[tenants."*"]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Seconds an answered call needs to be `Proper`.
    pub target_call_s: Option<u32>,
    /// Length of a sales cycle in days.
    pub sales_cycle_days: Option<u32>,
    /// Destination shown on refund records.
    pub refund_destination: Option<String>,
    /// Prefixes whose calls are not charged.
    pub excluded_numbers: Option<Vec<String>>,
    /// Days of CDRs to keep (0 = forever).
    pub retention_days: Option<u32>,
    /// ISO 3166 alpha-2 country for national numbers.
    pub default_country: Option<String>,
}

impl Config {
    /// Reads `path`, or `./cdrlake.toml` when `path` is `None` and that file exists.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_FILE).exists() => PathBuf::from(DEFAULT_FILE),
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Config {
            file: path.clone(),
            message: e.to_string(),
        })?;
        Config::parse(&text).map_err(|message| Error::Config {
            file: path,
            message,
        })
    }

    /// Parses and validates configuration text.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, u) in config.users.iter().enumerate() {
            if config.users[..i].iter().any(|o| o.name == u.name) {
                return Err(format!("user {} is declared twice", u.name));
            }
        }
        Ok(config)
    }
}

impl Config {
    /// The per-tenant settings, each field resolved: the tenant's own value, else the one
    /// under `[tenants."*"]`, else the built-in default of SPEC 2.5.
    pub fn settings(&self) -> Result<cdrlake_udfs::Settings> {
        let builtin = cdrlake_udfs::TenantSettings::default();
        let default = match self.tenants.get("*") {
            Some(star) => star.resolve(&builtin),
            None => builtin,
        };
        let mut tenants = BTreeMap::new();
        for (name, t) in self.tenants.iter().filter(|(name, _)| *name != "*") {
            tenants.insert(name.clone(), t.resolve(&default));
        }
        for (name, t) in
            std::iter::once(("*", &default)).chain(tenants.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if t.timezone.parse::<chrono_tz::Tz>().is_err() {
                return Err(Error::InvalidArgument(format!(
                    "tenant {name}: unknown time zone {:?} (an IANA name such as Europe/Amsterdam)",
                    t.timezone
                )));
            }
            if t.sales_cycle_days == 0 {
                return Err(Error::InvalidArgument(format!(
                    "tenant {name}: sales_cycle_days must be at least 1"
                )));
            }
        }
        Ok(cdrlake_udfs::Settings { default, tenants })
    }
}

impl TenantSettings {
    fn resolve(&self, base: &cdrlake_udfs::TenantSettings) -> cdrlake_udfs::TenantSettings {
        let base = base.clone();
        cdrlake_udfs::TenantSettings {
            timezone: self.timezone.clone().unwrap_or(base.timezone),
            target_call_s: self.target_call_s.unwrap_or(base.target_call_s),
            sales_cycle_days: self.sales_cycle_days.unwrap_or(base.sales_cycle_days),
            refund_destination: self
                .refund_destination
                .clone()
                .unwrap_or(base.refund_destination),
            excluded_numbers: self
                .excluded_numbers
                .clone()
                .unwrap_or(base.excluded_numbers),
            retention_days: self.retention_days.unwrap_or(base.retention_days),
            default_country: self.default_country.clone().unwrap_or(base.default_country),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_example_parses() {
        let config = Config::parse(
            r#"
            [server]
            listen = "127.0.0.1:5433"
            statement_timeout_s = 300
            [[users]]
            name = "alice"
            password = "secret"
            role = "analyst"
            tenants = ["acme"]
            [tenants.acme]
            timezone = "Europe/Amsterdam"
            excluded_numbers = ["0800"]
            "#,
        )
        .unwrap();
        assert_eq!(config.users[0].role, Role::Analyst);
        assert_eq!(
            config.tenants["acme"].excluded_numbers.as_deref(),
            Some(&["0800".to_string()][..])
        );
        assert!(Config::parse("[server]\nlisten = 5").is_err());
        let settings = config.settings().unwrap();
        assert_eq!(settings.for_tenant("acme").excluded_numbers, ["0800"]);
        assert_eq!(settings.for_tenant("acme").target_call_s, 30);
        assert_eq!(settings.for_tenant("other").timezone, "Europe/Amsterdam");
        assert!(Config::parse("[[users]]\nname='a'\npassword='p'\nrole='boss'").is_err());
    }
}
