//! The monitor's consuming loop: batches in, one transaction, alerts out, then acknowledge.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use ems_common::{
    Shutdown,
    broker::{self, Amqp, Names},
    contracts::Heartbeat,
};
use ems_ingress::{Reading, topology};
use futures::{FutureExt, StreamExt, stream::FuturesOrdered};
use lapin::{
    Channel, Connection,
    message::Delivery,
    options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, ConfirmSelectOptions},
    types::FieldTable,
};
use sqlx::PgPool;

use crate::{MonitorArgs, devices::DeviceCache, store};

/// Deliveries (each a batch of readings) stored together in one transaction, at most.
const DELIVERIES_PER_TRANSACTION: usize = 16;
const STAGE: &str = "monitor";

struct Monitor {
    replica: u32,
    pool: PgPool,
    names: Names,
    nats: async_nats::Client,
    devices: DeviceCache,
    processed: Arc<AtomicU64>,
    retention: crate::Retention,
}

/// Runs one replica until `shutdown`: the batches in hand are finished and acknowledged; batches
/// prefetched but not started go back to the queue when the channel closes. When RabbitMQ is lost
/// the replica consumes again on a new connection; what it had not acknowledged is redelivered and
/// counted once.
pub async fn run_worker(
    args: &MonitorArgs,
    replica: u32,
    pool: PgPool,
    amqp: &Amqp,
    nats: async_nats::Client,
    names: Names,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let devices = DeviceCache::load(pool.clone()).await.context("loading devices")?;
    let follower =
        tokio::spawn(devices.clone().follow(nats.clone(), names.devices_changed_subject(), shutdown.clone()));
    let processed = Arc::new(AtomicU64::new(0));
    let heartbeat = tokio::spawn(heartbeats(
        nats.clone(),
        names.clone(),
        replica,
        args.clone(),
        processed.clone(),
        shutdown.clone(),
    ));

    let mut connection = amqp.connection();
    let result = loop {
        let monitor = Monitor {
            replica,
            pool: pool.clone(),
            names: names.clone(),
            nats: nats.clone(),
            devices: devices.clone(),
            processed: processed.clone(),
            retention: args.raw_retention,
        };
        let Err(error) = monitor.consume(args, &connection, &shutdown).await else { break Ok(()) };
        if shutdown.is_triggered() || !broker::is_lost(&connection).await {
            break Err(error);
        }
        tracing::warn!(error = format!("{error:#}"), replica, "lost RabbitMQ; reconnecting");
        match amqp.reconnect(&connection, &shutdown).await {
            Some(fresh) => connection = fresh,
            None => break Ok(()),
        }
    };
    tracing::info!(replica, "monitor stopping");
    shutdown.trigger();
    let _ = heartbeat.await;
    let _ = follower.await;
    result
}

