//! The RabbitMQ queues readings travel through, declared the same way by whichever service starts
//! first (declaring is idempotent as long as every declarer uses these exact arguments).
//!
//! - `readings` (durable, single active consumer): meters publish here; the active balancer
//!   consumes, and a standby balancer's consumer waits until the active one goes away.
//! - `readings.invalid` (durable): every rejected message, its body unchanged, with the reason
//!   in the `x-ems-reason` header and the stage that rejected it in `x-ems-stage`.
//! - `ingest.<replica>` (durable): batches the balancer hands to one monitor replica.
//!
//! Meters that speak MQTT publish to the topic `ems/readings` on RabbitMQ's MQTT plugin, which
//! hands every MQTT message to the `amq.topic` exchange with the topic's `/` turned into `.`; the
//! binding of `readings` to `amq.topic` with the key `ems.readings` puts those messages in the
//! same queue as the AMQP ones, so they are validated, dead-lettered and counted the same way.
//! Nothing downstream depends on content type, delivery mode or headers, which MQTT messages
//! carry differently (no content type; persistent only when published with QoS 1); a
//! [`SENT_AT_HEADER`], where there is one, is only measured.
//!
//! All three are declared with the configured queue type (`EMS_QUEUE_TYPE`): classic, or quorum
//! (replicated over a RabbitMQ cluster). Quorum queues must be durable, non-exclusive and not
//! auto-delete, which these declares are, and take single active consumer as classic ones do.

use anyhow::Context;
use ems_common::broker::{Names, QueueType};
use futures::StreamExt;
use lapin::{
    BasicProperties, Channel, PublisherConfirm,
    options::{BasicPublishOptions, QueueBindOptions, QueueDeclareOptions},
    protocol::{AMQPErrorKind, AMQPSoftError},
    types::{AMQPValue, FieldTable, LongString},
};

/// Where RabbitMQ's MQTT plugin publishes what MQTT clients send (its `mqtt.exchange` default),
/// present in every virtual host whether or not the plugin is enabled.
pub const MQTT_EXCHANGE: &str = "amq.topic";
pub const REASON_HEADER: &str = "x-ems-reason";
pub const STAGE_HEADER: &str = "x-ems-stage";
/// When a message was published: microseconds since the Unix epoch on the publisher's clock.
/// What EMS publishes (the simulator's and the benchmark's readings, the balancer's batches)
/// carries it, and the stage that receives the message records how long it travelled and waited
/// (`balancer_reading_delay_seconds`, `monitor_batch_delay_seconds`), which is how the time from
/// a meter to an alert is split by stage. Meters need not send it.
pub const SENT_AT_HEADER: &str = "x-ems-sent-at-us";
/// Content type of the batches on ingest queues: a JSON array of readings.
pub const BATCH_CONTENT_TYPE: &str = "application/vnd.ems.reading-batch+json";

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() }
}

/// The arguments a durable queue of `queue_type` is declared with. Classic queues carry no
/// `x-queue-type`, exactly as they were declared before the setting existed, so existing queues
/// still match.
pub fn queue_arguments(queue_type: QueueType) -> FieldTable {
    let mut arguments = FieldTable::default();
    if queue_type == QueueType::Quorum {
        arguments.insert("x-queue-type".into(), AMQPValue::LongString(LongString::from(queue_type.as_str())));
    }
    arguments
}

/// Declares one durable queue of the configured type. A queue that exists with the other type
/// makes RabbitMQ refuse the declare and close the channel: the error says which queue, which type
/// it has and what to do.
async fn declare_durable(channel: &Channel, names: &Names, queue: &str, arguments: FieldTable) -> anyhow::Result<()> {
    let queue_type = names.queue_type();
    match channel.queue_declare(queue.into(), durable(), arguments).await {
        Ok(_) => Ok(()),
        Err(error) if is_queue_type_mismatch(&error) => Err(anyhow::anyhow!(
            "RabbitMQ queue `{queue}` already exists as a {existing} queue, but EMS_QUEUE_TYPE \
             (--queue-type) is `{queue_type}`: keep the old setting (EMS_QUEUE_TYPE={existing}), \
             or delete the queue once it is drained (`rabbitmqctl delete_queue {queue}`) so that it \
             is declared again as {queue_type} ({error})",
            existing = queue_type.other(),
        )),
        Err(error) => Err(anyhow::Error::new(error).context(format!("declaring RabbitMQ queue `{queue}`"))),
    }
}

/// RabbitMQ's PRECONDITION_FAILED for a declare whose `x-queue-type` differs from the queue's.
fn is_queue_type_mismatch(error: &lapin::Error) -> bool {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => {
            *amqp.kind() == AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED)
                && amqp.get_message().as_str().contains("'x-queue-type'")
        }
        _ => false,
    }
}

/// Declares `readings` and `readings.invalid`, and binds `readings` to the MQTT topic.
pub async fn declare(channel: &Channel, names: &Names) -> anyhow::Result<()> {
    let mut readings_arguments = queue_arguments(names.queue_type());
    readings_arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    declare_durable(channel, names, &names.readings_queue(), readings_arguments).await?;
    declare_durable(channel, names, &names.invalid_queue(), queue_arguments(names.queue_type())).await?;
    bind_mqtt_readings(channel, names).await
}

