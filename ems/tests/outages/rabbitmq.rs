use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::{
    harness::{Pipeline, Services, start_hours_ago},
    seconds,
    servers::RabbitMq,
    wait_for_readiness, wait_until,
};

const DEVICES: usize = 20;
const STEPS: usize = 240;

async fn stored(pipeline: &Pipeline) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(&pipeline.pool).await.unwrap()
}

#[tokio::test]
async fn rabbitmq_restarted_mid_stream_everyone_reconnects_and_every_reading_counts_once() {
    let mut rabbitmq = RabbitMq::start().await;
    let mut pipeline = Pipeline::on(Services { amqp_url: rabbitmq.url(), ..Services::shared() }).await;
    let devices = pipeline.devices(&[5.0; DEVICES]).await;
    pipeline.run(2, &[]).await;
    // The web service too: it only reads queue depths, but must reconnect to be ready again.
    pipeline.spawn("web", &["web", "--ui-dir", "no-ui-in-tests"]);
    let balancer = pipeline.port("balancer");
    let processes = [balancer, pipeline.port("monitor-1"), pipeline.port("monitor-2"), pipeline.port("web")];

    // The simulator sends a reading per device every 50 ms of real time (400 a second), each
    // device's readings 10 simulated minutes apart from `start`.
    let start: DateTime<Utc> = start_hours_ago(72);
    let (limit, start_text) = ((DEVICES * STEPS).to_string(), start.to_rfc3339());
    let mut args = vec!["simulate", "--rate", "400", "--limit", &limit, "--start", &start_text];
    let ids: Vec<String> = devices.iter().map(|device| device.id.to_string()).collect();
    for id in &ids {
        args.extend(["--device", id.as_str()]);
    }
    let simulator = pipeline.command(&args, None).stdout(Stdio::piped()).spawn().expect("start the simulator");
    let simulating = tokio::task::spawn_blocking(move || simulator.wait_with_output().unwrap());

    wait_until("1000 readings stored before the restart", Duration::from_secs(60), || async {
        stored(&pipeline).await >= 1000
    })
    .await;
    let restart = Instant::now();
    rabbitmq.down().await;
    let stopped = restart.elapsed();
    let at_stop = stored(&pipeline).await;
    let not_ready =
        wait_for_readiness("services while RabbitMQ is down", &processes, false, Duration::from_secs(30)).await;
    rabbitmq.up().await;
    let up_at = Instant::now();
    let ready = wait_for_readiness("services after RabbitMQ is back", &processes, true, Duration::from_secs(60)).await;
    let moving = wait_until("readings stored again after RabbitMQ is back", Duration::from_secs(60), || async {
        stored(&pipeline).await > at_stop
    })
    .await;

    let output = tokio::time::timeout(Duration::from_secs(120), simulating).await.expect("the simulator ends").unwrap();
    let summary = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(output.status.success(), "the simulator reconnected and finished: {summary}");
    let expected = (DEVICES * STEPS) as i64;
    assert!(summary.contains(&format!("sent {expected} readings, {expected} confirmed, 0 refused")), "{summary}");
    let totals = pipeline.wait_for_readings(expected).await;
    let caught_up = up_at.elapsed();

    // Every device has exactly its readings, 10 minutes apart from `start`, and every hourly
    // total is the sum of the readings stored for its hour.
    let rows: Vec<(Uuid, i64, DateTime<Utc>, DateTime<Utc>)> =
        sqlx::query_as("SELECT device_id, count(*), min(ts), max(ts) FROM readings GROUP BY device_id")
            .fetch_all(&pipeline.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), DEVICES);
    for (device, count, first, last) in rows {
        assert_eq!(count, STEPS as i64, "readings of {device}");
        assert_eq!((first, last), (start + TimeDelta::minutes(10), start + TimeDelta::minutes(10 * STEPS as i64)));
    }
    let sums: Vec<(Uuid, DateTime<Utc>, f64)> =
        sqlx::query_as("SELECT device_id, date_trunc('hour', ts, 'UTC'), sum(kwh)::float8 FROM readings GROUP BY 1, 2")
            .fetch_all(&pipeline.pool)
            .await
            .unwrap();
    assert_eq!(sums.len(), totals.len());
    for (device, hour, kwh) in sums {
        let total = totals[&(device, hour)];
        assert!((total - kwh).abs() <= 1e-9 * kwh.max(1.0), "{device} {hour}: total {total}, readings {kwh}");
    }
    for name in ["balancer", "monitor-1", "monitor-2"] {
        assert!(pipeline.is_running(name), "{name} reconnected by itself instead of exiting");
    }
    let backlog = expected - at_stop;
    eprintln!(
        "outage summary: rabbitmq stopped in {} and back {} later; services not ready {} after the stop, \
         ready again {} after the restart; \
         storing again after {}; {backlog} readings still to store at the stop, all {expected} stored \
         exactly once {} after restart; simulator: {summary}",
        seconds(stopped),
        seconds(up_at.duration_since(restart) - stopped),
        seconds(not_ready),
        seconds(ready),
        seconds(moving),
        seconds(caught_up)
    );
}