impl Monitor {
    /// Consumes `ingest.<replica>` on one connection until shutdown or a failure.
    async fn consume(&self, args: &MonitorArgs, amqp: &Connection, shutdown: &Shutdown) -> anyhow::Result<()> {
        let (replica, names) = (self.replica, &self.names);
        let channel = amqp.create_channel().await.context("opening a RabbitMQ channel")?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        topology::declare(&channel, names).await.context("declaring the reading queues")?;
        topology::declare_ingest(&channel, names, replica).await?;
        channel.basic_qos(args.prefetch, BasicQosOptions::default()).await?;

        let queue = names.ingest_queue(replica);
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                format!("monitor-{replica}").as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        tracing::info!(replica, %queue, "monitor consuming");

        let mut failures = ems_common::retry::Failures::new(Duration::from_millis(400), Duration::from_secs(6));
        // Batches being stored (up to `--monitor-transactions`), oldest first: settled
        // (acknowledged or sent back) in that order. With two, the deliveries that arrive while
        // one batch commits are stored at once on a second connection instead of waiting for that
        // commit. Two transactions writing the same device and hour take its row in turn (see
        // `store`), so totals and alerts stay exact; only the NATS messages of two such batches
        // may leave in either order.
        let mut in_flight = FuturesOrdered::new();
        loop {
            let event = tokio::select! {
                biased;
                Some(done) = in_flight.next(), if !in_flight.is_empty() => Event::Stored(done),
                () = shutdown.requested() => break,
                next = consumer.next(), if in_flight.len() < usize::from(args.transactions) => match next {
                    Some(delivery) => Event::Delivered(Box::new(delivery.context("the ingest consumer failed")?)),
                    None => anyhow::bail!("RabbitMQ closed the ingest consumer of replica {replica}"),
                },
            };
            match event {
                Event::Delivered(first) => {
                    let mut deliveries = vec![*first];
                    while deliveries.len() < DELIVERIES_PER_TRANSACTION {
                        match consumer.next().now_or_never() {
                            Some(Some(Ok(delivery))) => deliveries.push(delivery),
                            _ => break,
                        }
                    }
                    let last_tag = deliveries.last().map(|delivery| delivery.delivery_tag).unwrap_or_default();
                    in_flight.push_back(self.process(&channel, deliveries).map(move |result| (result, last_tag)));
                }
                Event::Stored((result, last_tag)) => {
                    if settle(&channel, replica, result, last_tag).await? {
                        failures.succeeded();
                        continue;
                    }
                    // Settle the batch still being stored before pausing, rather than hold its
                    // transaction open; it goes back to the queue too if it fails.
                    while let Some((result, last_tag)) = in_flight.next().await {
                        settle(&channel, replica, result, last_tag).await?;
                    }
                    // The batches are back in the queue, so a stop during the pause loses nothing.
                    let pause = failures.failed();
                    tracing::info!(replica, ?pause, "pausing before taking batches again");
                    ems_common::retry::pause(pause, shutdown).await;
                }
            }
        }
        // On shutdown the batches in hand are finished and settled; the rest go back to the queue.
        while let Some((result, last_tag)) = in_flight.next().await {
            settle(&channel, replica, result, last_tag).await?;
        }
        channel.close(200, "monitor stopped".into()).await.ok();
        Ok(())
    }

    async fn process(&self, channel: &Channel, deliveries: Vec<Delivery>) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut readings: Vec<Reading> = Vec::new();
        let mut confirms = Vec::new();
        for delivery in &deliveries {
            // From the balancer's publish to now: the hop, and the wait for this replica's
            // transactions in hand.
            if let Some(delay) = topology::since_sent(&delivery.properties) {
                metrics::histogram!("monitor_batch_delay_seconds").record(delay.as_secs_f64());
            }
            match serde_json::from_slice::<Vec<Reading>>(&delivery.data) {
                Ok(batch) => readings.extend(batch),
                Err(error) => {
                    let reason = format!("an ingest batch is not a JSON list of readings: {error}");
                    confirms.push(topology::dead_letter(channel, &self.names, &delivery.data, &reason, STAGE).await?);
                }
            }
        }

        let ids: HashSet<_> = readings.iter().map(|reading| reading.device_id).collect();
        let known = self.devices.resolve(&ids).await?;
        let (readings, unknown): (Vec<Reading>, Vec<Reading>) =
            readings.into_iter().partition(|reading| known.contains_key(&reading.device_id));
        for reading in &unknown {
            let reason = format!("unknown device {}: no device has this id", reading.device_id);
            confirms.push(topology::dead_letter(channel, &self.names, &reading.to_json(), &reason, STAGE).await?);
        }

        // Older than the retention: its day's readings are (or are about to be) dropped and its
        // hour's total is final, so storing it could count it a second time.
        let cutoff = self.retention.cutoff(chrono::Utc::now());
        let (readings, too_old): (Vec<Reading>, Vec<Reading>) =
            readings.into_iter().partition(|reading| cutoff.is_none_or(|cutoff| reading.timestamp >= cutoff));
        for reading in &too_old {
            let reason = format!(
                "timestamp {} is older than the raw-reading retention ({}): hours before {} are final. \
                 To accept older readings, raise EMS_RAW_RETENTION (--raw-retention)",
                reading.timestamp.to_rfc3339(),
                self.retention,
                cutoff.map(|cutoff| cutoff.to_rfc3339()).unwrap_or_default(),
            );
            confirms.push(topology::dead_letter(channel, &self.names, &reading.to_json(), &reason, STAGE).await?);
        }
        metrics::counter!("monitor_readings_too_old_total").increment(too_old.len() as u64);