/// Binds `readings` to what meters publish on the MQTT topic (binding again changes nothing).
/// An MQTT message that matches no binding is dropped by RabbitMQ even at QoS 1, so this must be
/// in place before meters publish: every service that declares the queues binds it too.
async fn bind_mqtt_readings(channel: &Channel, names: &Names) -> anyhow::Result<()> {
    let (queue, routing_key) = (names.readings_queue(), names.mqtt_readings_routing_key());
    channel
        .queue_bind(
            queue.as_str().into(),
            MQTT_EXCHANGE.into(),
            routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .with_context(|| format!("binding RabbitMQ queue `{queue}` to `{MQTT_EXCHANGE}` with key `{routing_key}`"))
}

/// Declares one replica's ingest queue.
pub async fn declare_ingest(channel: &Channel, names: &Names, replica: u32) -> anyhow::Result<()> {
    declare_durable(channel, names, &names.ingest_queue(replica), queue_arguments(names.queue_type())).await
}

/// Messages now waiting in a queue (passive declare: fails if the queue does not exist).
pub async fn depth(channel: &Channel, queue: &str) -> lapin::Result<u32> {
    let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
    Ok(channel.queue_declare(queue.into(), options, FieldTable::default()).await?.message_count())
}

/// Persistent JSON message properties.
pub fn persistent(content_type: &str) -> BasicProperties {
    BasicProperties::default().with_delivery_mode(2).with_content_type(content_type.into())
}

/// `properties` with the [`SENT_AT_HEADER`] of now.
pub fn stamped(properties: BasicProperties) -> BasicProperties {
    let mut headers = properties.headers().clone().unwrap_or_default();
    let now = chrono::Utc::now().timestamp_micros();
    headers.insert(SENT_AT_HEADER.into(), AMQPValue::LongLongInt(now));
    properties.with_headers(headers)
}

/// How long ago a message was published, by its [`SENT_AT_HEADER`]; `None` without one (or
/// with one from a clock ahead of ours).
pub fn since_sent(properties: &BasicProperties) -> Option<std::time::Duration> {
    let sent = match properties.headers().as_ref()?.inner().get(SENT_AT_HEADER)? {
        AMQPValue::LongLongInt(micros) => *micros,
        _ => return None,
    };
    let micros = chrono::Utc::now().timestamp_micros().checked_sub(sent)?;
    Some(std::time::Duration::from_micros(u64::try_from(micros).ok()?))
}

/// Publishes a rejected message to `readings.invalid` with its reason, and counts it. The caller
/// awaits the returned confirm before acknowledging the original message, so nothing is lost.
pub async fn dead_letter(
    channel: &Channel,
    names: &Names,
    body: &[u8],
    reason: &str,
    stage: &str,
) -> lapin::Result<PublisherConfirm> {
    let mut headers = FieldTable::default();
    headers.insert(REASON_HEADER.into(), AMQPValue::LongString(LongString::from(reason.as_bytes().to_vec())));
    headers.insert(STAGE_HEADER.into(), AMQPValue::LongString(LongString::from(stage.as_bytes().to_vec())));
    metrics::counter!("readings_invalid_total", "stage" => stage.to_owned()).increment(1);
    tracing::debug!(%reason, stage, "dead-lettering a message");
    channel
        .basic_publish(
            "".into(),
            names.invalid_queue().as_str().into(),
            BasicPublishOptions::default(),
            body,
            persistent("application/json").with_headers(headers),
        )
        .await
}

/// Publishes one message to `queue` the way readings travel: on the default exchange, persistent,
/// as JSON, stamped with when it was sent. Await the returned confirm before counting the message
/// as sent.
pub async fn publish(channel: &Channel, queue: &str, body: &[u8]) -> lapin::Result<PublisherConfirm> {
    let properties = stamped(persistent("application/json"));
    channel.basic_publish("".into(), queue.into(), BasicPublishOptions::default(), body, properties).await
}

/// Publishes `bodies` to `queue` (see [`publish`]) on a channel in confirm mode, with at most
/// `max_in_flight` unconfirmed at a time, and returns once RabbitMQ has confirmed every one;
/// fails if any is refused. Returns how many were published.
pub async fn publish_confirmed(
    channel: &Channel,
    queue: &str,
    bodies: impl IntoIterator<Item = Vec<u8>>,
    max_in_flight: usize,
) -> anyhow::Result<u64> {
    let mut in_flight: futures::stream::FuturesUnordered<PublisherConfirm> = Default::default();
    let mut published = 0;
    for body in bodies {
        while in_flight.len() >= max_in_flight.max(1) {
            let confirmation = in_flight.next().await.expect("not empty");
            anyhow::ensure!(confirmation?.is_ack(), "RabbitMQ refused a message published to {queue}");
        }
        in_flight.push(publish(channel, queue, &body).await?);
        published += 1;
    }
    while let Some(confirmation) = in_flight.next().await {
        anyhow::ensure!(confirmation?.is_ack(), "RabbitMQ refused a message published to {queue}");
    }
    Ok(published)
}

/// Reads the reason header of a dead-lettered message.
pub fn reason_of(properties: &BasicProperties) -> Option<String> {
    let headers = properties.headers().as_ref()?;
    match headers.inner().get(REASON_HEADER)? {
        AMQPValue::LongString(text) => Some(String::from_utf8_lossy(text.as_bytes()).into_owned()),
        _ => None,
    }
}
