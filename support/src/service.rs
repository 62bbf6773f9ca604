//! `ems support`: the durable JetStream consumer of `ems.chat.inbound`. Every message is stored in
//! PostgreSQL; in bot mode a customer's message is answered (rule, AI or hand-off to a human);
//! stored messages and conversation changes go out on `ems.chat.user.<customer>` and
//! `ems.chat.admins`. A message is acknowledged to JetStream only after its effects are stored, and
//! storing is idempotent (a message's `client_id`, and `reply:<id>` for its answer, are unique per
//! conversation), so a redelivery after a crash stores and answers nothing twice.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use async_nats::jetstream::{self, AckKind, consumer::pull};
use clap::Args;
use ems_common::{
    Role, Shutdown,
    broker::{self, BrokerArgs, Names},
    config::{DatabaseArgs, HttpArgs, parse_duration},
    contracts::{ChatEvent, ChatInbound, ChatMessage, ChatSource, ConversationMode},
    db, http, ops,
};
use futures::StreamExt;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{AiConfig, Answer, Customer, PgCustomerData, Provider, Rules, Speaker, Support, Turn, ai};

#[derive(Args, Clone, Debug)]
pub struct SupportArgs {
    /// AI provider after the rules: `none` (hand straight to administrators), `openai` (any
    /// OpenAI-compatible chat-completions API: OpenAI, Mistral, Hugging Face, Ollama, llama.cpp,
    /// vLLM) or `gemini`.
    #[arg(long, env = "EMS_AI_PROVIDER", default_value = "none")]
    pub ai_provider: Provider,

    /// Base URL of the AI API, e.g. `http://127.0.0.1:11434/v1` for Ollama; empty for the
    /// provider's public endpoint.
    #[arg(long, env = "EMS_AI_BASE_URL", default_value = "")]
    pub ai_base_url: String,

    /// Model name, e.g. `gpt-4o-mini`, `mistral-small-latest`, `llama3.2`, `gemini-2.0-flash`.
    #[arg(long, env = "EMS_AI_MODEL", default_value = "")]
    pub ai_model: String,

    /// API key of the AI provider.
    #[arg(long, env = "EMS_AI_API_KEY", hide_env_values = true, conflicts_with = "ai_api_key_file")]
    pub ai_api_key: Option<String>,

    /// File holding the AI provider's key (Docker secrets).
    #[arg(long, env = "EMS_AI_API_KEY_FILE")]
    pub ai_api_key_file: Option<PathBuf>,

    /// Longest wait for one AI request.
    #[arg(long, env = "EMS_AI_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub ai_timeout: Duration,

    /// Further AI attempts after a timeout, a 5xx or a 429.
    #[arg(long, env = "EMS_AI_MAX_RETRIES", default_value_t = 2)]
    pub ai_max_retries: u32,

    /// Wait before the first AI retry; doubles for each further one.
    #[arg(long, env = "EMS_AI_BACKOFF", default_value = "500ms", value_parser = parse_duration)]
    pub ai_backoff: Duration,

    /// Consecutive AI failures after which it is not asked for a while (circuit breaker).
    #[arg(long, env = "EMS_AI_FAILURE_THRESHOLD", default_value_t = 5)]
    pub ai_failure_threshold: u32,

    /// How long the AI is left alone once the circuit opens.
    #[arg(long, env = "EMS_AI_COOLDOWN", default_value = "30s", value_parser = parse_duration)]
    pub ai_cooldown: Duration,

    /// A rules file to use instead of the built-in one (same format as support/rules.toml).
    #[arg(long, env = "EMS_SUPPORT_RULES")]
    pub rules_file: Option<PathBuf>,

    /// Name of the durable JetStream consumer; every support instance with the same name shares
    /// the work.
    #[arg(long, env = "EMS_SUPPORT_CONSUMER", default_value = "support")]
    pub consumer: String,
}

#[derive(Args, Clone, Debug)]
pub struct SupportConfig {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,
    #[command(flatten)]
    pub support: SupportArgs,
}

impl SupportArgs {
    fn ai_config(&self) -> anyhow::Result<AiConfig> {
        let api_key = match (&self.ai_api_key, &self.ai_api_key_file) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the AI key file {} (--ai-api-key-file)", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        Ok(AiConfig {
            provider: self.ai_provider,
            base_url: self.ai_base_url.clone(),
            model: self.ai_model.clone(),
            api_key,
            timeout: self.ai_timeout,
            max_retries: self.ai_max_retries,
            backoff: self.ai_backoff,
            failure_threshold: self.ai_failure_threshold,
            cooldown: self.ai_cooldown,
        })
    }

    fn rules(&self) -> anyhow::Result<Rules> {
        match &self.rules_file {
            Some(path) => {
                Rules::load(path).with_context(|| format!("the rules file {} (--rules-file)", path.display()))
            }
            None => Ok(Rules::builtin()),
        }
    }
}

