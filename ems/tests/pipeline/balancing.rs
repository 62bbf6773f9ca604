//! The balancer alone, with the test standing in for monitors: it sends the heartbeats and reads
//! the ingest queues, so it sees exactly where each reading went.

use std::{collections::HashMap, time::Duration};

use ems_common::contracts::Heartbeat;
use ems_ingress::Reading;
use lapin::options::{BasicAckOptions, BasicGetOptions};
use uuid::Uuid;

use crate::harness::{Pipeline, series, start_hours_ago};

/// Announces fake replicas with the given weights until dropped.
fn fake_replicas(pipeline: &Pipeline, weights: &[(u32, u32)]) -> tokio::task::JoinHandle<()> {
    let (nats, subject, weights) =
        (pipeline.nats.clone(), pipeline.broker.names().heartbeat_subject(), weights.to_vec());
    tokio::spawn(async move {
        loop {
            for (replica, weight) in &weights {
                let heartbeat = Heartbeat { replica: *replica, weight: *weight, processed: 0 };
                nats.publish(subject.clone(), serde_json::to_vec(&heartbeat).unwrap().into()).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
}

/// Reads batches from each replica's queue until `expected` readings are collected.
async fn collect(pipeline: &Pipeline, replicas: &[u32], expected: usize) -> HashMap<u32, Vec<Reading>> {
    let mut collected: HashMap<u32, Vec<Reading>> = HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while collected.values().map(Vec::len).sum::<usize>() < expected {
        assert!(std::time::Instant::now() < deadline, "readings did not all reach the ingest queues within 60s");
        let mut got_any = false;
        for replica in replicas {
            let queue = pipeline.broker.names().ingest_queue(*replica);
            if let Ok(Some(message)) =
                pipeline.channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false }).await
            {
                let batch: Vec<Reading> = serde_json::from_slice(&message.delivery.data).unwrap();
                collected.entry(*replica).or_default().extend(batch);
                message.delivery.ack(BasicAckOptions::default()).await.unwrap();
                got_any = true;
            }
        }
        if !got_any {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    collected
}

/// Messages ready in `queue`.
async fn depth(pipeline: &Pipeline, queue: &str) -> u32 {
    ems_ingress::topology::depth(&pipeline.channel, queue).await.unwrap()
}

/// Takes every batch from a replica's queue until neither it nor `readings` has had anything for
/// a while (the balancer's linger is milliseconds).
async fn drain(pipeline: &Pipeline, replica: u32) {
    let (names, mut quiet) = (pipeline.broker.names(), 0);
    let queue = names.ingest_queue(replica);
    while quiet < 5 {
        let got = pipeline.channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true }).await.unwrap();
        if got.is_some() {
            quiet = 0;
        } else if depth(pipeline, &names.readings_queue()).await == 0 {
            quiet += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn weighted_round_robin_respects_the_weights() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 20]).await;
    let heartbeats = fake_replicas(&pipeline, &[(1, 1), (2, 2), (3, 3)]);
    pipeline.start("balancer", &[]);
    pipeline.wait_for_heartbeats(&[1, 2, 3]).await;

    let readings = series(&devices, start_hours_ago(60), 300, |_, _| 0.1);
    pipeline.publish(&readings).await;
    let collected = collect(&pipeline, &[1, 2, 3], readings.len()).await;
    heartbeats.abort();
    let total = readings.len() as f64;
    for (replica, weight) in [(1, 1.0), (2, 2.0), (3, 3.0)] {
        let share = collected[&replica].len() as f64 / total;
        assert!(
            (share - weight / 6.0).abs() < 0.02,
            "replica {replica} got {share:.3}, weight share {:.3}",
            weight / 6.0
        );
    }
}

#[tokio::test]
async fn consistent_hashing_keeps_each_device_on_one_replica() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 40]).await;
    let heartbeats = fake_replicas(&pipeline, &[(1, 1), (2, 1), (3, 1)]);
    pipeline.start("balancer", &["--strategy", "consistent-hash"]);
    pipeline.wait_for_heartbeats(&[1, 2, 3]).await;

    let readings = series(&devices, start_hours_ago(20), 50, |_, _| 0.1);
    pipeline.publish(&readings).await;
    let collected = collect(&pipeline, &[1, 2, 3], readings.len()).await;
    heartbeats.abort();
    let mut home: HashMap<Uuid, u32> = HashMap::new();
    for (replica, batch) in &collected {
        for reading in batch {
            let first = *home.entry(reading.device_id).or_insert(*replica);
            assert_eq!(first, *replica, "device {} went to replicas {first} and {replica}", reading.device_id);
        }
    }
    assert_eq!(home.len(), devices.len());
    assert!(collected.len() == 3, "40 devices spread over all three replicas");
}

