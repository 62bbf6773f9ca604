//! Customer support: rules first, then matching by meaning, then an AI model, then a human
//! administrator.
//!
//! [`Support::answer`] decides how a customer's chat message is answered. The [`Rules`] (from
//! `support/rules.toml` or a file of the same format) answer common questions by keyword, some of
//! them from the customer's own data read through [`CustomerData`]. When a local embedding model
//! is configured ([`semantic`]), a message no keyword matches gets the answer of the rule or
//! [`Faq`] entry (`support/faq.toml`) whose example question means the same, if one is close
//! enough; a rule chosen so reads the customer's data exactly as by keyword. What neither answers
//! goes to the configured [`ChatModel`] with a prompt grounded in that data; and when the customer
//! asks for a person, no AI is configured or the AI fails, the answer is [`Answer::Human`]: the
//! conversation passes to the administrators and the customer is told so.

pub mod ai;
mod breaker;
mod config;
mod consumer;
mod data;
pub mod eval;
mod facts;
mod faq;
mod normalize;
mod rules;
pub mod semantic;
pub mod service;
mod support;
mod template;

pub use ai::{AiConfig, AiError, ChatModel, Provider};
pub use data::{AlertSummary, CustomerData, DeviceSummary, OpenAlerts, PgCustomerData};
pub use faq::{Faq, FaqEntry, FaqError};
pub use rules::{Rule, Rules, RulesError};
pub use semantic::SemanticMatcher;
pub use support::{Answer, Customer, HandoffReason, Route, Speaker, Support, Turn};

pub use config::DEFAULT_EMBEDDING_THRESHOLD;
pub use service::{SupportArgs, SupportConfig, run, run_worker};

/// Support as a service: the consumer of `ems.chat.inbound`, ready while PostgreSQL and NATS
/// answer.
pub fn service(
    args: &SupportArgs,
    pool: sqlx::PgPool,
    nats: async_nats::Client,
    names: ems_common::broker::Names,
    shutdown: ems_common::Shutdown,
) -> ems_common::service::Service {
    let readiness = ems_common::ops::Readiness::new().with_postgres(pool.clone()).with_nats(nats.clone());
    let args = args.clone();
    ems_common::service::Service::new("support")
        .ready_when(readiness)
        .task("support", async move { run_worker(&args, pool, nats, names, shutdown).await })
}
