//! Connections to RabbitMQ and NATS, and the names of queues and subjects. All names pass through
//! [`Names`], so one broker can host several isolated systems (each test uses its own namespace).

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use anyhow::Context;
use clap::Args;
use lapin::{Connection, ConnectionProperties};

pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

#[derive(Args, Clone, Debug)]
pub struct BrokerArgs {
    /// RabbitMQ URL, `amqp://USER:PASSWORD@HOST:PORT/VHOST` (`%2f` is the default vhost `/`).
    #[arg(long, env = "EMS_AMQP_URL", default_value = DEFAULT_AMQP_URL, hide_env_values = true)]
    pub amqp_url: String,

    /// NATS URL, `nats://HOST:PORT`; JetStream must be enabled on the server.
    #[arg(long, env = "EMS_NATS_URL", default_value = DEFAULT_NATS_URL)]
    pub nats_url: String,

    /// Prefix of every queue and subject name, to run several isolated systems on one broker.
    /// Empty: the standard names (`readings`, `ingest.1`, `ems.alerts.<user>`, ...).
    #[arg(long, env = "EMS_NAMESPACE", default_value = "", value_parser = parse_namespace)]
    pub namespace: String,

    /// How long to keep trying to reach RabbitMQ and NATS at start before giving up.
    #[arg(long, env = "EMS_BROKER_CONNECT_TIMEOUT", default_value = "30s", value_parser = crate::config::duration_between("0s", "1h"))]
    pub broker_connect_timeout: Duration,

    /// Type of the durable RabbitMQ queues (`readings`, `readings.invalid`, `ingest.N`): `classic`,
    /// or `quorum` for queues replicated over a RabbitMQ cluster. A queue keeps the type it was
    /// created with: to change it, delete the queues (once drained) or keep the old setting.
    #[arg(long, env = "EMS_QUEUE_TYPE", value_enum, default_value_t = QueueType::Classic)]
    pub queue_type: QueueType,
}

/// The RabbitMQ queue type of the project's durable queues.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueType {
    /// The broker's default queue type, declared without an `x-queue-type` argument, as queues
    /// created before this setting existed were.
    #[default]
    Classic,
    /// Replicated over the cluster's nodes (Raft); always durable, never exclusive or auto-delete.
    Quorum,
}

impl QueueType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classic => "classic",
            Self::Quorum => "quorum",
        }
    }

    /// The other type: with two types, the one an existing queue has when a declare of this
    /// type is refused for its `x-queue-type`.
    pub fn other(self) -> Self {
        match self {
            Self::Classic => Self::Quorum,
            Self::Quorum => Self::Classic,
        }
    }
}

impl std::fmt::Display for QueueType {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.write_str(self.as_str())
    }
}

fn parse_namespace(value: &str) -> Result<String, String> {
    if value.chars().all(|char| char.is_ascii_alphanumeric() || char == '-' || char == '_') {
        return Ok(value.to_owned());
    }
    Err("use only letters, digits, '-' and '_' (it prefixes queue and subject names)".into())
}

