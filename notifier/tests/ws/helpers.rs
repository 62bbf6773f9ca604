//! A notifier on port 0 with its own database and NATS namespace, and real WebSocket clients.

use std::time::Duration;

use chrono::Utc;
use ems_common::{
    JwtKeys, Role, Shutdown,
    broker::BrokerArgs,
    contracts::{AlertEvent, AlertKind},
    http,
    testing::TestDatabase,
};
use ems_notifier::{NotifierArgs, NotifierState};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, protocol::frame::coding::CloseCode},
};
use uuid::Uuid;

pub const WAIT: Duration = Duration::from_secs(10);

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Notifier {
    pub address: String,
    pub shutdown: Shutdown,
    /// What issuing a ticket needs, as the web service has it.
    pool: PgPool,
    jwt: JwtKeys,
}

pub struct Setup {
    pub pool: PgPool,
    pub broker: BrokerArgs,
    pub nats: async_nats::Client,
    pub jwt: JwtKeys,
    _database: TestDatabase,
}

pub fn args() -> NotifierArgs {
    NotifierArgs {
        ws_queue: 64,
        ws_ping_interval: Duration::from_secs(30),
        ws_idle_timeout: Duration::from_secs(75),
        ws_send_timeout: Duration::from_secs(5),
        ws_buffer_bytes: 2048,
        ws_replay_limit: 200,
        presence_timeout: Duration::from_secs(15),
        vapid_subject: "mailto:test@localhost".into(),
    }
}

impl Setup {
    pub async fn new() -> Self {
        let database = TestDatabase::create().await;
        let pool = database.pool.clone();
        let broker = BrokerArgs::local(&format!("t{}", &Uuid::new_v4().simple().to_string()[..12]));
        let nats = broker.nats("notifier-test").await.unwrap();
        let jwt = JwtKeys::new(b"notifier-test-secret-notifier-test!!", Duration::from_secs(600));
        Self { pool, broker, nats, jwt, _database: database }
    }

    /// Starts a notifier instance sharing this setup's database, namespace and secret.
    pub async fn notifier(&self, args: NotifierArgs) -> Notifier {
        let shutdown = Shutdown::new();
        let state = NotifierState::new(
            &args,
            self.jwt.clone(),
            self.pool.clone(),
            self.nats.clone(),
            self.broker.names(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        state.follow().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("ws://{}/ws", listener.local_addr().unwrap());
        tokio::spawn(http::serve(listener, ems_notifier::router(state), shutdown.clone(), Duration::from_secs(2)));
        // The fan-out's subscriptions are sent; a round trip on our connection makes sure the server
        // has them before tests publish.
        self.nats.flush().await.unwrap();
        Notifier { address, shutdown, pool: self.pool.clone(), jwt: self.jwt.clone() }
    }

    /// An access token for `user`, whose account is created with `role` if it does not exist
    /// yet (the notifier accepts tokens of existing accounts only).
    pub async fn token(&self, user: Uuid, role: Role) -> String {
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, role) \
             VALUES ($1, replace($1::text, '-', ''), 'Test User', 'x', $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(user)
        .bind(role)
        .execute(&self.pool)
        .await
        .unwrap();
        self.jwt.issue(user, role, "Test User").unwrap()
    }

    /// A new device ("Oven", 2 kWh an hour) owned by `owner`.
    pub async fn device(&self, owner: Uuid) -> Uuid {
        let device = Uuid::new_v4();
        sqlx::query("INSERT INTO devices (id, name, max_hourly_kwh, owner_id) VALUES ($1, 'Oven', 2, $2)")
            .bind(device)
            .bind(owner)
            .execute(&self.pool)
            .await
            .unwrap();
        device
    }

    /// Stores a peak alert of `device` for `user`, `hours_ago` hours back, as a monitor would
    /// (without publishing it): what a reconnecting client has missed. Returns its id.
    pub async fn stored_alert(&self, device: Uuid, user: Uuid, hours_ago: i32) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO alerts (device_id, user_id, kind, hour, value, limit_kwh, message) \
             VALUES ($1, $2, 'peak', now() - make_interval(hours => $3), 3, 2, 'missed') RETURNING id",
        )
        .bind(device)
        .bind(user)
        .bind(hours_ago)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    pub async fn user(&self, username: &str, role: Role) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, username, display_name, password_hash, role) VALUES ($1, $2, $2, 'x', $3)")
            .bind(id)
            .bind(username)
            .bind(role)
            .execute(&self.pool)
            .await
            .unwrap();
        id
    }
}

