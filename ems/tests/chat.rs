//! Support chat end to end: real WebSocket clients, the notifier, the support service consuming
//! JetStream, PostgreSQL. Rules answer, a person can be asked for, an administrator replies live,
//! typing and read receipts go both ways, and a message sent while support is down is answered
//! once after it restarts.

use std::time::Duration;

use ems_common::{JwtKeys, Role, Shutdown, broker::BrokerArgs, http, testing::TestDatabase};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(15);

struct Chat {
    pool: PgPool,
    broker: BrokerArgs,
    nats: async_nats::Client,
    jwt: JwtKeys,
    url: String,
    support: Option<(Shutdown, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    _database: TestDatabase,
}

impl Chat {
    async fn new() -> Self {
        let database = TestDatabase::create().await;
        let pool = database.pool.clone();
        let broker = BrokerArgs::local(&format!("t{}", &Uuid::new_v4().simple().to_string()[..12]));
        let nats = broker.nats("chat-test").await.unwrap();
        let jwt = JwtKeys::new(b"chat-test-secret-chat-test-secret!!!", Duration::from_secs(600));

        let notifier_args = ems_notifier::NotifierArgs {
            ws_queue: 64,
            ws_ping_interval: Duration::from_secs(30),
            ws_idle_timeout: Duration::from_secs(75),
            ws_send_timeout: Duration::from_secs(5),
            ws_buffer_bytes: 2048,
            ws_replay_limit: 200,
            presence_timeout: Duration::from_secs(15),
            vapid_subject: "mailto:test@localhost".into(),
        };
        let state = ems_notifier::NotifierState::new(
            &notifier_args,
            jwt.clone(),
            pool.clone(),
            nats.clone(),
            broker.names(),
            Shutdown::new(),
        )
        .await
        .unwrap();
        state.follow().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws", listener.local_addr().unwrap());
        tokio::spawn(http::serve(listener, ems_notifier::router(state), Shutdown::new(), Duration::from_secs(1)));
        let mut chat = Self { pool, broker, nats, jwt, url, support: None, _database: database };
        chat.start_support();
        chat
    }

    fn start_support(&mut self) {
        let args = <SupportCli as clap::Parser>::parse_from(["support"]).support;
        let shutdown = Shutdown::new();
        let (pool, nats, names, stop) = (self.pool.clone(), self.nats.clone(), self.broker.names(), shutdown.clone());
        let task = tokio::spawn(async move { ems_support::run_worker(&args, pool, nats, names, stop).await });
        self.support = Some((shutdown, task));
    }

    async fn stop_support(&mut self) {
        let (shutdown, task) = self.support.take().unwrap();
        shutdown.trigger();
        task.await.unwrap().unwrap();
    }

    async fn user(&self, username: &str, role: Role) -> (Uuid, String) {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, username, display_name, password_hash, role) VALUES ($1, $2, $2, 'x', $3)")
            .bind(id)
            .bind(username)
            .bind(role)
            .execute(&self.pool)
            .await
            .unwrap();
        (id, self.jwt.issue(id, role, username).unwrap())
    }

    /// Connects as the dashboard does: with a ticket for `token` (as `POST /api/ws-ticket` gives it).
    async fn connect(&self, token: &str) -> Client {
        let claims = self.jwt.verify(token).unwrap();
        let ticket = ems_web::tickets::issue_for(&self.pool, &claims).await.unwrap().ticket;
        let (mut client, _) = tokio_tungstenite::connect_async(format!("{}?ticket={ticket}", self.url)).await.unwrap();
        assert_eq!(frame(&mut client).await["type"], "hello");
        client
    }
}

#[derive(clap::Parser)]
struct SupportCli {
    #[command(flatten)]
    support: ems_support::SupportArgs,
}

