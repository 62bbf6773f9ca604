//! `EMS_QUEUE_TYPE=quorum`: every durable queue is declared as a quorum queue, readings flow
//! through the balancer to the monitors as with classic queues, and a declare of the other type
//! is refused with an error that says what to do.

use ems_common::broker::{Names, QueueType};
use ems_ingress::topology;

use crate::harness::{Pipeline, Services, assert_same_totals, ground_truth, series, start_hours_ago};

/// Declares the queues of `names` as `queue_type` on a fresh channel (RabbitMQ closes a channel
/// whose declare it refuses) and returns the error's text, if any.
async fn declare_as(pipeline: &Pipeline, names: &Names, queue_type: QueueType, replica: u32) -> Option<String> {
    let names = names.clone().with_queue_type(queue_type);
    let (_connection, channel) = fresh_channel(pipeline).await;
    let declared = match topology::declare(&channel, &names).await {
        Ok(()) => topology::declare_ingest(&channel, &names, replica).await,
        Err(error) => Err(error),
    };
    declared.err().map(|error| format!("{error:#}"))
}

async fn fresh_channel(pipeline: &Pipeline) -> (lapin::Connection, lapin::Channel) {
    let connection = pipeline.broker.amqp("quorum-test").await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    (connection, channel)
}

#[tokio::test]
async fn with_quorum_queues_readings_reach_the_monitors_and_count_once() {
    let mut pipeline = Pipeline::with_queue_type(Services::shared(), QueueType::Quorum).await;
    let devices = pipeline.devices(&[5.0, 5.0, 5.0]).await;
    pipeline.run(2, &[]).await;

    let readings = series(&devices, start_hours_ago(4), 24, |device, step| 0.05 + (device + step % 3) as f64 * 0.01);
    pipeline.publish(&readings).await;
    pipeline.publish(&readings[..20]).await; // resent: must not count again
    let totals = pipeline.wait_for_readings(readings.len() as i64).await;
    assert_same_totals(&totals, &ground_truth(&readings));
    pipeline.settle(2).await;
    assert_same_totals(&pipeline.totals().await, &ground_truth(&readings));

    // The queues the test, the balancer and the monitors declared are quorum queues: declaring
    // them again as quorum is accepted, as classic refused, for `readings` and for `ingest.N`.
    let names = pipeline.broker.names();
    assert_eq!(declare_as(&pipeline, &names, QueueType::Quorum, 2).await, None);
    let refused = declare_as(&pipeline, &names, QueueType::Classic, 2).await.expect("a classic declare is refused");
    let readings_queue = names.readings_queue();
    assert!(refused.contains(&format!("`{readings_queue}` already exists as a quorum queue")), "{refused}");
    assert!(refused.contains("EMS_QUEUE_TYPE=quorum"), "says how to keep the old setting: {refused}");
    assert!(refused.contains("delete_queue"), "says how to change the type: {refused}");
    let ingest = names.ingest_queue(1);
    let (_connection, channel) = fresh_channel(&pipeline).await;
    let refused = topology::declare_ingest(&channel, &names.clone().with_queue_type(QueueType::Classic), 1)
        .await
        .expect_err("the ingest queue is a quorum queue");
    assert!(format!("{refused:#}").contains(&format!("`{ingest}` already exists as a quorum queue")), "{refused:#}");
}

#[tokio::test]
async fn classic_queues_refuse_a_quorum_declare_with_the_queue_and_its_type() {
    let pipeline = Pipeline::new().await;
    let names = pipeline.broker.names();
    assert_eq!(declare_as(&pipeline, &names, QueueType::Classic, 1).await, None);
    let refused = declare_as(&pipeline, &names, QueueType::Quorum, 1).await.expect("a quorum declare is refused");
    assert!(refused.contains(&format!("`{}` already exists as a classic queue", names.readings_queue())), "{refused}");
    assert!(refused.contains("EMS_QUEUE_TYPE=classic"), "{refused}");
}
