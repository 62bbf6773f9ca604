use std::time::Duration;

use crate::harness::{Pipeline, assert_same_totals, ground_truth, series, start_hours_ago};

/// Values that differ per device and step, so a lost or doubled reading changes a total.
fn value(device: usize, step: usize) -> f64 {
    0.01 + ((device * 31 + step * 17) % 97) as f64 / 1000.0
}

async fn stored_count(pipeline: &Pipeline) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM readings").fetch_one(&pipeline.pool).await.unwrap()
}

async fn wait_until_stored_at_least(pipeline: &Pipeline, count: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while stored_count(pipeline).await < count {
        assert!(std::time::Instant::now() < deadline, "fewer than {count} readings stored within 60s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_reading_sent_twice_counts_once() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 4]).await;
    pipeline.run(2, &[]).await;

    let readings = series(&devices, start_hours_ago(30), 144, value);
    let twice: Vec<_> = readings.iter().flat_map(|reading| [reading.clone(), reading.clone()]).collect();
    pipeline.publish(&twice).await;
    pipeline.publish(&readings[..100]).await;
    assert_same_totals(&pipeline.wait_for_readings(readings.len() as i64).await, &ground_truth(&readings));
    pipeline.settle(2).await;
    assert_same_totals(&pipeline.totals().await, &ground_truth(&readings));
}

#[tokio::test]
async fn a_monitor_killed_mid_stream_and_restarted_loses_and_doubles_nothing() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 10]).await;
    pipeline.run(2, &[]).await;

    let readings = series(&devices, start_hours_ago(40), 240, value);
    let (first, second) = readings.split_at(readings.len() / 2);
    pipeline.publish(first).await;
    wait_until_stored_at_least(&pipeline, 300).await;
    pipeline.kill("monitor-2");
    pipeline.publish(second).await;
    pipeline.start("monitor-2", &[]);
    assert_same_totals(&pipeline.wait_for_readings(readings.len() as i64).await, &ground_truth(&readings));
}

#[tokio::test]
async fn the_balancer_killed_mid_stream_and_replaced_loses_and_doubles_nothing() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 10]).await;
    pipeline.run(2, &[]).await;

    let readings = series(&devices, start_hours_ago(40), 240, value);
    pipeline.publish(&readings).await;
    wait_until_stored_at_least(&pipeline, 300).await;
    pipeline.kill("balancer");
    pipeline.start("balancer", &[]);
    assert_same_totals(&pipeline.wait_for_readings(readings.len() as i64).await, &ground_truth(&readings));
}

#[tokio::test]
async fn a_standby_balancer_takes_over_when_the_active_one_dies() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 5]).await;
    pipeline.start("monitor-1", &[]);
    pipeline.start("balancer", &[]);
    pipeline.start("standby", &[]);
    pipeline.wait_for_heartbeats(&[1]).await;

    let readings = series(&devices, start_hours_ago(20), 120, value);
    pipeline.publish(&readings).await;
    wait_until_stored_at_least(&pipeline, 100).await;
    pipeline.kill("balancer");
    assert_same_totals(&pipeline.wait_for_readings(readings.len() as i64).await, &ground_truth(&readings));
}

#[tokio::test]
async fn a_replica_gone_for_good_has_its_queue_drained_to_the_others() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 10]).await;
    pipeline.run(3, &["--drain-after", "2s"]).await;

    // Replica 3 dies first: whatever the balancer sends it before noticing waits in ingest.3.
    pipeline.kill("monitor-3");
    let readings = series(&devices, start_hours_ago(40), 240, value);
    pipeline.publish(&readings).await;
    assert_same_totals(&pipeline.wait_for_readings(readings.len() as i64).await, &ground_truth(&readings));
}