async fn frame(client: &mut Client) -> Value {
    loop {
        match tokio::time::timeout(WAIT, client.next()).await.expect("a frame in time").expect("open").unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The next frame of this type, skipping others (presence, typing, ...).
async fn next_of(client: &mut Client, kind: &str) -> Value {
    loop {
        let frame = frame(client).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

/// The next chat message from this source, skipping others.
async fn message_from(client: &mut Client, source: &str) -> Value {
    loop {
        let frame = next_of(client, "chat.message").await;
        if frame["message"]["source"] == source {
            return frame["message"].clone();
        }
    }
}

async fn send(client: &mut Client, frame: Value) {
    client.send(Message::Text(frame.to_string().into())).await.unwrap();
}

#[tokio::test]
async fn a_rule_answers_then_a_person_is_asked_for_and_an_administrator_replies_live() {
    let chat = Chat::new().await;
    let (ana, ana_token) = chat.user("ana", Role::Client).await;
    let (admin_id, admin_token) = chat.user("root", Role::Admin).await;
    let mut customer = chat.connect(&ana_token).await;
    let mut admin = chat.connect(&admin_token).await;

    send(&mut customer, json!({"type": "chat.send", "client_id": "c1", "text": "Hello"})).await;
    assert_eq!(next_of(&mut customer, "ack").await["client_id"], "c1");
    let mine = message_from(&mut customer, "customer").await;
    assert_eq!(mine["body"], "Hello");
    let answer = message_from(&mut customer, "rule").await;
    assert!(!answer["body"].as_str().unwrap().is_empty());
    assert_eq!(message_from(&mut admin, "rule").await["customer_id"], ana.to_string(), "administrators see it live");

    send(&mut customer, json!({"type": "chat.send", "client_id": "c2", "text": "I want to talk to a person"})).await;
    let notice = message_from(&mut customer, "system").await;
    assert!(notice["body"].as_str().unwrap().len() > 10, "the customer is told an administrator will answer");
    assert_eq!(next_of(&mut customer, "chat.mode").await["mode"], "human");

    send(&mut admin, json!({"type": "chat.typing", "typing": true, "customer_id": ana})).await;
    assert_eq!(next_of(&mut customer, "chat.typing").await["role"], "admin");
    send(&mut admin, json!({"type": "chat.send", "client_id": "a1", "text": "Hi Ana, I'm here.", "customer_id": ana}))
        .await;
    let reply = message_from(&mut customer, "admin").await;
    assert_eq!(reply["body"], "Hi Ana, I'm here.");
    // The conversation was waiting for whoever answers first (a person, no administrator yet)...
    let waiting = next_of(&mut admin, "chat.mode").await;
    assert_eq!((waiting["mode"].clone(), waiting["admin_id"].clone()), (json!("human"), Value::Null));
    // ...and now this administrator answers it.
    let taken = next_of(&mut admin, "chat.mode").await;
    let taken = (taken["customer_id"].clone(), taken["mode"].clone(), taken["admin_id"].clone());
    assert_eq!(taken, (json!(ana), json!("human"), json!(admin_id)));

    send(&mut customer, json!({"type": "chat.typing", "typing": true})).await;
    assert_eq!(next_of(&mut admin, "chat.typing").await["customer_id"], ana.to_string());
    send(&mut customer, json!({"type": "chat.read", "up_to_id": reply["id"]})).await;
    let receipt = next_of(&mut admin, "chat.read").await;
    assert_eq!((receipt["role"].as_str(), receipt["up_to_id"].clone()), (Some("client"), reply["id"].clone()));

    // In human mode the bot stays quiet: the next customer message gets no automatic answer.
    send(&mut customer, json!({"type": "chat.send", "client_id": "c3", "text": "thanks"})).await;
    message_from(&mut admin, "customer").await;
    let sources: Vec<String> =
        sqlx::query_scalar("SELECT source::text FROM chat_messages ORDER BY id").fetch_all(&chat.pool).await.unwrap();
    assert_eq!(sources, ["customer", "rule", "customer", "system", "admin", "customer"]);
}

#[tokio::test]
async fn a_message_sent_while_support_is_down_is_answered_once_after_it_restarts() {
    let mut chat = Chat::new().await;
    let (_, ana_token) = chat.user("ana", Role::Client).await;
    let mut customer = chat.connect(&ana_token).await;
    chat.stop_support().await;

    for _ in 0..2 {
        // Sent twice with one client id, as a client does when an ack is slow to come.
        send(&mut customer, json!({"type": "chat.send", "client_id": "while-down", "text": "hello"})).await;
        assert_eq!(next_of(&mut customer, "ack").await["client_id"], "while-down");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_messages").fetch_one(&chat.pool).await.unwrap();
    assert_eq!(stored, 0, "support is down: nothing is stored yet, but nothing is lost either");

    chat.start_support();
    message_from(&mut customer, "rule").await;
    send(&mut customer, json!({"type": "chat.send", "client_id": "after", "text": "thank you"})).await;
    message_from(&mut customer, "rule").await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT source::text, body FROM chat_messages ORDER BY id").fetch_all(&chat.pool).await.unwrap();
    let sources: Vec<&str> = rows.iter().map(|(source, _)| source.as_str()).collect();
    assert_eq!(sources, ["customer", "rule", "customer", "rule"], "answered once: {rows:?}");
}
