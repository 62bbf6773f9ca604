//! The notifier: `GET /ws` upgrades to a WebSocket authenticated with the API's access token,
//! then pushes the user's alerts and chat to every open connection of theirs, and takes their
//! chat frames to support over JetStream. The protocol is in docs/websocket.md.

mod connection;
pub mod hub;
pub mod limits;
pub mod presence;
pub mod protocol;
pub mod push;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, routing::get};
use clap::Args;
use ems_common::{
    JwtKeys, Shutdown,
    broker::{self, BrokerArgs, Names},
    config::{DatabaseArgs, HttpArgs, JwtArgs, duration_between, parse_duration},
    contracts::{ChatEvent, ChatInbound},
    db, ops,
    service::Service,
};
use sqlx::PgPool;

pub use hub::Hub;
pub use presence::Presence;

#[derive(Args, Clone, Debug)]
pub struct NotifierArgs {
    /// Events queued for one connection; while it is full, the connection misses typing and
    /// presence events, and the next alert or chat message cuts it off as too slow.
    #[arg(long, env = "EMS_WS_QUEUE", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub ws_queue: u32,

    /// How often the server pings each connection.
    #[arg(long, env = "EMS_WS_PING_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub ws_ping_interval: Duration,

    /// A connection from which nothing (not even a pong) is heard this long is closed.
    #[arg(long, env = "EMS_WS_IDLE_TIMEOUT", default_value = "75s", value_parser = parse_duration)]
    pub ws_idle_timeout: Duration,

    /// Longest a single frame may take to send before the client counts as gone.
    #[arg(long, env = "EMS_WS_SEND_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub ws_send_timeout: Duration,

    /// Read buffer per connection, in bytes (512 to 1048576): small keeps idle connections cheap.
    #[arg(long, env = "EMS_WS_BUFFER_BYTES", default_value_t = 2048, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(512..=1_048_576))]
    pub ws_buffer_bytes: usize,

    /// Most missed alerts replayed to a reconnecting client (0 to 10000): the newest ones, after a
    /// `replay.truncated` frame when there are more.
    #[arg(long, env = "EMS_WS_REPLAY_LIMIT", default_value_t = 200, value_parser = clap::value_parser!(i64).range(0..=10_000))]
    pub ws_replay_limit: i64,

    /// A notifier instance silent this long (1s to 10m) counts as gone: its customers show as
    /// offline unless connected to another one. Every instance rewrites its presence heartbeat
    /// three times per period; all instances must use the same value.
    #[arg(long, env = "EMS_PRESENCE_TIMEOUT", default_value = "15s", value_parser = duration_between("1s", "10m"))]
    pub presence_timeout: Duration,

    /// How push services can reach whoever runs this server (the VAPID `sub` claim): a
    /// `mailto:` or `https:` URL. Web Push sends alerts to customers whose dashboard is closed.
    #[arg(long, env = "EMS_VAPID_SUBJECT", default_value = "mailto:admin@localhost", value_parser = parse_vapid_subject)]
    pub vapid_subject: String,
}

fn parse_vapid_subject(value: &str) -> Result<String, String> {
    if value.starts_with("mailto:") || value.starts_with("https://") {
        Ok(value.to_owned())
    } else {
        Err(format!("must be a mailto: or https: URL (RFC 8292), such as mailto:ops@example.com; got {value:?}"))
    }
}

#[derive(Args, Clone, Debug)]
pub struct NotifierConfig {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,
    #[command(flatten)]
    pub notifier: NotifierArgs,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    pub send_timeout: Duration,
    pub buffer_bytes: usize,
    pub replay_limit: i64,
}

/// What every connection shares.
#[derive(Clone)]
pub struct NotifierState {
    pub hub: Hub,
    pub jwt: JwtKeys,
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub jetstream: async_nats::jetstream::Context,
    pub names: Names,
    pub settings: Arc<Settings>,
    pub shutdown: Shutdown,
    /// Accounts' current token versions: a token of a deleted or changed account cannot connect.
    pub accounts: ems_web::accounts::Accounts,
    /// Which customers are online on any notifier instance.
    pub presence: Presence,
    /// The presence task's part, taken by [`NotifierState::follow`].
    presence_follower: Arc<Mutex<Option<presence::Follower>>>,
}