/// `ems support` with its own operations endpoints.
pub async fn run(config: SupportConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = db::connect_and_migrate(&config.database).await?;
    let nats = config.broker.nats("ems-support").await?;
    let readiness = ops::Readiness::new().with_postgres(pool.clone()).with_nats(nats.clone());
    let listener = http::bind(config.http.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "support operations endpoints listening");
    let server = tokio::spawn(http::serve(
        listener,
        http::observe(ops::router(readiness)),
        shutdown.clone(),
        config.http.shutdown_timeout,
    ));
    let result = run_worker(&config.support, pool.clone(), nats, config.broker.names(), shutdown.clone()).await;
    shutdown.trigger();
    server.await??;
    pool.close().await;
    result
}

struct Service {
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
    let rules = args.rules()?;
    let model = ai::build(&args.ai_config()?)?;
    if model.is_none() {
        tracing::info!("no AI provider configured: what the rules do not answer goes to an administrator");
    }
    let support = Support::new(rules, Box::new(PgCustomerData::new(pool.clone())), model);
    let service = Arc::new(Service { pool, nats: nats.clone(), names: names.clone(), support });

    let jetstream = jetstream::new(nats);
    let stream = broker::chat_stream(&jetstream, &names).await?;
    let consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .get_or_create_consumer(
            &args.consumer,
            pull::Config {
                durable_name: Some(args.consumer.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(60),
                filter_subject: names.chat_inbound_subject(),
                ..pull::Config::default()
            },
        )
        .await
        .context("creating the durable chat consumer")?;
    let mut messages = consumer.messages().await.context("reading the chat stream")?;
    tracing::info!(consumer = %args.consumer, "support answering chat");

    loop {
        let message = tokio::select! {
            () = shutdown.requested() => break,
            next = messages.next() => match next {
                Some(Ok(message)) => message,
                Some(Err(error)) => {
                    tracing::warn!(%error, "reading the chat stream failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                None => anyhow::bail!("the chat stream ended"),
            },
        };
        let inbound = match serde_json::from_slice::<ChatInbound>(&message.payload) {
            Ok(inbound) => inbound,
            Err(error) => {
                tracing::warn!(%error, "dropping a chat frame that is not a chat message or receipt");
                let _ = message.ack_with(AckKind::Term).await;
                continue;
            }
        };
        match service.handle(inbound).await {
            Ok(()) => {
                if let Err(error) = message.double_ack().await {
                    tracing::warn!(%error, "acknowledging a chat message failed; it will be redelivered and skipped");
                }
            }
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "handling a chat message failed; it will be retried");
                metrics::counter!("support_failures_total").increment(1);
                let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(2)))).await;
            }
        }
    }
    tracing::info!("support stopped");
    Ok(())
}

const MESSAGE_COLUMNS: &str = "id, customer_id, source, sender_id, body, created_at";

impl Service {
    async fn handle(&self, inbound: ChatInbound) -> anyhow::Result<()> {
        match inbound {
            ChatInbound::Message { customer_id, sender_id, sender_role, client_id, text } => {
                let Some((mode, name)) = self.conversation(customer_id).await? else {
                    tracing::warn!(%customer_id, "dropping a chat message for a customer who does not exist");
                    return Ok(());
                };
                let source = if sender_role == Role::Admin { ChatSource::Admin } else { ChatSource::Customer };
                let stored = self
                    .store(customer_id, source, Some(sender_id), &format!("{sender_id}:{client_id}"), &text)
                    .await?;
                if sender_role == Role::Admin {
                    // An administrator who replies has taken the conversation over.
                    if mode == ConversationMode::Bot {
                        self.set_mode(customer_id, ConversationMode::Human, Some(sender_id)).await?;
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

    /// The conversation's mode and the customer's name, creating the conversation if needed.
    async fn conversation(&self, customer_id: Uuid) -> anyhow::Result<Option<(ConversationMode, String)>> {
        sqlx::query(
            "INSERT INTO conversations (customer_id) SELECT id FROM users WHERE id = $1 AND role = 'client' \
             ON CONFLICT DO NOTHING",
        )
        .bind(customer_id)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_as(
            "SELECT c.mode, u.display_name FROM conversations c JOIN users u ON u.id = c.customer_id WHERE c.customer_id = $1",
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
            Answer::Rule { .. } => ChatSource::Rule,
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
        self.publish(customer_id, &ChatEvent::Mode { customer_id, mode, admin_id }).await;
        Ok(())
    }

    async fn publish(&self, customer_id: Uuid, event: &ChatEvent) {
        broker::publish_chat_event(&self.nats, &self.names, customer_id, event).await;
    }
}
