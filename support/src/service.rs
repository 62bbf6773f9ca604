//! `ems support`: the durable JetStream consumer of `ems.chat.inbound`. Every message is stored in
//! PostgreSQL; in bot mode a customer's message is answered (rule, AI or hand-off to a human);
//! stored messages and conversation changes go out on `ems.chat.user.<customer>` and
//! `ems.chat.admins`. A message is acknowledged to JetStream only after its effects are stored, and
//! storing is idempotent (a message's `client_id`, and `reply:<id>` for its answer, are unique per
//! conversation), so a redelivery after a crash stores and answers nothing twice. How messages are
//! taken off the stream, several customers at once and each customer's in order, is in
//! [`crate::consumer`].

use std::sync::Arc;

use anyhow::Context;
use async_nats::jetstream::{self, consumer::pull};
use ems_common::{
    Role, Shutdown,
    broker::{self, Names},
    contracts::{ChatEvent, ChatInbound, ChatMessage, ChatSource, ConversationMode},
    db,
};
use sqlx::PgPool;
use uuid::Uuid;

pub use crate::config::{SupportArgs, SupportConfig};
use crate::{Answer, Customer, PgCustomerData, Speaker, Support, Turn, ai, consumer};

/// `ems support` with its own operations endpoints.
pub async fn run(config: SupportConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = db::connect_and_migrate(&config.database).await?;
    let nats = config.broker.nats("ems-support").await?;
    let support = crate::service(&config.support, pool.clone(), nats, config.broker.names(), shutdown.clone());
    let result = ems_common::service::serve(&config.http, vec![support], shutdown).await;
    pool.close().await;
    result
}

pub(crate) struct Service {
    pool: PgPool,
    nats: async_nats::Client,
    names: Names,
    support: Support,
}

/// Consumes `ems.chat.inbound` until shutdown. Validates the configuration first, so a bad rules
/// file or AI setting stops the service at start with a clear message.
pub async fn run_worker(
    args: &SupportArgs,
    pool: PgPool,
    nats: async_nats::Client,
    names: Names,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let limits = args.limits()?;
    let rules = args.rules()?;
    let faq = args.faq(&rules)?;
    let model = ai::build(&args.ai_config()?)?;
    if model.is_none() {
        tracing::info!("no AI provider configured: what the rules do not answer goes to an administrator");
    }
    let semantic = {
        let (args, rules) = (args.clone(), rules.clone());
        tokio::task::spawn_blocking(move || args.semantic(&rules, &faq)).await??
    };
    let mut support = Support::new(rules, Box::new(PgCustomerData::new(pool.clone())), model);
    if let Some(matcher) = semantic {
        support = support.with_semantic(matcher);
    }
    let service = Arc::new(Service { pool, nats: nats.clone(), names: names.clone(), support });

    let jetstream = jetstream::new(nats);
    let stream = broker::chat_stream(&jetstream, &names).await?;
    let config = pull::Config {
        durable_name: Some(args.consumer.clone()),
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: limits.ack_wait,
        filter_subject: names.chat_inbound_subject(),
        ..pull::Config::default()
    };
    let mut durable: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(&args.consumer, config.clone())
        .await
        .context("creating the durable chat consumer")?;
    if durable.cached_info().config.ack_wait != limits.ack_wait {
        // A durable consumer keeps the settings it was created with; apply a changed ack wait.
        durable = stream.create_consumer(config).await.context("changing the ack wait of the durable chat consumer")?;
    }
    // One message pulled at a time: a message waiting in the client's buffer has no lease yet.
    let messages = durable.stream().max_messages_per_batch(1).messages().await.context("reading the chat stream")?;
    tracing::info!(
        consumer = %args.consumer,
        concurrency = limits.concurrency,
        ack_wait = ?limits.ack_wait,
        "support answering chat"
    );
    consumer::consume(service, messages, limits, shutdown).await?;
    tracing::info!("support stopped");
    Ok(())
}

const MESSAGE_COLUMNS: &str = "id, customer_id, source, sender_id, body, created_at";

impl Service {
    pub(crate) async fn handle(&self, inbound: ChatInbound) -> anyhow::Result<()> {
        match inbound {
            ChatInbound::Message { customer_id, sender_id, sender_role, client_id, text } => {
                let Some((mode, admin_id, name)) = self.conversation(customer_id).await? else {
                    tracing::warn!(%customer_id, "dropping a chat message for a customer who does not exist");
                    return Ok(());
                };
                let source = if sender_role == Role::Admin { ChatSource::Admin } else { ChatSource::Customer };
                let stored = self
                    .store(customer_id, source, Some(sender_id), &format!("{sender_id}:{client_id}"), &text)
                    .await?;
                if sender_role == Role::Admin {
                    // An administrator who replies has taken the conversation over, also one
                    // handed to a person and waiting for whoever answers first.
                    if mode == ConversationMode::Bot || admin_id.is_none() {
                        self.take_if_free(customer_id, sender_id).await?;
                    }
                    return Ok(());
                }
                if mode == ConversationMode::Human {
                    return Ok(());
                }
                self.answer(customer_id, &name, &stored).await
            }
            ChatInbound::Read { customer_id, reader_role, up_to_id } => {
                let column = if reader_role == Role::Admin { "admin_read_up_to" } else { "customer_read_up_to" };
                sqlx::query(&format!(
                    "UPDATE conversations SET {column} = GREATEST({column}, $2), updated_at = now() WHERE customer_id = $1"
                ))
                .bind(customer_id)
                .bind(up_to_id)
                .execute(&self.pool)
                .await?;
                self.publish(customer_id, &ChatEvent::Read { customer_id, role: reader_role, up_to_id }).await;
                Ok(())
            }
        }
    }