#[tokio::test]
async fn least_loaded_sends_nothing_to_a_replica_with_a_backlog() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 10]).await;
    let heartbeats = fake_replicas(&pipeline, &[(1, 1), (2, 1)]);
    pipeline.start("balancer", &["--strategy", "least-loaded", "--batch-size", "10"]);
    pipeline.wait_for_heartbeats(&[1, 2]).await;

    // Replica 1 never consumes: its queue grows, and once the balancer polls that depth it sends
    // everything else to replica 2.
    let first = series(&devices, start_hours_ago(30), 40, |_, _| 0.1);
    pipeline.publish(&first).await;
    let _ = collect(&pipeline, &[2], 150).await;
    // Empty replica 2's queue of the whole first wave, so the second starts from known loads.
    drain(&pipeline, 2).await;
    let backlog_before = depth(&pipeline, &pipeline.broker.names().ingest_queue(1)).await;
    // The balancer polls depths once a second: wait until it has seen both queues as they are.
    pipeline
        .wait_for_metric("balancer", "balancer_ingest_queue_depth{replica=\"1\"} ", |seen| {
            seen >= f64::from(backlog_before)
        })
        .await;
    pipeline.wait_for_metric("balancer", "balancer_ingest_queue_depth{replica=\"2\"} ", |seen| seen == 0.0).await;
    // Fewer batches than replica 1's backlog: what is sent to replica 2 counts towards its load
    // until the next depth poll, so a wave larger than the backlog would rightly spill over to 1.
    let second = series(&devices, start_hours_ago(20), 8, |_, _| 0.1);
    pipeline.publish(&second).await;
    let _ = collect(&pipeline, &[2], 80).await;
    let backlog_after = depth(&pipeline, &pipeline.broker.names().ingest_queue(1)).await;
    heartbeats.abort();
    assert!(backlog_before > 0, "replica 1 got readings while both were empty");
    assert!(
        backlog_after <= backlog_before + 2,
        "replica 1's backlog grew from {backlog_before} to {backlog_after} batches"
    );
}

#[tokio::test]
async fn a_replica_that_falls_silent_during_a_backlog_leaves_the_rotation_in_time() {
    let mut pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[5.0; 50]).await;
    // A backlog waiting before the balancer starts, so that a delivery is always ready while it
    // lasts; small batches make it last.
    let backlog = series(&devices, start_hours_ago(200), 1200, |_, _| 0.1);
    pipeline.publish(&backlog).await;
    let steady = fake_replicas(&pipeline, &[(1, 1)]);
    let falling_silent = fake_replicas(&pipeline, &[(2, 1)]);
    pipeline.start("balancer", &["--batch-size", "10"]); // --replica-timeout 1500ms
    pipeline.wait_for_metric("balancer", "balancer_live_replicas ", |live| live == 2.0).await;
    let names = pipeline.broker.names();
    while depth(&pipeline, &names.ingest_queue(2)).await == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    falling_silent.abort();
    let silent_since = std::time::Instant::now();
    // Its last heartbeat is sent before now, it times out 1.5 s after it, and expiry is checked
    // every 0.5 s: anything sent to it 2 s later went to a replica known to be gone (1.5 s more
    // for a busy machine; without the timers served first, batches went to it for 10 s and more).
    let gone_by = silent_since + Duration::from_millis(2_000 + 1_500);
    tokio::time::sleep_until((gone_by + Duration::from_millis(500)).into()).await;
    let waiting = depth(&pipeline, &names.readings_queue()).await;
    assert!(waiting > 0, "the backlog was gone before the replica timed out: make it larger");
    while depth(&pipeline, &names.readings_queue()).await > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    steady.abort();

    let mut last_to_2 = None;
    let queue = names.ingest_queue(2);
    while let Some(message) =
        pipeline.channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true }).await.unwrap()
    {
        let since = ems_ingress::topology::since_sent(&message.delivery.properties).expect("batches are stamped");
        let sent = std::time::Instant::now() - since;
        last_to_2 = last_to_2.max(Some(sent));
    }
    let last_to_2 = last_to_2.expect("replica 2 got batches while it was live");
    assert!(
        last_to_2 <= gone_by,
        "replica 2 fell silent, yet a batch went to it {:?} after, with {waiting} readings still waiting then",
        last_to_2 - silent_since
    );
}
