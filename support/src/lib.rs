//! Customer support: rules first, then an AI model, then a human administrator.
//!
//! [`Support::answer`] decides how a customer's chat message is answered. The [`Rules`] (from
//! `support/rules.toml` or a file of the same format) answer common questions, some of them from
//! the customer's own data read through [`CustomerData`]; a message no rule recognises goes to
//! the configured [`ChatModel`] with a prompt grounded in that data; and when the customer asks
//! for a person, no AI is configured or the AI fails, the answer is [`Answer::Human`]: the
//! conversation passes to the administrators and the customer is told so.

pub mod ai;
mod breaker;
mod config;
mod consumer;
mod data;
mod facts;
mod normalize;
mod rules;
pub mod service;
mod support;
mod template;

pub use ai::{AiConfig, AiError, ChatModel, Provider};
pub use data::{AlertSummary, CustomerData, DeviceSummary, OpenAlerts, PgCustomerData};
pub use rules::{Rule, Rules, RulesError};
pub use support::{Answer, Customer, HandoffReason, Speaker, Support, Turn};

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