    /// The conversation's mode, the administrator answering it (if any) and the customer's name,
    /// creating the conversation if needed.
    async fn conversation(
        &self,
        customer_id: Uuid,
    ) -> anyhow::Result<Option<(ConversationMode, Option<Uuid>, String)>> {
        sqlx::query(
            "INSERT INTO conversations (customer_id) SELECT id FROM users WHERE id = $1 AND role = 'client' \
             ON CONFLICT DO NOTHING",
        )
        .bind(customer_id)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_as(
            "SELECT c.mode, c.admin_id, u.display_name FROM conversations c JOIN users u ON u.id = c.customer_id WHERE c.customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Stores a message once (by its client id) and publishes it, also when it was stored before,
    /// in case a crash came between storing and publishing; clients drop repeats by id.
    async fn store(
        &self,
        customer_id: Uuid,
        source: ChatSource,
        sender_id: Option<Uuid>,
        client_id: &str,
        body: &str,
    ) -> anyhow::Result<ChatMessage> {
        let inserted = sqlx::query_as::<_, ChatMessage>(&format!(
            "INSERT INTO chat_messages (customer_id, source, sender_id, client_id, body) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT ON CONSTRAINT chat_messages_once DO NOTHING RETURNING {MESSAGE_COLUMNS}"
        ))
        .bind(customer_id)
        .bind(source)
        .bind(sender_id)
        .bind(client_id)
        .bind(body)
        .fetch_optional(&self.pool)
        .await?;
        let message = match inserted {
            Some(message) => {
                metrics::counter!("support_messages_total", "source" => format!("{source:?}").to_lowercase())
                    .increment(1);
                message
            }
            None => {
                sqlx::query_as::<_, ChatMessage>(&format!(
                    "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE customer_id = $1 AND client_id = $2"
                ))
                .bind(customer_id)
                .bind(client_id)
                .fetch_one(&self.pool)
                .await?
            }
        };
        self.publish(customer_id, &ChatEvent::Message { message: message.clone() }).await;
        Ok(message)
    }

    /// Answers a customer's message once: the answer's client id is derived from the message's.
    async fn answer(&self, customer_id: Uuid, name: &str, question: &ChatMessage) -> anyhow::Result<()> {
        let reply_id = format!("reply:{}", question.id);
        let answered: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM chat_messages WHERE customer_id = $1 AND client_id = $2)")
                .bind(customer_id)
                .bind(&reply_id)
                .fetch_one(&self.pool)
                .await?;
        if answered {
            return Ok(());
        }
        let history = self.history(customer_id, question.id).await?;
        let customer = Customer { id: customer_id, name: name.to_owned() };
        let answer = self.support.answer(&customer, &question.body, &history).await;
        let source = match &answer {
            Answer::Rule { .. } | Answer::Faq { .. } => ChatSource::Rule,
            Answer::Ai { .. } => ChatSource::Ai,
            Answer::Human { reason, .. } => {
                tracing::info!(%customer_id, %reason, "conversation handed to the administrators");
                ChatSource::System
            }
        };
        self.store(customer_id, source, None, &reply_id, answer.text()).await?;
        if matches!(answer, Answer::Human { .. }) {
            self.set_mode(customer_id, ConversationMode::Human, None).await?;
        }
        Ok(())
    }

    /// The last turns before a message, oldest first, for the AI's context.
    async fn history(&self, customer_id: Uuid, before: i64) -> anyhow::Result<Vec<Turn>> {
        let rows: Vec<(ChatSource, String)> = sqlx::query_as(
            "SELECT source, body FROM (SELECT id, source, body FROM chat_messages WHERE customer_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT 10) recent ORDER BY id",
        )
        .bind(customer_id)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(source, text)| Turn {
                from: match source {
                    ChatSource::Customer => Speaker::Customer,
                    ChatSource::Admin => Speaker::Administrator,
                    ChatSource::Rule | ChatSource::Ai | ChatSource::System => Speaker::Assistant,
                },
                text,
            })
            .collect())
    }

    async fn set_mode(&self, customer_id: Uuid, mode: ConversationMode, admin_id: Option<Uuid>) -> anyhow::Result<()> {
        sqlx::query("UPDATE conversations SET mode = $2, admin_id = $3, updated_at = now() WHERE customer_id = $1")
            .bind(customer_id)
            .bind(mode)
            .bind(admin_id)
            .execute(&self.pool)
            .await?;
        self.publish(customer_id, &ChatEvent::Mode { customer_id, mode, admin_id, previous_admin_id: None }).await;
        Ok(())
    }

    /// Assigns the conversation to the administrator who replied, unless another one holds it
    /// already: of two replying at once, the first to commit takes it, and the other's reply
    /// stays a reply.
    async fn take_if_free(&self, customer_id: Uuid, admin_id: Uuid) -> anyhow::Result<()> {
        let taken = sqlx::query(
            "UPDATE conversations SET mode = 'human', admin_id = $2, updated_at = now() \
             WHERE customer_id = $1 AND admin_id IS NULL",
        )
        .bind(customer_id)
        .bind(admin_id)
        .execute(&self.pool)
        .await?;
        if taken.rows_affected() == 1 {
            let event = ChatEvent::Mode {
                customer_id,
                mode: ConversationMode::Human,
                admin_id: Some(admin_id),
                previous_admin_id: None,
            };
            self.publish(customer_id, &event).await;
        }
        Ok(())
    }

    async fn publish(&self, customer_id: Uuid, event: &ChatEvent) {
        broker::publish_chat_event(&self.nats, &self.names, customer_id, event).await;
    }
}
