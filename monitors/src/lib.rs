//! Monitor replicas. Replica K consumes the batches in `ingest.K`, stores them (see [`store`]),
//! publishes the alerts they raised on `ems.alerts.<user_id>` once they are committed, and only
//! then acknowledges the batches. It tells the balancer it is alive, and with which weight, by a
//! heartbeat on `ems.monitors.heartbeat`.

pub mod devices;
pub mod forecast;
pub mod partitions;
pub mod rollups;
pub mod store;
pub mod upkeep;
mod worker;

use std::time::Duration;

use clap::Args;
use ems_common::{
    Shutdown,
    broker::{Amqp, BrokerArgs, Names},
    config::{DatabaseArgs, HttpArgs, duration_between},
    db, ops,
    service::Service,
};
use sqlx::PgPool;

pub use partitions::Retention;
pub use worker::run_worker;

/// How monitor replicas work.
#[derive(Args, Clone, Debug)]
pub struct MonitorArgs {
    /// This replica's share of readings relative to the others (a replica of weight 2 gets
    /// twice as many as one of weight 1).
    #[arg(long, env = "EMS_MONITOR_WEIGHT", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub weight: u32,

    /// Batches taken from the queue ahead of processing.
    #[arg(id = "monitor_prefetch", long = "monitor-prefetch", env = "EMS_MONITOR_PREFETCH", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..))]
    pub prefetch: u16,

    /// Transactions a replica has open at once: with more than one, what arrives while a batch
    /// commits is stored at once on another connection instead of waiting for that commit. On a
    /// 2-core machine 1 and 2 measure the same (docs/performance.md), so the default is 1.
    #[arg(id = "monitor_transactions", long = "monitor-transactions", env = "EMS_MONITOR_TRANSACTIONS", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=8))]
    pub transactions: u16,

    /// How often the replica announces itself to the balancer.
    #[arg(long, env = "EMS_HEARTBEAT_INTERVAL", default_value = "1s", value_parser = duration_between("50ms", "1m"))]
    pub heartbeat_interval: Duration,

    /// How long raw readings are kept (`90d`, `2years`, or `forever`). Older ones are dropped a
    /// day's partition at a time, and a reading older than this that arrives late is
    /// dead-lettered, since its hour's total is final; hourly totals are kept forever.
    #[arg(long, env = "EMS_RAW_RETENTION", default_value = "90d")]
    pub raw_retention: Retention,
}

#[derive(Args, Clone, Debug)]
pub struct MonitorConfig {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub broker: BrokerArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    /// This replica's number, from 1: it consumes the queue `ingest.<replica>`. In Docker Swarm,
    /// set it from the task slot (`EMS_MONITOR_REPLICA={{.Task.Slot}}`).
    #[arg(long, env = "EMS_MONITOR_REPLICA", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replica: u32,
    #[command(flatten)]
    pub monitor: MonitorArgs,
}

/// Monitor replica `replica` as a service: its worker, ready while PostgreSQL, RabbitMQ and NATS
/// answer.
pub fn service(
    args: &MonitorArgs,
    replica: u32,
    pool: PgPool,
    amqp: Amqp,
    nats: async_nats::Client,
    names: Names,
    shutdown: Shutdown,
) -> Service {
    let readiness = ops::Readiness::new().with_postgres(pool.clone()).with_amqp(amqp.clone()).with_nats(nats.clone());
    let args = args.clone();
    Service::new(format!("monitor {replica}")).ready_when(readiness).task(format!("monitor {replica}"), async move {
        run_worker(&args, replica, pool, &amqp, nats, names, shutdown).await
    })
}

/// The storage upkeep (see [`upkeep`]: daily partitions of raw readings, monthly rollups), once
/// per process whatever the number of replicas in it: every monitor process runs one, so any
/// replica alive keeps the storage, and replicas in one process do not repeat the work.
pub fn storage_service(args: &MonitorArgs, pool: PgPool, shutdown: Shutdown) -> Service {
    Service::new("storage upkeep").task("storage upkeep", upkeep::keep(pool, args.raw_retention, shutdown))
}

/// `ems monitor`: one replica with its own operations endpoints.
pub async fn run(config: MonitorConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let name = format!("ems-monitor-{}", config.replica);
    let pool = db::connect_and_migrate(&config.database).await?;
    let amqp = config.broker.amqp_reconnecting(&name).await?;
    let nats = config.broker.nats(&name).await?;
    let monitor = service(
        &config.monitor,
        config.replica,
        pool.clone(),
        amqp.clone(),
        nats,
        config.broker.names(),
        shutdown.clone(),
    );
    let keeper = storage_service(&config.monitor, pool.clone(), shutdown.clone());
    let result = ems_common::service::serve(&config.http, vec![monitor, keeper], shutdown).await;
    amqp.close("monitor stopped").await;
    pool.close().await;
    result
}
