//! `ems all`: every service in one process, sharing one HTTP port (API, dashboard and operations
//! endpoints), one database pool and one connection to each broker, with several monitor
//! replicas as tasks. If any service fails, the others are stopped and the error is returned.

use std::sync::Arc;

use clap::Args;
use ems_common::{
    Shutdown,
    broker::BrokerArgs,
    config::{DatabaseArgs, HttpArgs, JwtArgs},
    db, http, ops,
};
use tokio::task::JoinSet;

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
    let amqp = Arc::new(config.broker.amqp("ems-all").await?);
    let nats = config.broker.nats("ems-all").await?;
    let names = config.broker.names();

    let mut services: JoinSet<(String, anyhow::Result<()>)> = JoinSet::new();
    {
        let (amqp, nats, names, shutdown, args) =
            (amqp.clone(), nats.clone(), names.clone(), shutdown.clone(), config.balancer.clone());
        services.spawn(async move {
            ("balancer".to_owned(), ems_balancer::run_worker(&args, &amqp, nats, names, shutdown).await)
        });
    }
    for replica in 1..=config.monitors {
        let (amqp, nats, names, shutdown, args, pool) =
            (amqp.clone(), nats.clone(), names.clone(), shutdown.clone(), config.monitor.clone(), pool.clone());
        services.spawn(async move {
            let result = ems_monitors::run_worker(&args, replica, pool, &amqp, nats, names, shutdown).await;
            (format!("monitor {replica}"), result)
        });
    }

    {
        let (pool, nats, names, shutdown, args) =
            (pool.clone(), nats.clone(), names.clone(), shutdown.clone(), config.support.clone());
        services.spawn(async move {
            ("support".to_owned(), ems_support::run_worker(&args, pool, nats, names, shutdown).await)
        });
    }
    let notifier = ems_notifier::NotifierState::new(
        &config.notifier,
        jwt.clone(),
        pool.clone(),
        nats.clone(),
        names.clone(),
        shutdown.clone(),
    )
    .await?;
    {
        let fanout = notifier.follow().await?;
        services.spawn(async move {
            ("notifier".to_owned(), fanout.await.map_err(anyhow::Error::from).and_then(|result| result))
        });
    }

    let events = ems_web::Events { nats: nats.clone(), names };
    let context =
        ems_web::ApiContext::new(pool.clone(), jwt, &config.jwt, &config.web.login, events).with_amqp(amqp.clone());
    {
        let replicas = context.follow_replicas(shutdown.clone());
        services.spawn(async move {
            ("system view".to_owned(), replicas.await.map_err(anyhow::Error::from).and_then(|result| result))
        });
    }
    let readiness = ops::Readiness::new().with_postgres(pool.clone()).with_amqp(amqp.clone()).with_nats(nats);
    let app = http::observe(
        ems_web::router(context, &config.web.ui_dir)
            .merge(ems_notifier::router(notifier))
            .merge(ops::router(readiness)),
    );
    let listener = http::bind(config.http.listen).await?;
    tracing::info!(address = %format!("http://{}", listener.local_addr()?), monitors = config.monitors, "all services running");
    {
        let (shutdown, deadline) = (shutdown.clone(), config.http.shutdown_timeout);
        services.spawn(async move { ("web".to_owned(), http::serve(listener, app, shutdown, deadline).await) });
    }

    let mut first_error = None;
    while let Some(joined) = services.join_next().await {
        let (service, result) = joined?;
        if let Err(error) = result {
            tracing::error!(service, error = format!("{error:#}"), "service failed; stopping the others");
            first_error.get_or_insert(error.context(format!("{service} failed")));
        } else if !shutdown.is_triggered() {
            tracing::error!(service, "service stopped on its own; stopping the others");
        }
        shutdown.trigger();
    }
    amqp.close(200, "stopped".into()).await.ok();
    pool.close().await;
    tracing::info!("all services stopped");
    first_error.map_or(Ok(()), Err)
}
