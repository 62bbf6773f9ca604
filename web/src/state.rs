//! The web service's configuration and the context every handler shares.

use std::{path::PathBuf, sync::Arc, time::Duration};

use clap::Args;
use ems_common::{
    JwtKeys,
    broker::{BrokerArgs, Names},
    config::{DatabaseArgs, HttpArgs, JwtArgs, LivenessArgs, duration_between},
    contracts::{ChatEvent, DeviceChanged},
};
use sqlx::PgPool;
use uuid::Uuid;

/// `ems web`: the shared pieces plus what only the web service has.
#[derive(Args, Clone, Debug)]
pub struct WebConfig {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub http: HttpArgs,

    #[command(flatten)]
    pub jwt: JwtArgs,

    #[command(flatten)]
    pub broker: BrokerArgs,

    #[command(flatten)]
    pub liveness: LivenessArgs,

    #[command(flatten)]
    pub web: WebArgs,
}

/// Settings only the web service has.
#[derive(Args, Clone, Debug)]
pub struct WebArgs {
    #[command(flatten)]
    pub login: LoginThrottleArgs,

    /// Folder of the built web dashboard (its `index.html` and assets), served at `/`.
    #[arg(long, env = "EMS_UI_DIR", default_value = "web/ui/dist")]
    pub ui_dir: PathBuf,

    /// Mark the refresh-token cookie `Secure` (sent over HTTPS only). Turn off only for a dashboard
    /// served over plain HTTP on an address other than localhost (browsers treat http://localhost
    /// and 127.0.0.1 as secure, so local use works with it on).
    #[arg(long, env = "EMS_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new())]
    pub cookie_secure: bool,
}

/// How password guessing is slowed down (see `throttle`), and how much password checking may
/// run at once.
#[derive(Args, Clone, Debug)]
pub struct LoginThrottleArgs {
    /// Failed logins in 15 minutes for one username from one address before that address is
    /// locked out of it for a while.
    #[arg(long, env = "EMS_LOGIN_MAX_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub login_max_failures: u32,

    /// Failed logins in 15 minutes from one address, over all usernames, before that address is
    /// locked out (slows a password sprayed over many accounts).
    #[arg(long, env = "EMS_LOGIN_MAX_FAILURES_PER_ADDRESS", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub login_max_failures_per_address: u32,

    /// Failed logins in 15 minutes for one username, from all addresses together, before it is
    /// locked for everyone (slows guessing spread over many addresses).
    #[arg(long, env = "EMS_LOGIN_MAX_FAILURES_PER_ACCOUNT", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub login_max_failures_per_account: u32,

    /// First lockout after too many failures; it doubles with each further failure, up to 15m.
    #[arg(long, env = "EMS_LOGIN_LOCKOUT", default_value = "30s", value_parser = duration_between("1s", "15m"))]
    pub login_lockout: Duration,

    /// Take the client's address from the last `X-Forwarded-For` entry: set it when EMS is
    /// reached only through a proxy that sets that header (Traefik in the stack), never otherwise,
    /// since clients could then pick their own address.
    #[arg(long, env = "EMS_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Password checks (argon2, about 19 MiB and tens of milliseconds each) that may run at once;
    /// default: the number of CPUs.
    #[arg(long, env = "EMS_PASSWORD_CHECKS", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub password_checks: Option<u32>,

    /// How long a login waits for a free password check before it is answered 429 with Retry-After.
    #[arg(long, env = "EMS_PASSWORD_CHECK_WAIT", default_value = "5s", value_parser = duration_between("0s", "1m"))]
    pub password_check_wait: Duration,
}

impl Default for LoginThrottleArgs {
    fn default() -> Self {
        Self {
            login_max_failures: 5,
            login_max_failures_per_address: 50,
            login_max_failures_per_account: 50,
            login_lockout: Duration::from_secs(30),
            trust_forwarded_for: false,
            password_checks: None,
            password_check_wait: Duration::from_secs(5),
        }
    }
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct ApiContext {
    pub pool: PgPool,
    pub jwt: JwtKeys,
    pub settings: Arc<Settings>,
    pub events: Events,
    /// Monitor replicas heard on NATS, for the system view.
    pub replicas: crate::system::Replicas,
    /// RabbitMQ, to read ingest queue depths for the system view.
    pub amqp: Option<ems_common::broker::Amqp>,
    /// Bounds the password checks of logins running at once.
    pub hashing: crate::passwords::Hashing,
    /// Accounts' current roles and token versions, to refuse stale access tokens.
    pub accounts: crate::accounts::Accounts,
}

/// Events the API publishes on NATS for the other services.
#[derive(Clone)]
pub struct Events {
    pub nats: async_nats::Client,
    pub names: Names,
}

impl Events {
    /// Tells the monitors to refresh a device (limit, owner, existence). Losing one is not fatal:
    /// monitors also reload every device periodically.
    pub async fn device_changed(&self, device_id: Uuid) {
        let payload = serde_json::to_vec(&DeviceChanged { device_id }).expect("an event serialises");
        if let Err(error) = self.nats.publish(self.names.devices_changed_subject(), payload.into()).await {
            tracing::warn!(%error, %device_id, "publishing a device change failed");
        }
    }

    /// Tells the customer's connections and every administrator about a chat event.
    pub async fn chat(&self, customer_id: Uuid, event: &ChatEvent) {
        ems_common::broker::publish_chat_event(&self.nats, &self.names, customer_id, event).await;
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub refresh_token_ttl: Duration,
    /// Whether the refresh-token cookie is marked `Secure`.
    pub cookie_secure: bool,
    pub login_max_failures: u32,
    pub login_max_failures_per_address: u32,
    pub login_max_failures_per_account: u32,
    pub login_lockout: Duration,
    pub trust_forwarded_for: bool,
}

impl Settings {
    /// The defaults, with a one-hour refresh token.
    pub fn for_tests() -> Self {
        Self::new(Duration::from_secs(3600), &LoginThrottleArgs::default())
    }

    fn new(refresh_token_ttl: Duration, login: &LoginThrottleArgs) -> Self {
        Self {
            refresh_token_ttl,
            cookie_secure: true,
            login_max_failures: login.login_max_failures,
            login_max_failures_per_address: login.login_max_failures_per_address,
            login_max_failures_per_account: login.login_max_failures_per_account,
            login_lockout: login.login_lockout,
            trust_forwarded_for: login.trust_forwarded_for,
        }
    }
}

impl ApiContext {
    /// Adds RabbitMQ, for the queue depths of the system view.
    pub fn with_amqp(mut self, amqp: ems_common::broker::Amqp) -> Self {
        self.amqp = Some(amqp);
        self
    }

    /// Sets whether the refresh-token cookie is marked `Secure` (on unless told otherwise).
    pub fn with_cookie_secure(mut self, secure: bool) -> Self {
        Arc::make_mut(&mut self.settings).cookie_secure = secure;
        self
    }

    pub fn new(pool: PgPool, jwt: JwtKeys, jwt_args: &JwtArgs, login: &LoginThrottleArgs, events: Events) -> Self {
        let settings = Settings::new(jwt_args.refresh_token_ttl, login);
        let hashing = crate::passwords::Hashing::new(login.password_checks, login.password_check_wait);
        Self {
            pool,
            jwt,
            settings: Arc::new(settings),
            events,
            replicas: Default::default(),
            amqp: None,
            hashing,
            accounts: Default::default(),
        }
    }
}
