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
}

/// How repeated failed logins for one username are slowed down.
#[derive(Args, Clone, Debug)]
pub struct LoginThrottleArgs {
    /// Failed logins in a row for one username before it is locked for a while.
    #[arg(long, env = "EMS_LOGIN_MAX_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub login_max_failures: u32,

    /// First lockout after too many failures; it doubles with each further failure, up to 15m.
    #[arg(long, env = "EMS_LOGIN_LOCKOUT", default_value = "30s", value_parser = duration_between("1s", "15m"))]
    pub login_lockout: Duration,
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
    pub amqp: Option<Arc<lapin::Connection>>,
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

#[derive(Debug)]
pub struct Settings {
    pub refresh_token_ttl: Duration,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
}

impl ApiContext {
    /// Adds RabbitMQ, for the queue depths of the system view.
    pub fn with_amqp(mut self, amqp: Arc<lapin::Connection>) -> Self {
        self.amqp = Some(amqp);
        self
    }

    pub fn new(pool: PgPool, jwt: JwtKeys, jwt_args: &JwtArgs, login: &LoginThrottleArgs, events: Events) -> Self {
        let settings = Settings {
            refresh_token_ttl: jwt_args.refresh_token_ttl,
            login_max_failures: login.login_max_failures,
            login_lockout: login.login_lockout,
        };
        Self { pool, jwt, settings: Arc::new(settings), events, replicas: Default::default(), amqp: None }
    }
}
