//! The support service against the real JetStream and PostgreSQL: a fresh database and broker
//! namespace per test, chat messages published on `chat.inbound` as the notifier does, answers
//! heard on the customer's subject, and support instances started and stopped at will.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use clap::Parser;
use ems_common::{
    Role, Shutdown,
    broker::{self, BrokerArgs, Names},
    contracts::{ChatEvent, ChatInbound, ChatMessage, ChatSource},
};
use ems_support::{Provider, SupportArgs};
use futures::StreamExt;
use uuid::Uuid;

use crate::{helpers::TestDb, provider::FakeProvider};

/// The longest wait for anything support is expected to do.
const WAIT: Duration = Duration::from_secs(15);

/// The durable consumer every instance of a test shares, as replicas in production do.
const CONSUMER: &str = "support";

pub struct Inbox {
    pub db: TestDb,
    broker: BrokerArgs,
    nats: async_nats::Client,
    jetstream: jetstream::Context,
    names: Names,
}

#[derive(Parser)]
struct SupportCli {
    #[command(flatten)]
    support: SupportArgs,
}

impl Inbox {
    pub async fn open() -> Self {
        let db = TestDb::create().await;
        let broker = BrokerArgs::local(&format!("t{}", &Uuid::new_v4().simple().to_string()[..12]));
        let nats = broker.nats("support-test").await.expect("NATS is running");
        let jetstream = jetstream::new(nats.clone());
        let names = broker.names();
        broker::chat_stream(&jetstream, &names).await.expect("JetStream is enabled");
        Self { db, broker, nats, jetstream, names }
    }

    /// Support's defaults, answering what no rule does from `provider`, patiently enough for a
    /// provider that takes several seconds.
    pub fn args(provider: &FakeProvider) -> SupportArgs {
        let mut args = SupportCli::parse_from(["support"]).support;
        args.ai_provider = Provider::OpenAi;
        args.ai_base_url = format!("{}/v1", provider.url);
        args.ai_model = "test-model".into();
        args.ai_api_key = Some("test-key".into());
        args.ai_timeout = Duration::from_secs(12);
        args.ai_backoff = Duration::from_millis(10);
        args.consumer = CONSUMER.into();
        args
    }

    /// Support's defaults with no AI: what nothing matches goes to an administrator.
    pub fn args_without_ai() -> SupportArgs {
        let mut args = SupportCli::parse_from(["support"]).support;
        args.consumer = CONSUMER.into();
        args
    }

    pub async fn customer(&self, username: &str) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, $2, 'x')")
            .bind(id)
            .bind(username)
            .execute(&self.db.pool)
            .await
            .unwrap();
        id
    }

    /// A support instance with its own NATS connection, as a separate process would have.
    pub async fn start(&self, args: SupportArgs) -> Instance {
        let nats = self.broker.nats("support").await.expect("NATS is running");
        let (pool, names, shutdown) = (self.db.pool.clone(), self.names.clone(), Shutdown::new());
        let stop = shutdown.clone();
        let task = tokio::spawn(async move { ems_support::run_worker(&args, pool, nats, names, stop).await });
        Instance { shutdown, task }
    }

    /// Publishes a customer's message the way the notifier does, once JetStream has stored it.
    pub async fn send(&self, customer_id: Uuid, client_id: &str, text: &str) {
        self.send_as(customer_id, customer_id, Role::Client, client_id, text).await;
    }

    /// An administrator's account.
    pub async fn admin(&self, username: &str) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, role) VALUES ($1, $2, $2, 'x', 'admin')",
        )
        .bind(id)
        .bind(username)
        .execute(&self.db.pool)
        .await
        .unwrap();
        id
    }

    /// Publishes a message by `sender` in the customer's conversation, as the notifier does.
    pub async fn send_as(&self, customer_id: Uuid, sender_id: Uuid, sender_role: Role, client_id: &str, text: &str) {
        let inbound = ChatInbound::Message {
            customer_id,
            sender_id,
            sender_role,
            client_id: client_id.into(),
            text: text.into(),
        };
        let payload = serde_json::to_vec(&inbound).unwrap();
        let stored = self.jetstream.publish(self.names.chat_inbound_subject(), payload.into()).await.unwrap();
        stored.await.expect("JetStream stored the message");
    }

    /// Hears what support publishes to the customer from now on.
    pub async fn listen(&self, customer_id: Uuid) -> Conversation {
        let subscriber = self.nats.subscribe(self.names.chat_user_subject(customer_id)).await.unwrap();
        self.nats.flush().await.unwrap();
        Conversation { subscriber }
    }

    /// The customer's conversation as stored, oldest first.
    pub async fn stored(&self, customer_id: Uuid) -> Vec<(ChatSource, String)> {
        sqlx::query_as("SELECT source, body FROM chat_messages WHERE customer_id = $1 ORDER BY id")
            .bind(customer_id)
            .fetch_all(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn consumer_info(&self) -> consumer::Info {
        let stream = self.jetstream.get_stream(self.names.chat_stream()).await.unwrap();
        stream.consumer_info(CONSUMER).await.unwrap()
    }

    /// Removes the test's stream; the database goes when `db` is dropped.
    pub async fn close(self) {
        self.jetstream.delete_stream(self.names.chat_stream()).await.unwrap();
    }
}

pub struct Instance {
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Instance {
    /// Asks the instance to stop, without waiting.
    pub fn request_stop(&self) {
        self.shutdown.trigger();
    }

    /// Stops the instance and waits until it has finished what it holds.
    pub async fn stop(self) {
        self.request_stop();
        self.stopped().await.expect("support stopped cleanly");
    }

    /// Waits until the instance ends, by itself or after a stop request.
    pub async fn stopped(self) -> anyhow::Result<()> {
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("support stopped within 15 s")
            .expect("support did not panic")
    }
}

pub struct Conversation {
    subscriber: async_nats::Subscriber,
}

impl Conversation {
    /// The next chat message published to the customer, whoever wrote it.
    pub async fn next_message(&mut self) -> ChatMessage {
        self.next_message_within(WAIT).await
    }

    /// The next chat message, waiting up to `wait` (for an instance that loads a model first).
    pub async fn next_message_within(&mut self, wait: Duration) -> ChatMessage {
        loop {
            let published = tokio::time::timeout(wait, self.subscriber.next())
                .await
                .unwrap_or_else(|_| panic!("a chat message within {wait:?}"))
                .expect("the subscription is open");
            if let Ok(ChatEvent::Message { message }) = serde_json::from_slice(&published.payload) {
                return message;
            }
        }
    }

    /// The next answer to the customer (a rule's, the AI's or a handoff notice).
    pub async fn next_answer(&mut self) -> ChatMessage {
        loop {
            let message = self.next_message().await;
            if !matches!(message.source, ChatSource::Customer | ChatSource::Admin) {
                return message;
            }
        }
    }
}
