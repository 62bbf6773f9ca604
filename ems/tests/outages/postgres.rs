use std::time::{Duration, Instant};

use ems_ingress::{Reading, topology};
use lapin::options::ConfirmSelectOptions;

use crate::{
    harness::{Pipeline, Services, assert_same_totals, ground_truth, series, start_hours_ago},
    readiness, seconds,
    servers::Postgres,
    wait_for_readiness, wait_until,
};

const OUTAGE: Duration = Duration::from_secs(30);
const CHUNKS: usize = 80;
const CHUNK_EVERY: Duration = Duration::from_millis(500);

fn value(device: usize, step: usize) -> f64 {
    0.01 + ((device * 37 + step * 13) % 89) as f64 / 1000.0
}

async fn stored(pipeline: &Pipeline) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(&pipeline.pool).await.unwrap_or(-1)
}

/// Publishes `readings` in chunks at a steady pace on a connection of its own, so readings keep
/// arriving before, during and after the outage; returns how many were confirmed so far.
fn feed(
    pipeline: &Pipeline,
    readings: Vec<Reading>,
) -> (tokio::task::JoinHandle<()>, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let (broker, queue) = (pipeline.broker.clone(), pipeline.broker.names().readings_queue());
    let published = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = published.clone();
    let task = tokio::spawn(async move {
        let amqp = broker.amqp("outage-feed").await.unwrap();
        let channel = amqp.create_channel().await.unwrap();
        channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
        let mut ticks = tokio::time::interval(CHUNK_EVERY);
        for chunk in readings.chunks(readings.len().div_ceil(CHUNKS)) {
            ticks.tick().await;
            topology::publish_confirmed(&channel, &queue, chunk.iter().map(Reading::to_json), 500).await.unwrap();
            counter.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
        }
        amqp.close(200, "fed".into()).await.ok();
    });
    (task, published)
}

#[tokio::test]
async fn postgres_down_for_30s_while_readings_flow_loses_and_doubles_nothing() {
    let postgres = Postgres::start().await;
    let mut pipeline = Pipeline::on(Services { database_url: postgres.url(), ..Services::shared() }).await;
    let devices = pipeline.devices(&[5.0; 20]).await;
    pipeline.run(2, &[]).await;
    // Besides the monitors, the other services that need PostgreSQL say whether they can work.
    pipeline.spawn("notifier", &["notifier"]);
    pipeline.spawn("support", &["support"]);
    let names = ["monitor-1", "monitor-2", "notifier", "support"];
    let ports: Vec<u16> = names.iter().map(|name| pipeline.port(name)).collect();
    wait_for_readiness("services before the outage", &ports, true, Duration::from_secs(60)).await;

    let readings = series(&devices, start_hours_ago(60), 288, value);
    let (feeding, published) = feed(&pipeline, readings.clone());
    wait_until("300 readings stored before the outage", Duration::from_secs(60), || async {
        stored(&pipeline).await >= 300
    })
    .await;

    postgres.down().await;
    let down_at = Instant::now();
    let not_ready = wait_for_readiness("services while PostgreSQL is down", &ports, false, OUTAGE).await;
    // The outage itself lasts its full length while the feed goes on.
    tokio::time::sleep(OUTAGE.saturating_sub(down_at.elapsed())).await;
    for &port in &ports {
        assert_eq!(readiness(port).await, Some(false), "not ready for as long as PostgreSQL is down");
    }

    postgres.up().await;
    let up_at = Instant::now();
    let mut at_restart = stored(&pipeline).await;
    while at_restart < 0 {
        assert!(up_at.elapsed() < Duration::from_secs(30), "the test's pool reconnects");
        tokio::time::sleep(Duration::from_millis(100)).await;
        at_restart = stored(&pipeline).await;
    }
    let backlog = published.load(std::sync::atomic::Ordering::SeqCst) as i64 - at_restart;
    let ready = wait_for_readiness("services after PostgreSQL is back", &ports, true, Duration::from_secs(60)).await;
    let moving = wait_until("readings stored again after PostgreSQL is back", Duration::from_secs(60), || async {
        stored(&pipeline).await > at_restart
    })
    .await;
    feeding.await.unwrap();
    let totals = pipeline.wait_for_readings(readings.len() as i64).await;
    let caught_up = up_at.elapsed();
    assert_same_totals(&totals, &ground_truth(&readings));
    assert_eq!(stored(&pipeline).await, readings.len() as i64, "every reading stored once");
    for name in ["balancer"].iter().chain(&names) {
        assert!(pipeline.is_running(name), "{name} kept running through the outage");
    }

    eprintln!(
        "outage summary: postgres down {}; services not ready after {}, ready again {} after the restart; storing again after {}; \
         backlog of {backlog} readings drained, all {} stored exactly once {} after restart",
        seconds(OUTAGE),
        seconds(not_ready),
        seconds(ready),
        seconds(moving),
        readings.len(),
        seconds(caught_up)
    );
    assert!(backlog > 0, "readings were waiting in the queues while PostgreSQL was down");
}