        let mut metered = Vec::with_capacity(readings.len());
        for reading in &readings {
            match store::Metered::new(reading) {
                Some(reading) => metered.push(reading),
                None => {
                    let reason =
                        format!("measurement_value {} kWh cannot be stored as a decimal", reading.measurement_value);
                    confirms
                        .push(topology::dead_letter(channel, &self.names, &reading.to_json(), &reason, STAGE).await?);
                }
            }
        }

        let storing = Instant::now();
        let stored = match store::store(&self.pool, &metered, &known).await {
            Ok(stored) => {
                metrics::histogram!("monitor_store_seconds").record(storing.elapsed().as_secs_f64());
                stored
            }
            // A device deleted since we looked it up: refresh and let the retry dead-letter it.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("23503") => {
                for id in &ids {
                    self.devices.refresh(*id).await?;
                }
                anyhow::bail!("a device of this batch was deleted meanwhile");
            }
            Err(error) => return Err(error.into()),
        };
        for confirm in confirms {
            let confirmation = confirm.await?;
            anyhow::ensure!(confirmation.is_ack(), "RabbitMQ refused a dead-lettered message");
        }
        for alert in &stored.alerts {
            metrics::counter!("monitor_alerts_total", "kind" => alert.kind.as_str()).increment(1);
            // Stored acknowledged while its device is snoozed: kept in the list, not pushed.
            if alert.snoozed {
                metrics::counter!("monitor_alerts_snoozed_total", "kind" => alert.kind.as_str()).increment(1);
                continue;
            }
            let Some(user_id) = alert.user_id else { continue };
            let payload = serde_json::to_vec(alert)?;
            if let Err(error) = self.nats.publish(self.names.alerts_subject(user_id), payload.into()).await {
                // Stored already: the user sees it in the alert list and on reconnect.
                tracing::warn!(%error, alert_id = alert.id, "publishing an alert failed");
            }
        }
        self.processed.fetch_add(stored.inserted as u64, Ordering::Relaxed);
        let replica = self.replica.to_string();
        metrics::counter!("monitor_readings_stored_total", "replica" => replica.clone())
            .increment(stored.inserted as u64);
        metrics::counter!("monitor_readings_duplicate_total", "replica" => replica.clone())
            .increment(stored.duplicates as u64);
        metrics::histogram!("monitor_batch_seconds", "replica" => replica).record(started.elapsed().as_secs_f64());
        Ok(())
    }
}

enum Event {
    Delivered(Box<Delivery>),
    Stored((anyhow::Result<()>, u64)),
}

/// Acknowledges a stored batch (by `multiple`, only its own deliveries: those before it are
/// settled already), or sends a failed one back to the queue. Tells whether it was stored.
async fn settle(channel: &Channel, replica: u32, result: anyhow::Result<()>, last_tag: u64) -> anyhow::Result<bool> {
    match result {
        Ok(()) => {
            channel.basic_ack(last_tag, BasicAckOptions { multiple: true }).await?;
            Ok(true)
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), replica, "storing a batch failed; it goes back to the queue");
            metrics::counter!("monitor_batch_failures_total").increment(1);
            channel.basic_nack(last_tag, BasicNackOptions { multiple: true, requeue: true }).await?;
            Ok(false)
        }
    }
}

/// Announces the replica until shutdown; the last heartbeat has weight 0, which tells the
/// balancer to take the replica out of rotation at once.
async fn heartbeats(
    nats: async_nats::Client,
    names: Names,
    replica: u32,
    args: MonitorArgs,
    processed: Arc<AtomicU64>,
    shutdown: Shutdown,
) {
    let subject = names.heartbeat_subject();
    let mut ticks = tokio::time::interval(args.heartbeat_interval);
    loop {
        let leaving = tokio::select! {
            () = shutdown.requested() => true,
            _ = ticks.tick() => false,
        };
        let heartbeat = Heartbeat {
            replica,
            weight: if leaving { 0 } else { args.weight },
            processed: processed.load(Ordering::Relaxed),
        };
        let payload = serde_json::to_vec(&heartbeat).expect("a heartbeat serialises");
        if let Err(error) = nats.publish(subject.clone(), payload.into()).await {
            tracing::warn!(%error, "sending a heartbeat failed");
        }
        if leaving {
            let _ = nats.flush().await;
            return;
        }
    }
}
