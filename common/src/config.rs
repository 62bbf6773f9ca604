//! Configuration pieces shared by the services, as `clap` argument groups. Every setting is
//! layered the same way: a built-in default, then an `EMS_*` environment variable, then the
//! command-line flag. Values are parsed and checked at start, and a bad one stops the process
//! with a message naming the flag, its variable and what is expected.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;

use crate::{jwt::JwtKeys, telemetry::LogFormat};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/ems";

/// Logging, common to every subcommand.
#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// Log line format: `human` for a terminal, `json` for log collectors.
    #[arg(long, env = "EMS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,

    /// Log filter in `RUST_LOG` syntax, e.g. `info` or `info,ems_web=debug`.
    #[arg(long = "log", env = "EMS_LOG", default_value = "info,sqlx=warn", global = true)]
    pub log_filter: String,
}

/// The PostgreSQL connection.
#[derive(Args, Clone, Debug)]
pub struct DatabaseArgs {
    /// PostgreSQL URL, `postgres://USER:PASSWORD@HOST:PORT/DATABASE`. The database is created
    /// if it does not exist yet.
    #[arg(
        long = "database-url",
        env = "EMS_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        value_parser = parse_database_url,
        hide_env_values = true,
        hide_default_value = false
    )]
    pub database_url: DatabaseUrl,

    /// Largest number of pooled PostgreSQL connections this process opens.
    #[arg(long, env = "EMS_DB_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub db_max_connections: u32,

    /// How long to wait for a PostgreSQL connection before giving up, e.g. `5s`.
    #[arg(long, env = "EMS_DB_CONNECT_TIMEOUT", default_value = "5s", value_parser = duration_between("100ms", "10m"))]
    pub db_connect_timeout: Duration,
}

/// A parsed PostgreSQL URL whose `Debug` never shows the password.
#[derive(Clone)]
pub struct DatabaseUrl {
    pub options: PgConnectOptions,
    /// The URL as given, for child processes that need the same server.
    raw: Option<SecretString>,
}

impl DatabaseUrl {
    pub fn new(options: PgConnectOptions) -> Self {
        Self { options, raw: None }
    }

    /// The URL as given but naming another database on the same server.
    pub fn url_for(&self, database: &str) -> String {
        let raw = self.raw.as_ref().map(|raw| raw.expose_secret().to_owned()).unwrap_or_else(|| {
            let options = &self.options;
            format!("postgres://{}@{}:{}/", options.get_username(), options.get_host(), options.get_port())
        });
        let (without_query, query) =
            raw.split_once('?').map_or((raw.as_str(), None), |(url, query)| (url, Some(query)));
        let base = without_query.rsplit_once('/').map_or(without_query, |(base, _)| base);
        match query {
            Some(query) => format!("{base}/{database}?{query}"),
            None => format!("{base}/{database}"),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "postgres://{}@{}:{}/{}",
            self.options.get_username(),
            self.options.get_host(),
            self.options.get_port(),
            self.options.get_database().unwrap_or("")
        )
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, formatter)
    }
}

pub fn parse_database_url(value: &str) -> Result<DatabaseUrl, String> {
    if !(value.starts_with("postgres://") || value.starts_with("postgresql://")) {
        return Err("expected a URL starting with postgres:// (for example \
             postgres://postgres:postgres@127.0.0.1:5432/ems)"
            .into());
    }
    let options = PgConnectOptions::from_str(value).map_err(|error| format!("not a valid PostgreSQL URL: {error}"))?;
    if options.get_database().is_none_or(str::is_empty) {
        return Err("the URL names no database; add one after the last slash, e.g. .../ems".into());
    }
    Ok(DatabaseUrl { options, raw: Some(value.into()) })
}

/// How the readers of the monitors' heartbeats (the balancer and the system view) tell that a
/// replica is live, so both see the same replicas.
#[derive(Args, Clone, Debug)]
pub struct LivenessArgs {
    /// A monitor replica silent this long leaves the balancer's rotation and is shown as not live.
    #[arg(long, env = "EMS_REPLICA_TIMEOUT", default_value = "3s", value_parser = duration_between("100ms", "10m"))]
    pub replica_timeout: Duration,
}

impl Default for LivenessArgs {
    fn default() -> Self {
        Self { replica_timeout: Duration::from_secs(3) }
    }
}

/// The HTTP listener of a service.
#[derive(Args, Clone, Debug)]
pub struct HttpArgs {
    /// Address and port to listen on, e.g. `0.0.0.0:8080`. Port 0 picks a free port.
    #[arg(long, env = "EMS_LISTEN", default_value = "127.0.0.1:8080", value_parser = parse_socket_addr)]
    pub listen: SocketAddr,

    /// How long in-flight requests may take to finish after SIGTERM before they are cut, e.g. `10s`.
    #[arg(long, env = "EMS_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = duration_between("0s", "10m"))]
    pub shutdown_timeout: Duration,

    /// How long a request may take before it is answered with 503, between 1s and 10m, e.g. `30s`.
    #[arg(long, env = "EMS_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_request_timeout)]
    pub request_timeout: Duration,

    /// Send `Strict-Transport-Security` with this max-age, e.g. `365d`: set it only where EMS is
    /// reached over HTTPS (a TLS-terminating proxy in front), since browsers then refuse plain HTTP.
    #[arg(long, env = "EMS_HSTS_MAX_AGE", value_parser = duration_between("1m", "730d"))]
    pub hsts_max_age: Option<Duration>,

    /// Serve `/metrics` (with `/livez` and `/readyz`) on this separate operations address, e.g.
    /// `0.0.0.0:9464`, for Prometheus, and not on `--listen`. Unset: `/metrics` is served on
    /// `--listen` only to this machine (loopback, not through a proxy).
    #[arg(long, env = "EMS_METRICS_LISTEN", value_parser = parse_socket_addr)]
    pub metrics_listen: Option<SocketAddr>,
}

