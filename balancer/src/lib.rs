//! The balancer: the single consumer of `readings`. It validates each reading (rejects go to
//! `readings.invalid` with their reason), picks a live monitor replica by the configured
//! strategy, and forwards readings in batches to `ingest.<replica>` with publisher confirms.
//! Live replicas are learnt from heartbeats on `ems.monitors.heartbeat`.

mod acks;
mod membership;
pub mod strategy;
mod worker;

use std::time::Duration;

use clap::Args;
use ems_common::{
    Shutdown,
    broker::{Amqp, BrokerArgs, Names},
    config::{HttpArgs, LivenessArgs, duration_between},
    ops,
    service::Service,
};

pub use strategy::Strategy;
pub use worker::run_worker;

#[derive(Args, Clone, Debug)]
pub struct BalancerArgs {
    /// How readings are spread over the monitor replicas.
    #[arg(long, env = "EMS_BALANCER_STRATEGY", value_enum, default_value_t = Strategy::WeightedRoundRobin)]
    pub strategy: Strategy,

    /// Most readings in one batch sent to a replica.
    #[arg(long, env = "EMS_BATCH_SIZE", default_value_t = 200, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=5000))]
    pub batch_size: usize,

    /// Longest a reading waits for its batch to fill before the batch is sent anyway.
    #[arg(long, env = "EMS_BATCH_LINGER", default_value = "10ms", value_parser = duration_between("1ms", "10s"))]
    pub batch_linger: Duration,

    /// Readings taken from `readings` ahead of acknowledgement; more keeps batches full.
    #[arg(id = "balancer_prefetch", long = "balancer-prefetch", env = "EMS_BALANCER_PREFETCH", default_value_t = 2000, value_parser = clap::value_parser!(u16).range(1..))]
    pub prefetch: u16,

    /// A replica gone this long has its ingest queue drained back into the rotation.
    #[arg(long, env = "EMS_DRAIN_AFTER", default_value = "30s", value_parser = duration_between("1s", "1d"))]
    pub drain_after: Duration,

    /// On shutdown, how long to wait for batches in flight to be confirmed.
    #[arg(long = "balancer-shutdown-grace", env = "EMS_BALANCER_SHUTDOWN_GRACE", default_value = "5s", value_parser = duration_between("0s", "10m"))]
    pub shutdown_grace: Duration,
}

#[derive(Args, Clone, Debug)]
pub struct BalancerConfig {
    #[command(flatten)]
    pub broker: BrokerArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub balancer: BalancerArgs,
    #[command(flatten)]
    pub liveness: LivenessArgs,
}

/// The balancer as a service: its worker, ready while RabbitMQ and NATS answer.
pub fn service(
    args: &BalancerArgs,
    liveness: &LivenessArgs,
    amqp: Amqp,
    nats: async_nats::Client,
    names: Names,
    shutdown: Shutdown,
) -> Service {
    let readiness = ops::Readiness::new().with_amqp(amqp.clone()).with_nats(nats.clone());
    let (args, replica_timeout) = (args.clone(), liveness.replica_timeout);
    Service::new("balancer")
        .ready_when(readiness)
        .task("balancer", async move { run_worker(&args, replica_timeout, &amqp, nats, names, shutdown).await })
}

/// `ems balancer`, with its own operations endpoints.
pub async fn run(config: BalancerConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let amqp = config.broker.amqp_reconnecting("ems-balancer").await?;
    let nats = config.broker.nats("ems-balancer").await?;
    let balancer =
        service(&config.balancer, &config.liveness, amqp.clone(), nats, config.broker.names(), shutdown.clone());
    let result = ems_common::service::serve(&config.http, vec![balancer], shutdown).await;
    amqp.close("balancer stopped").await;
    result
}
