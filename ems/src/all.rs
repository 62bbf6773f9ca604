//! `ems all`: every service in one process, sharing one HTTP port (API, dashboard, WebSockets and
//! operations endpoints), one database pool and one connection to each broker, with several
//! monitor replicas as tasks. Each service is built by the same constructor its own subcommand
//! uses; if any fails, the others are stopped and the error is returned.

use clap::Args;
use ems_common::{
    Shutdown,
    broker::BrokerArgs,
    config::{DatabaseArgs, HttpArgs, JwtArgs, LivenessArgs},
    db, service,
};

#[derive(Args, Debug)]
pub struct AllConfig {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    jwt: JwtArgs,
    #[command(flatten)]
    broker: BrokerArgs,
    #[command(flatten)]
    liveness: LivenessArgs,
    #[command(flatten)]
    web: ems_web::WebArgs,
    #[command(flatten)]
    balancer: ems_balancer::BalancerArgs,
    #[command(flatten)]
    monitor: ems_monitors::MonitorArgs,
    #[command(flatten)]
    notifier: ems_notifier::NotifierArgs,
    #[command(flatten)]
    support: ems_support::SupportArgs,

    /// Monitor replicas to run as tasks (replicas 1 to N).
    #[arg(long, env = "EMS_MONITORS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=64))]
    monitors: u32,
}

pub async fn run(config: AllConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let jwt = config.jwt.keys()?;
    let pool = db::connect_and_migrate(&config.database).await?;
    let amqp = config.broker.amqp_reconnecting("ems-all").await?;
    let nats = config.broker.nats("ems-all").await?;
    let names = config.broker.names();

    let mut services = vec![
        ems_balancer::service(
            &config.balancer,
            &config.liveness,
            amqp.clone(),
            nats.clone(),
            names.clone(),
            shutdown.clone(),
        ),
        ems_web::service(
            &config.web,
            &config.liveness,
            &config.jwt,
            jwt.clone(),
            pool.clone(),
            amqp.clone(),
            ems_web::Events { nats: nats.clone(), names: names.clone() },
            shutdown.clone(),
        ),
        ems_notifier::service(&config.notifier, jwt, pool.clone(), nats.clone(), names.clone(), shutdown.clone())
            .await?,
        ems_support::service(&config.support, pool.clone(), nats.clone(), names.clone(), shutdown.clone()),
    ];
    for replica in 1..=config.monitors {
        services.push(ems_monitors::service(
            &config.monitor,
            replica,
            pool.clone(),
            amqp.clone(),
            nats.clone(),
            names.clone(),
            shutdown.clone(),
        ));
    }
    services.push(ems_monitors::storage_service(&config.monitor, pool.clone(), shutdown.clone()));
    let result = service::serve(&config.http, services, shutdown).await;
    amqp.close("stopped").await;
    pool.close().await;
    result
}