impl NotifierState {
    /// Connects what the notifier needs besides the database, makes sure the chat stream and the
    /// presence bucket exist, and reads who is online on the other instances.
    pub async fn new(
        args: &NotifierArgs,
        jwt: JwtKeys,
        pool: PgPool,
        nats: async_nats::Client,
        names: Names,
        shutdown: Shutdown,
    ) -> anyhow::Result<Self> {
        let jetstream = async_nats::jetstream::new(nats.clone());
        broker::chat_stream(&jetstream, &names).await?;
        let settings = Settings {
            ping_interval: args.ws_ping_interval,
            idle_timeout: args.ws_idle_timeout,
            send_timeout: args.ws_send_timeout,
            buffer_bytes: args.ws_buffer_bytes,
            replay_limit: args.ws_replay_limit,
        };
        let (changes, changed) = tokio::sync::mpsc::unbounded_channel();
        let hub = Hub::new(args.ws_queue as usize).reporting_presence(changes);
        let (presence, follower) = presence::start(&jetstream, &names, args.presence_timeout, changed).await?;
        let accounts = Default::default();
        Ok(Self {
            hub,
            jwt,
            pool,
            nats,
            jetstream,
            names,
            settings: Arc::new(settings),
            shutdown,
            accounts,
            presence,
            presence_follower: Arc::new(Mutex::new(Some(follower))),
        })
    }

    /// Subscribes and starts the fan-out from NATS to this instance's connections, and the
    /// presence task; the task returned ends when either does.
    pub async fn follow(&self) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
        let (nats, names, accounts) = (self.nats.clone(), self.names.clone(), self.accounts.clone());
        let fanout = self.hub.clone().follow(nats, names, accounts, self.shutdown.clone()).await?;
        let follower = self.presence_follower.lock().expect("presence lock").take();
        let follower = follower.ok_or_else(|| anyhow::anyhow!("the notifier already follows its events"))?;
        let presence = tokio::spawn(presence::follow(follower, self.hub.clone(), self.shutdown.clone()));
        Ok(tokio::spawn(async move {
            tokio::select! {
                ended = fanout => ended?,
                ended = presence => ended?,
            }
        }))
    }

    async fn publish_event(&self, subject: &str, event: &ChatEvent) {
        let payload = serde_json::to_vec(event).expect("events serialise");
        if let Err(error) = self.nats.publish(subject.to_owned(), payload.into()).await {
            tracing::warn!(%error, subject, "publishing a chat event failed");
        }
    }

    /// Puts a frame on the durable chat stream and waits for JetStream to store it.
    async fn send_inbound(&self, inbound: &ChatInbound, message_id: &str) -> anyhow::Result<()> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message_id);
        let payload = serde_json::to_vec(inbound)?;
        let acknowledgement =
            self.jetstream.publish_with_headers(self.names.chat_inbound_subject(), headers, payload.into()).await?;
        tokio::time::timeout(Duration::from_secs(5), acknowledgement)
            .await
            .map_err(|_| anyhow::anyhow!("JetStream did not confirm in 5s"))??;
        Ok(())
    }
}

/// `/ws`, to merge into a process's router.
pub fn router(state: NotifierState) -> Router {
    Router::new().route("/ws", get(connection::upgrade)).with_state(state)
}

/// The notifier as a service: `/ws` and the fan-out from NATS to this instance's connections,
/// ready while PostgreSQL (for replays) and NATS answer.
pub async fn service(
    args: &NotifierArgs,
    jwt: JwtKeys,
    pool: PgPool,
    nats: async_nats::Client,
    names: Names,
    shutdown: Shutdown,
) -> anyhow::Result<Service> {
    let readiness = ops::Readiness::new().with_postgres(pool.clone()).with_nats(nats.clone());
    let sender = push::run_sender(pool.clone(), args.vapid_subject.clone(), shutdown.clone());
    let state = NotifierState::new(args, jwt, pool, nats, names, shutdown).await?;
    let fanout = state.follow().await?;
    Ok(Service::new("notifier")
        .routes(router(state))
        .ready_when(readiness)
        .task("notifier fan-out", async move { fanout.await? })
        .task("push sender", sender))
}

/// `ems notifier`: the WebSocket endpoint with its operations endpoints.
pub async fn run(config: NotifierConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let jwt = config.jwt.keys()?;
    let pool = db::connect_and_migrate(&config.database).await?;
    let nats = config.broker.nats("ems-notifier").await?;
    let notifier = service(&config.notifier, jwt, pool.clone(), nats, config.broker.names(), shutdown.clone()).await?;
    let result = ems_common::service::serve(&config.http, vec![notifier], shutdown).await;
    pool.close().await;
    result
}
