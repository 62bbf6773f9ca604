//! Meters that speak MQTT: what they publish on the readings topic, through RabbitMQ's MQTT
//! plugin, is validated, dead-lettered and counted exactly as an AMQP reading is.
//!
//! The MQTT listener is `EMS_MQTT_URL` (`mqtt://HOST:PORT`), else port `EMS_MQTT_PORT` on the
//! RabbitMQ host, else the first of 1883 and 1884 there (scripts/services.sh takes 1884 when
//! another program holds 1883) that proves to be this RabbitMQ's: a probe published over MQTT
//! has to arrive in a queue of the test's own, since another MQTT broker would accept it too.

use std::{collections::BTreeMap, time::Duration};

use chrono::{SecondsFormat, TimeDelta};
use ems_ingress::topology::MQTT_EXCHANGE;
use lapin::{
    message::BasicGetMessage,
    options::{BasicAckOptions, BasicGetOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions},
    types::FieldTable,
    uri::AMQPUri,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;

use crate::harness::{Pipeline, hour_of, start_hours_ago};

/// Longest wait for the MQTT broker to answer a connect or a publish.
const MQTT_WAIT: Duration = Duration::from_secs(10);

/// What a meter's event loop reports.
enum Reported {
    Connected,
    Written,
    Acknowledged,
    Failed(String),
}

/// A meter connected over MQTT 3.1.1.
struct Meter {
    client: AsyncClient,
    reports: mpsc::UnboundedReceiver<Reported>,
    address: String,
}

impl Meter {
    /// Connects to `host:port` with the credentials of the pipeline's RabbitMQ user (RabbitMQ
    /// takes `vhost:user` as the MQTT username for a virtual host other than the plugin's `/`).
    async fn connect(pipeline: &Pipeline, host: &str, port: u16) -> Result<Self, String> {
        let amqp: AMQPUri = pipeline.broker.amqp_url.parse().expect("EMS_AMQP_URL is a valid AMQP URL");
        let user = &amqp.authority.userinfo;
        let username =
            if amqp.vhost == "/" { user.username.clone() } else { format!("{}:{}", amqp.vhost, user.username) };
        let client_id = format!("ems-test-meter-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let mut options = MqttOptions::new(client_id, host, port);
        options.set_credentials(username, user.password.clone()).set_keep_alive(Duration::from_secs(30));
        let (client, mut events) = AsyncClient::new(options, 16);
        let (report, reports) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let reported = match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => Reported::Connected,
                    Ok(Event::Incoming(Packet::PubAck(_))) => Reported::Acknowledged,
                    Ok(Event::Outgoing(Outgoing::Publish(_))) => Reported::Written,
                    Ok(_) => continue,
                    Err(error) => {
                        let _ = report.send(Reported::Failed(error.to_string()));
                        return; // polling again would reconnect; a test wants to hear of it
                    }
                };
                if report.send(reported).is_err() {
                    return;
                }
            }
        });
        let mut meter = Self { client, reports, address: format!("{host}:{port}") };
        meter.wait_for(|reported| matches!(reported, Reported::Connected)).await?;
        Ok(meter)
    }

    /// Publishes `body` on `topic` and returns once the broker has acknowledged it (QoS 1: its
    /// PUBACK, which RabbitMQ sends once the message is in its queues) or it is written (QoS 0).
    async fn publish(&mut self, topic: &str, qos: QoS, body: &[u8]) -> Result<(), String> {
        self.client.publish(topic, qos, false, body).await.map_err(|error| error.to_string())?;
        match qos {
            QoS::AtMostOnce => self.wait_for(|reported| matches!(reported, Reported::Written)).await,
            _ => self.wait_for(|reported| matches!(reported, Reported::Acknowledged)).await,
        }
    }

    async fn wait_for(&mut self, wanted: impl Fn(&Reported) -> bool) -> Result<(), String> {
        let address = self.address.clone();
        let waiting = async {
            loop {
                match self.reports.recv().await {
                    Some(Reported::Failed(error)) => return Err(format!("MQTT at {address}: {error}")),
                    Some(reported) if wanted(&reported) => return Ok(()),
                    Some(_) => {}
                    None => return Err(format!("MQTT at {address}: the event loop stopped")),
                }
            }
        };
        tokio::time::timeout(MQTT_WAIT, waiting)
            .await
            .unwrap_or_else(|_| Err(format!("MQTT at {address}: no answer within {MQTT_WAIT:?}")))
    }
}

/// A meter connected to this RabbitMQ's MQTT listener (see the module's comment for where it is
/// looked for); panics, saying what was tried and how to enable the listener, if there is none.
async fn meter_on_rabbitmq(pipeline: &Pipeline) -> Meter {
    let amqp_host = pipeline.broker.amqp_url.parse::<AMQPUri>().expect("a valid EMS_AMQP_URL").authority.host;
    let candidates: Vec<(String, u16)> = if let Ok(url) = std::env::var("EMS_MQTT_URL") {
        let address = url.strip_prefix("mqtt://").unwrap_or(&url).trim_end_matches('/');
        let (host, port) = address.rsplit_once(':').expect("EMS_MQTT_URL is mqtt://HOST:PORT");
        vec![(host.to_owned(), port.parse().expect("EMS_MQTT_URL's port is a number"))]
    } else if let Ok(port) = std::env::var("EMS_MQTT_PORT") {
        vec![(amqp_host, port.parse().expect("EMS_MQTT_PORT is a port number"))]
    } else {
        vec![(amqp_host.clone(), 1883), (amqp_host, 1884)]
    };
    let mut tried = Vec::new();
    for (host, port) in candidates {
        match Meter::connect(pipeline, &host, port).await {
            Ok(mut meter) => match is_this_rabbitmq(pipeline, &mut meter).await {
                Ok(()) => return meter,
                Err(why) => tried.push(format!("MQTT at {host}:{port}: {why}")),
            },
            Err(why) => tried.push(why),
        }
    }
    panic!(
        "no MQTT listener of the RabbitMQ at {} answered ({}): enable RabbitMQ's MQTT plugin with \
         scripts/services.sh (it chooses the port), or name its listener with EMS_MQTT_URL=mqtt://HOST:PORT",
        ems_common::broker::redact(&pipeline.broker.amqp_url),
        tried.join("; ")
    );
}