impl BrokerArgs {
    /// Local defaults with a namespace, for tests.
    pub fn local(namespace: &str) -> Self {
        Self {
            amqp_url: std::env::var("EMS_AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.into()),
            nats_url: std::env::var("EMS_NATS_URL").unwrap_or_else(|_| DEFAULT_NATS_URL.into()),
            namespace: namespace.into(),
            broker_connect_timeout: Duration::from_secs(10),
            queue_type: QueueType::Classic,
        }
    }

    pub fn names(&self) -> Names {
        Names { namespace: self.namespace.clone(), queue_type: self.queue_type }
    }

    /// Connects to RabbitMQ, retrying with backoff until the connect timeout.
    pub async fn amqp(&self, connection_name: &str) -> anyhow::Result<Connection> {
        use backon::Retryable;
        let properties = ConnectionProperties::default().with_connection_name(connection_name.into());
        let backoff = crate::retry::backoff(Duration::from_millis(200), Duration::from_secs(5))
            .without_max_times()
            .with_total_delay(Some(self.broker_connect_timeout));
        (|| Connection::connect(&self.amqp_url, properties.clone()))
            .retry(backoff)
            .notify(|error, delay| tracing::warn!(%error, "RabbitMQ is not reachable yet; retrying in {delay:?}"))
            .await
            .with_context(|| {
                format!(
                    "cannot connect to RabbitMQ at {} (--amqp-url / EMS_AMQP_URL); is it running?",
                    redact(&self.amqp_url)
                )
            })
    }

    /// Connects to RabbitMQ like [`BrokerArgs::amqp`], as an [`Amqp`] that can replace its
    /// connection when it is lost.
    pub async fn amqp_reconnecting(&self, connection_name: &str) -> anyhow::Result<Amqp> {
        let connection = self.amqp(connection_name).await?;
        Ok(Amqp {
            args: self.clone(),
            name: connection_name.to_owned(),
            current: Arc::new(RwLock::new(Arc::new(connection))),
            reconnecting: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Connects to NATS. The client reconnects by itself after a later disconnection.
    pub async fn nats(&self, connection_name: &str) -> anyhow::Result<async_nats::Client> {
        let options = async_nats::ConnectOptions::new()
            .name(connection_name)
            .connection_timeout(self.broker_connect_timeout)
            .retry_on_initial_connect();
        let connect = options.connect(&self.nats_url);
        match tokio::time::timeout(self.broker_connect_timeout, connect).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(error)) => Err(error).with_context(|| nats_unreachable(&self.nats_url)),
            Err(_) => Err(anyhow::anyhow!(nats_unreachable(&self.nats_url))),
        }
    }
}

/// A RabbitMQ connection shared by a process's services, replaced by a fresh one when RabbitMQ
/// goes away (lapin does not reconnect by itself). Consumers and publishers open their channels
/// on [`Amqp::connection`], and when their work fails on a [lost](is_lost) connection they call
/// [`Amqp::reconnect`] and start again: whatever was not acknowledged is redelivered, and every
/// consumer is idempotent.
#[derive(Clone)]
pub struct Amqp {
    args: BrokerArgs,
    name: String,
    current: Arc<RwLock<Arc<Connection>>>,
    /// Held while connecting, so that tasks which lost the connection together open one new one.
    reconnecting: Arc<tokio::sync::Mutex<()>>,
}

impl Amqp {
    /// The connection now in use (possibly lost: see [`Amqp::reconnect`]).
    pub fn connection(&self) -> Arc<Connection> {
        self.current.read().expect("the connection lock").clone()
    }

    pub fn is_connected(&self) -> bool {
        self.connection().status().connected()
    }

    /// A working connection in place of `lost`: the one another task opened already, or a new
    /// one, trying with backoff for as long as it takes. `None` when shutdown comes first.
    pub async fn reconnect(&self, lost: &Arc<Connection>, shutdown: &crate::Shutdown) -> Option<Arc<Connection>> {
        let _connecting = tokio::select! {
            guard = self.reconnecting.lock() => guard,
            () = shutdown.requested() => return None,
        };
        let current = self.connection();
        if !Arc::ptr_eq(&current, lost) && current.status().connected() {
            return Some(current);
        }
        let started = std::time::Instant::now();
        let mut failures = crate::retry::Failures::new(Duration::from_millis(200), Duration::from_secs(5));
        let properties = ConnectionProperties::default().with_connection_name(self.name.as_str().into());
        loop {
            let attempt = tokio::select! {
                attempt = Connection::connect(&self.args.amqp_url, properties.clone()) => attempt,
                () = shutdown.requested() => return None,
            };
            match attempt {
                Ok(connection) => {
                    let connection = Arc::new(connection);
                    *self.current.write().expect("the connection lock") = connection.clone();
                    metrics::counter!("amqp_reconnects_total").increment(1);
                    tracing::info!(after = ?started.elapsed(), "reconnected to RabbitMQ");
                    return Some(connection);
                }
                Err(error) => {
                    let pause = failures.failed();
                    tracing::warn!(%error, "RabbitMQ is not reachable yet; retrying in {pause:?}");
                    if !crate::retry::pause(pause, shutdown).await {
                        return None;
                    }
                }
            }
        }
    }

    pub async fn close(&self, reason: &str) {
        self.connection().close(200, reason.into()).await.ok();
    }

    /// For a process that only uses the connection now and then (the web service's queue
    /// depths): checks it every second and reconnects when it is lost, until `shutdown`.
    pub async fn keep_connected(self, shutdown: crate::Shutdown) -> anyhow::Result<()> {
        loop {
            if !crate::retry::pause(Duration::from_secs(1), &shutdown).await {
                return Ok(());
            }
            let connection = self.connection();
            if !connection.status().connected() && self.reconnect(&connection, &shutdown).await.is_none() {
                return Ok(());
            }
        }
    }
}

/// Whether `connection` is gone, so that work which failed on it should start again on a new
/// one. An error on a channel can arrive a moment before the connection's own state changes, so
/// a connection that still looks open is watched for a second before it counts as fine.
pub async fn is_lost(connection: &Connection) -> bool {
    for _ in 0..20 {
        if !connection.status().connected() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Creates (or finds) the JetStream stream behind `ems.chat.inbound`: file storage, so nothing a
/// user sends is lost while support is down, and a duplicate window in which a message resent with
/// the same `Nats-Msg-Id` is stored once.
pub async fn chat_stream(
    jetstream: &async_nats::jetstream::Context,
    names: &Names,
) -> anyhow::Result<async_nats::jetstream::stream::Stream> {
    use async_nats::jetstream::stream::{Config, StorageType};
    let config = Config {
        name: names.chat_stream(),
        subjects: vec![names.chat_inbound_subject()],
        storage: StorageType::File,
        max_age: Duration::from_secs(30 * 24 * 3600),
        duplicate_window: Duration::from_secs(120),
        ..Config::default()
    };
    jetstream.get_or_create_stream(config).await.map_err(|error| {
        anyhow::anyhow!(
            "cannot create the JetStream stream for chat (is JetStream enabled on NATS? start it with -js): {error}"
        )
    })
}

/// Publishes a chat event to the customer's connections and to every administrator: the one
/// place that decides who hears about a conversation.
pub async fn publish_chat_event(
    nats: &async_nats::Client,
    names: &Names,
    customer_id: uuid::Uuid,
    event: &crate::contracts::ChatEvent,
) {
    let payload = serde_json::to_vec(event).expect("chat events serialise");
    for subject in [names.chat_user_subject(customer_id), names.chat_admins_subject()] {
        if let Err(error) = nats.publish(subject, payload.clone().into()).await {
            tracing::warn!(%error, %customer_id, "publishing a chat event failed");
        }
    }
}

fn nats_unreachable(url: &str) -> String {
    format!("cannot connect to NATS at {url} (--nats-url / EMS_NATS_URL); is it running?")
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Queue and subject names, optionally inside a namespace, and the type the queues are declared
/// with (carried here so that every declarer, which already holds the names, declares alike).
#[derive(Clone, Debug, Default)]
pub struct Names {
    namespace: String,
    queue_type: QueueType,
}

impl Names {
    pub fn new(namespace: &str) -> Self {
        Self { namespace: namespace.to_owned(), queue_type: QueueType::Classic }
    }

    /// The same names, with queues declared as `queue_type`.
    pub fn with_queue_type(self, queue_type: QueueType) -> Self {
        Self { queue_type, ..self }
    }

    pub fn queue_type(&self) -> QueueType {
        self.queue_type
    }

    fn queue(&self, name: &str) -> String {
        if self.namespace.is_empty() { name.to_owned() } else { format!("{}.{name}", self.namespace) }
    }

    /// The first word of every subject and MQTT topic.
    fn root(&self) -> &str {
        if self.namespace.is_empty() { "ems" } else { &self.namespace }
    }

    fn subject(&self, rest: &str) -> String {
        format!("{}.{rest}", self.root())
    }

    /// The queue meters publish readings to.
    pub fn readings_queue(&self) -> String {
        self.queue("readings")
    }

    /// The MQTT topic meters publish readings to: `ems/readings`, or `<namespace>/readings`.
    pub fn mqtt_readings_topic(&self) -> String {
        format!("{}/readings", self.root())
    }

    /// The routing key RabbitMQ's MQTT plugin gives a message published on
    /// [`Names::mqtt_readings_topic`]: MQTT's `/` becomes AMQP's `.` (`ems.readings`).
    pub fn mqtt_readings_routing_key(&self) -> String {
        self.subject("readings")
    }

    /// Rejected messages, each with its reason in the `x-ems-reason` header.
    pub fn invalid_queue(&self) -> String {
        self.queue("readings.invalid")
    }

    /// The ingest queue of one monitor replica.
    pub fn ingest_queue(&self, replica: u32) -> String {
        self.queue(&format!("ingest.{replica}"))
    }

    pub fn alerts_subject(&self, user_id: uuid::Uuid) -> String {
        self.subject(&format!("alerts.{user_id}"))
    }

    pub fn devices_changed_subject(&self) -> String {
        self.subject("devices.changed")
    }

    pub fn users_changed_subject(&self) -> String {
        self.subject("users.changed")
    }

    pub fn heartbeat_subject(&self) -> String {
        self.subject("monitors.heartbeat")
    }

    /// Every user's alerts: one subscription serves all of a notifier's connections.
    pub fn alerts_wildcard(&self) -> String {
        self.subject("alerts.*")
    }

    /// What customers and administrators send to support (a JetStream subject).
    pub fn chat_inbound_subject(&self) -> String {
        self.subject("chat.inbound")
    }

    /// The JetStream stream holding `chat.inbound`.
    pub fn chat_stream(&self) -> String {
        let root = if self.namespace.is_empty() { "EMS" } else { &self.namespace };
        format!("{}_CHAT", root.to_uppercase().replace('-', "_"))
    }

    /// The JetStream key-value bucket of who is online on which notifier instance.
    pub fn presence_bucket(&self) -> String {
        let root = if self.namespace.is_empty() { "EMS" } else { &self.namespace };
        format!("{}_PRESENCE", root.to_uppercase().replace('-', "_"))
    }

    pub fn chat_user_subject(&self, user_id: uuid::Uuid) -> String {
        self.subject(&format!("chat.user.{user_id}"))
    }

    pub fn chat_user_wildcard(&self) -> String {
        self.subject("chat.user.*")
    }

    pub fn chat_admins_subject(&self) -> String {
        self.subject("chat.admins")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_names_follow_the_contract() {
        let names = Names::default();
        assert_eq!(names.readings_queue(), "readings");
        assert_eq!(names.invalid_queue(), "readings.invalid");
        assert_eq!(names.ingest_queue(2), "ingest.2");
        assert_eq!(names.heartbeat_subject(), "ems.monitors.heartbeat");
        assert_eq!(names.devices_changed_subject(), "ems.devices.changed");
        assert_eq!(names.chat_inbound_subject(), "ems.chat.inbound");
        assert_eq!(names.chat_admins_subject(), "ems.chat.admins");
        assert_eq!(names.chat_user_wildcard(), "ems.chat.user.*");
        assert_eq!(names.alerts_wildcard(), "ems.alerts.*");
        assert_eq!(
            (names.mqtt_readings_topic(), names.mqtt_readings_routing_key()),
            ("ems/readings".into(), "ems.readings".into())
        );
        let user = uuid::Uuid::nil();
        assert_eq!(names.alerts_subject(user), format!("ems.alerts.{user}"));
    }

    #[test]
    fn a_namespace_prefixes_every_name() {
        let names = Names::new("t1");
        assert_eq!(
            (names.readings_queue(), names.heartbeat_subject()),
            ("t1.readings".into(), "t1.monitors.heartbeat".into())
        );
        assert_eq!(names.mqtt_readings_topic(), "t1/readings");
    }

    #[test]
    fn passwords_are_removed_from_urls() {
        assert_eq!(redact("amqp://guest:secret@host:5672/%2f"), "amqp://guest@host:5672/%2f");
        assert_eq!(redact("nats://host:4222"), "nats://host:4222");
    }
}