impl Notifier {
    /// A WebSocket ticket for the holder of `token`, as `POST /api/ws-ticket` gives it.
    pub async fn ticket(&self, token: &str) -> String {
        let claims = self.jwt.verify(token).unwrap();
        ems_web::tickets::issue_for(&self.pool, &claims).await.unwrap().ticket
    }
}

/// Opens a connection with a new ticket for `token` (what a browser does) and reads the hello
/// frame (and, for an administrator, the presence snapshot).
pub async fn connect(notifier: &Notifier, token: &str, query: &str) -> Client {
    connect_with_snapshot(notifier, token, query).await.0
}

/// Connects with a new ticket and reads the hello frame and, for an administrator, the presence
/// snapshot after it.
pub async fn connect_with_snapshot(notifier: &Notifier, token: &str, query: &str) -> (Client, Option<Value>) {
    let mut client = open(&format!("{}?ticket={}{query}", notifier.address, notifier.ticket(token).await)).await;
    let hello = next_frame(&mut client).await;
    assert_eq!(hello["type"], "hello");
    if hello["role"] != "admin" {
        return (client, None);
    }
    let snapshot = next_frame(&mut client).await;
    assert_eq!(snapshot["type"], "presence.snapshot", "an administrator's second frame: {snapshot}");
    (client, Some(snapshot))
}

/// Opens a connection to `url`, without reading anything.
pub async fn open(url: &str) -> Client {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// Opens a connection to `url` with `Authorization: Bearer <token>` (what programs may do),
/// without reading anything.
pub async fn open_with_bearer(url: &str, token: &str) -> Client {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next JSON frame, failing the test after a timeout.
pub async fn next_frame(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(WAIT, client.next())
            .await
            .expect("a frame within the timeout")
            .expect("open")
            .unwrap();
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

pub async fn send(client: &mut Client, frame: Value) {
    client.send(Message::Text(frame.to_string().into())).await.unwrap();
}

pub trait NotifierArgsExt {
    fn with_queue(self, queue: u32) -> Self;
}

impl NotifierArgsExt for NotifierArgs {
    fn with_queue(mut self, queue: u32) -> Self {
        self.ws_queue = queue;
        self
    }
}

pub fn alert(id: i64, user: Uuid, message: &str) -> AlertEvent {
    AlertEvent {
        id,
        device_id: Uuid::new_v4(),
        device_name: "Oven".into(),
        user_id: Some(user),
        kind: AlertKind::Overconsumption,
        hour: Utc::now(),
        value: 3.0,
        limit_kwh: 2.0,
        reading_at: None,
        interval_s: None,
        snoozed: false,
        message: message.into(),
        created_at: Utc::now(),
    }
}

pub async fn publish_alert(setup: &Setup, user: Uuid, alert: &AlertEvent) {
    setup
        .nats
        .publish(setup.broker.names().alerts_subject(user), serde_json::to_vec(alert).unwrap().into())
        .await
        .unwrap();
    setup.nats.flush().await.unwrap();
}

/// Reads past frames to the close frame: its code and reason.
pub async fn close_code(client: &mut Client) -> (CloseCode, String) {
    loop {
        match tokio::time::timeout(WAIT, client.next()).await.expect("closed within the timeout") {
            Some(Ok(Message::Close(Some(frame)))) => return (frame.code, frame.reason.to_string()),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