/// Whether `meter` talks to the pipeline's RabbitMQ: a probe it publishes reaches a queue bound
/// to `amq.topic` here. Another broker on the port acknowledges the probe just the same.
async fn is_this_rabbitmq(pipeline: &Pipeline, meter: &mut Meter) -> Result<(), String> {
    let options = QueueDeclareOptions { exclusive: true, auto_delete: true, ..QueueDeclareOptions::default() };
    let probes = pipeline.channel.queue_declare("".into(), options, FieldTable::default()).await.unwrap();
    let key = format!("{}.mqtt-probe", pipeline.broker.namespace);
    let bind = QueueBindOptions::default();
    pipeline
        .channel
        .queue_bind(probes.name().clone(), MQTT_EXCHANGE.into(), key.as_str().into(), bind, FieldTable::default())
        .await
        .unwrap();
    meter.publish(&key.replace('.', "/"), QoS::AtLeastOnce, b"probe").await?;
    // The PUBACK follows the enqueue, so the probe is in the queue by now if it came this way.
    let arrived = get(pipeline, probes.name().as_str()).await.is_some();
    let _ = pipeline.channel.queue_delete(probes.name().clone(), QueueDeleteOptions::default()).await;
    if arrived { Ok(()) } else { Err("an MQTT broker, but not this RabbitMQ (a probe never arrived)".into()) }
}

/// The next message in `queue`, acknowledged, if one comes within a few seconds.
async fn get(pipeline: &Pipeline, queue: &str) -> Option<BasicGetMessage> {
    for _ in 0..40 {
        let options = BasicGetOptions { no_ack: false };
        if let Some(message) = pipeline.channel.basic_get(queue.into(), options).await.unwrap() {
            message.delivery.ack(BasicAckOptions::default()).await.unwrap();
            return Some(message);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test]
async fn a_reading_published_over_mqtt_counts_once_however_often_it_comes_and_a_bad_one_is_dead_lettered() {
    let mut pipeline = Pipeline::new().await;
    let device = pipeline.devices(&[5.0]).await.remove(0);
    let mut meter = meter_on_rabbitmq(&pipeline).await;
    pipeline.run(1, &[]).await;

    let topic = pipeline.broker.names().mqtt_readings_topic();
    let at = start_hours_ago(3) + TimeDelta::minutes(20);
    let reading = json!({"device_id": device.id, "timestamp": at.timestamp_millis(), "measurement_value": 0.25});
    // The same reading as a meter would send it again: its timestamp as RFC 3339 text this time.
    let resent = json!({"device_id": device.id, "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "measurement_value": 0.25});
    let invalid = json!({"device_id": device.id, "timestamp": at.timestamp_millis(), "measurement_value": -0.25});
    for body in [&reading, &reading, &resent, &invalid] {
        meter.publish(&topic, QoS::AtLeastOnce, body.to_string().as_bytes()).await.unwrap();
    }
    pipeline.settle(1).await;

    let totals = pipeline.wait_for_readings(1).await;
    assert_eq!(totals, BTreeMap::from([((device.id, hour_of(at)), 0.25)]), "one reading of 0.25 kWh in its hour");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM readings WHERE device_id = $1")
        .bind(device.id)
        .fetch_one(&pipeline.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the reading is stored once");

    let dead = pipeline.take_invalid().await;
    assert_eq!(dead.len(), 1, "only the invalid reading is dead-lettered: {dead:?}");
    assert_eq!(dead[0].0, invalid.to_string().into_bytes(), "its body is kept unchanged");
    assert!(dead[0].1.contains("must be a finite number, not negative"), "its reason: {:?}", dead[0].1);
}

#[tokio::test]
async fn mqtt_publishes_reach_readings_without_a_content_type_and_persistent_only_at_qos_1() {
    // No balancer runs, so what the MQTT plugin delivers stays in `readings` to be looked at.
    let pipeline = Pipeline::new().await;
    let mut meter = meter_on_rabbitmq(&pipeline).await;
    let (topic, queue) = (pipeline.broker.names().mqtt_readings_topic(), pipeline.broker.names().readings_queue());

    for (qos, delivery_mode) in [(QoS::AtLeastOnce, 2), (QoS::AtMostOnce, 1)] {
        let body = format!("{{\"qos\": {}}}", qos as u8);
        meter.publish(&topic, qos, body.as_bytes()).await.unwrap();
        let message = get(&pipeline, &queue).await.unwrap_or_else(|| panic!("the {qos:?} message is in {queue}"));
        let properties = &message.delivery.properties;
        assert_eq!(message.delivery.data, body.as_bytes());
        assert_eq!(message.delivery.routing_key.as_str(), pipeline.broker.names().mqtt_readings_routing_key());
        assert_eq!(*properties.content_type(), None, "MQTT 3.1.1 has no content type");
        assert_eq!(*properties.delivery_mode(), Some(delivery_mode), "{qos:?}");
    }
}