impl HttpArgs {
    /// Settings for a listener that tests bind themselves (port 0), with the defaults otherwise.
    pub fn for_tests() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            shutdown_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            hsts_max_age: None,
            metrics_listen: None,
        }
    }
}

fn parse_request_timeout(value: &str) -> Result<Duration, String> {
    parse_duration_within(value, Duration::from_secs(1), Duration::from_secs(600))
}

pub fn parse_socket_addr(value: &str) -> Result<SocketAddr, String> {
    SocketAddr::from_str(value)
        .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:8080 or 0.0.0.0:8080, got {value:?}"))
}

/// A human duration: `90s`, `15m`, `12h`, `30d`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|error| format!("expected a duration such as 30s, 15m, 12h or 30d ({error})"))
}

/// Signing and lifetimes of the tokens the API issues and every service verifies.
#[derive(Args, Clone, Debug)]
pub struct JwtArgs {
    /// Secret that signs access tokens (HS256), at least 32 bytes. Every web and notifier
    /// instance must share it. If neither this nor `--jwt-secret-file` is set, a random
    /// secret is generated, and tokens stop working when the process restarts.
    #[arg(long, env = "EMS_JWT_SECRET", hide_env_values = true, conflicts_with = "jwt_secret_file")]
    pub jwt_secret: Option<SecretString>,

    /// File holding the JWT secret (for Docker secrets, e.g. `/run/secrets/jwt_secret`).
    #[arg(long, env = "EMS_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// Lifetime of an access token, between 1m and 24h.
    #[arg(long, env = "EMS_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_access_ttl)]
    pub access_token_ttl: Duration,

    /// Lifetime of a refresh token, between 1h and 365d. Each use rotates it.
    #[arg(long, env = "EMS_REFRESH_TOKEN_TTL", default_value = "30d", value_parser = parse_refresh_ttl)]
    pub refresh_token_ttl: Duration,
}

/// A value parser for a duration between `min` and `max` (given as `30s`, `15m`, ...), whose
/// error names the range, so a setting out of range stops the process at start, not later.
pub fn duration_between(
    min: &'static str,
    max: &'static str,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    let (min, max) = (
        humantime::parse_duration(min).expect("a valid minimum"),
        humantime::parse_duration(max).expect("a valid maximum"),
    );
    move |value| parse_duration_within(value, min, max)
}

fn parse_duration_within(value: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let duration = parse_duration(value)?;
    if duration < min || duration > max {
        return Err(format!(
            "must be between {} and {}, got {}",
            humantime::format_duration(min),
            humantime::format_duration(max),
            humantime::format_duration(duration)
        ));
    }
    Ok(duration)
}

fn parse_access_ttl(value: &str) -> Result<Duration, String> {
    parse_duration_within(value, Duration::from_secs(60), Duration::from_secs(24 * 3600))
}

fn parse_refresh_ttl(value: &str) -> Result<Duration, String> {
    parse_duration_within(value, Duration::from_secs(3600), Duration::from_secs(365 * 24 * 3600))
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl JwtArgs {
    /// Loads and checks the secret and builds the signing keys.
    pub fn keys(&self) -> anyhow::Result<JwtKeys> {
        let secret: String = match (&self.jwt_secret, &self.jwt_secret_file) {
            (Some(secret), _) => secret.expose_secret().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|error| {
                    anyhow::anyhow!(
                        "cannot read the JWT secret file {} (--jwt-secret-file / EMS_JWT_SECRET_FILE): {error}",
                        path.display()
                    )
                })?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
            (None, None) => {
                tracing::warn!(
                    "no EMS_JWT_SECRET set: using a random one; sessions end when this process \
                     restarts and other instances will not accept its tokens"
                );
                return Ok(JwtKeys::random(self.access_token_ttl));
            }
        };
        if secret.len() < MIN_JWT_SECRET_BYTES {
            anyhow::bail!(
                "the JWT secret (--jwt-secret / EMS_JWT_SECRET) is {} bytes long; it must be at least \
                 {MIN_JWT_SECRET_BYTES}. Generate one with: openssl rand -base64 48",
                secret.len()
            );
        }
        Ok(JwtKeys::new(secret.as_bytes(), self.access_token_ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_without_database_is_rejected_with_a_hint() {
        let error = parse_database_url("postgres://127.0.0.1:5432").unwrap_err();
        assert!(error.contains("names no database"), "{error}");
    }

    #[test]
    fn database_url_of_another_engine_is_rejected() {
        let error = parse_database_url("mysql://root@localhost/ems").unwrap_err();
        assert!(error.contains("postgres://"), "{error}");
    }

    #[test]
    fn database_url_debug_hides_the_password() {
        let url = parse_database_url("postgres://ems:hunter2@db:5432/ems").unwrap();
        let shown = format!("{url:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("ems@db:5432/ems"), "{shown}");
    }

    #[test]
    fn the_url_can_name_another_database_on_the_same_server() {
        let url = parse_database_url("postgres://ems:pw@db:5432/ems?sslmode=disable").unwrap();
        assert_eq!(url.url_for("other"), "postgres://ems:pw@db:5432/other?sslmode=disable");
    }

    #[test]
    fn token_lifetimes_outside_their_range_are_rejected() {
        assert!(parse_access_ttl("30s").unwrap_err().contains("between 1m and 1day"));
        assert_eq!(parse_access_ttl("15m").unwrap(), Duration::from_secs(900));
        assert!(parse_refresh_ttl("2years").is_err());
        assert!(parse_duration("soon").unwrap_err().contains("such as 30s"));
    }
}
