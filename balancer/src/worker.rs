//! The balancer's loop: readings in from `readings`, batches out to `ingest.<replica>`, and each
//! source delivery acknowledged only once the batch holding its reading is confirmed by RabbitMQ.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::Utc;
use ems_common::{
    Shutdown,
    broker::{self, Amqp, Names},
    contracts::Heartbeat,
};
use ems_ingress::{Reading, reading, topology};
use futures::{FutureExt, StreamExt, future::BoxFuture, stream::FuturesUnordered};
use lapin::{
    Channel, Confirmation, Connection,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions, BasicPublishOptions,
        BasicQosOptions, ConfirmSelectOptions,
    },
    types::FieldTable,
};
use tokio::sync::{mpsc, oneshot};

use crate::{BalancerArgs, acks::AckTracker, membership::Membership, strategy::Router};

const STAGE: &str = "balancer";
const CONSUMER_TAG: &str = "balancer";

/// Where a reading came from, so its source can be settled once the reading is safe.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// A delivery from `readings`, by delivery tag.
    Source(u64),
    /// A batch drained from a departed replica's queue, by drain id.
    Drain(u64),
}

enum Settled {
    Forwarded { replica: u32, readings: Vec<Reading>, origins: Vec<Origin>, outcome: lapin::Result<Confirmation> },
    DeadLettered { tag: u64, outcome: lapin::Result<Confirmation> },
}

/// A batch taken from a departed replica's queue; `done` fires when all of it is re-forwarded.
struct Drained {
    readings: Vec<Reading>,
    done: oneshot::Sender<()>,
}

#[derive(Default)]
struct Batch {
    readings: Vec<Reading>,
    origins: Vec<Origin>,
    opened: Option<Instant>,
}

struct Balancer {
    args: BalancerArgs,
    names: Names,
    publisher: Channel,
    control: Channel,
    router: Router,
    membership: Membership,
    declared: HashSet<u32>,
    batches: HashMap<u32, Batch>,
    /// Readings waiting for any replica to be live.
    unrouted: VecDeque<(Reading, Origin)>,
    in_flight: FuturesUnordered<BoxFuture<'static, Settled>>,
    acks: AckTracker,
    drains: HashMap<u64, (usize, oneshot::Sender<()>)>,
    next_drain: u64,
}

/// Runs the balancer until `shutdown`, starting again on a new connection whenever RabbitMQ is
/// lost: readings not yet acknowledged return to `readings` and are routed again (a batch that was
/// stored but not confirmed reaches its replica twice, and the replica counts it once).
pub async fn run_worker(
    args: &BalancerArgs,
    replica_timeout: Duration,
    amqp: &Amqp,
    nats: async_nats::Client,
    names: Names,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let mut connection = amqp.connection();
    loop {
        let outcome = session(args, replica_timeout, &connection, nats.clone(), names.clone(), &shutdown).await;
        let Err(error) = outcome else { return Ok(()) };
        if shutdown.is_triggered() || !broker::is_lost(&connection).await {
            return Err(error);
        }
        tracing::warn!(error = format!("{error:#}"), "lost RabbitMQ; reconnecting");
        match amqp.reconnect(&connection, &shutdown).await {
            Some(fresh) => connection = fresh,
            None => return Ok(()),
        }
    }
}

/// One connection's worth of balancing; returns at shutdown or when something fails.
async fn session(
    args: &BalancerArgs,
    replica_timeout: Duration,
    amqp: &Connection,
    nats: async_nats::Client,
    names: Names,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let source = amqp.create_channel().await.context("opening a RabbitMQ channel")?;
    let publisher = amqp.create_channel().await?;
    publisher.confirm_select(ConfirmSelectOptions::default()).await?;
    let control = amqp.create_channel().await?;
    topology::declare(&control, &names).await.context("declaring the reading queues")?;
    source.basic_qos(args.prefetch, BasicQosOptions::default()).await?;

    let mut heartbeats = nats.subscribe(names.heartbeat_subject()).await?;
    let mut consumer = source
        .basic_consume(
            names.readings_queue().as_str().into(),
            CONSUMER_TAG.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = %names.readings_queue(), strategy = ?args.strategy, "balancer consuming (or standing by while another balancer is active)");

    let (drained_sender, mut drained) = mpsc::channel::<Drained>(4);
    let mut balancer = Balancer {
        args: args.clone(),
        names: names.clone(),
        publisher,
        control,
        router: Router::new(args.strategy, args.batch_size),
        membership: Membership::new(replica_timeout, args.drain_after),
        declared: HashSet::new(),
        batches: HashMap::new(),
        unrouted: VecDeque::new(),
        in_flight: FuturesUnordered::new(),
        acks: AckTracker::default(),
        drains: HashMap::new(),
        next_drain: 0,
    };
    let mut housekeeping = tokio::time::interval(Duration::from_millis(500));
    let mut depth_poll = tokio::time::interval(Duration::from_secs(1));

    loop {
        // A batch leaves when it is full or when it has waited `batch_linger`, to the
        // millisecond: the sleep is for the oldest open batch's deadline, not a periodic check.
        let lingering = balancer.linger_deadline();
        tokio::select! {
            biased;
            () = shutdown.requested() => break,
            Some(settled) = balancer.in_flight.next(), if !balancer.in_flight.is_empty() => balancer.settle(settled).await?,
            Some(message) = heartbeats.next() => {
                match serde_json::from_slice::<Heartbeat>(&message.payload) {
                    Ok(heartbeat) => {
                        balancer.membership.heartbeat(&heartbeat, Instant::now());
                        balancer.apply_membership().await?;
                    }
                    Err(error) => tracing::warn!(%error, "ignoring a malformed heartbeat"),
                }
            }
            Some(batch) = drained.recv() => balancer.accept_drained(batch).await?,
            // The timers come before the next delivery: under a backlog a delivery is always
            // ready, and a batch whose linger is up would wait for a gap in it, a departed replica
            // for its expiry, the least-loaded strategy for its depths.
            () = tokio::time::sleep_until(lingering.unwrap_or_else(tokio::time::Instant::now)), if lingering.is_some() => {
                balancer.flush_lingering().await?
            }
            _ = housekeeping.tick() => {
                balancer.membership.expire(Instant::now());
                balancer.apply_membership().await?;
                for replica in balancer.membership.due_for_drain(Instant::now()) {
                    let channel = amqp.create_channel().await?;
                    tokio::spawn(drain(channel, names.clone(), replica, drained_sender.clone()));
                }
            }
            _ = depth_poll.tick() => balancer.poll_depths().await,
            delivery = consumer.next() => {
                let delivery = delivery.context("RabbitMQ closed the readings consumer")?.context("the readings consumer failed")?;
                if let Some(delay) = topology::since_sent(&delivery.properties) {
                    metrics::histogram!("balancer_reading_delay_seconds").record(delay.as_secs_f64());
                }
                balancer.accept(delivery.delivery_tag, &delivery.data).await?;
            }
        }
        balancer.acknowledge(&source).await?;
    }

    tracing::info!("balancer stopping: no new readings; finishing batches in flight");
    source.basic_cancel(CONSUMER_TAG.into(), BasicCancelOptions::default()).await.ok();
    balancer.flush_all().await?;
    let deadline = tokio::time::Instant::now() + args.shutdown_grace;
    while !balancer.in_flight.is_empty() {
        match tokio::time::timeout_at(deadline, balancer.in_flight.next()).await {
            Ok(Some(settled)) => balancer.settle(settled).await?,
            _ => break,
        }
        balancer.acknowledge(&source).await?;
    }
    // Anything not acknowledged now is redelivered to the next active balancer.
    source.close(200, "balancer stopped".into()).await.ok();
    balancer.publisher.close(200, "balancer stopped".into()).await.ok();
    balancer.control.close(200, "balancer stopped".into()).await.ok();
    Ok(())
}

impl Balancer {
    async fn accept(&mut self, tag: u64, body: &[u8]) -> anyhow::Result<()> {
        match reading::parse(body, Utc::now()) {
            Ok(reading) => self.route(reading, Origin::Source(tag)).await,
            Err(rejection) => {
                let confirm =
                    topology::dead_letter(&self.publisher, &self.names, body, &rejection.reason, STAGE).await?;
                self.in_flight.push(async move { Settled::DeadLettered { tag, outcome: confirm.await } }.boxed());
                Ok(())
            }
        }
    }

    async fn accept_drained(&mut self, batch: Drained) -> anyhow::Result<()> {
        if batch.readings.is_empty() {
            let _ = batch.done.send(());
            return Ok(());
        }
        let id = self.next_drain;
        self.next_drain += 1;
        self.drains.insert(id, (batch.readings.len(), batch.done));
        for reading in batch.readings {
            self.route(reading, Origin::Drain(id)).await?;
        }
        Ok(())
    }

    async fn route(&mut self, reading: Reading, origin: Origin) -> anyhow::Result<()> {
        let Some(replica) = self.router.pick(reading.device_id) else {
            if self.unrouted.is_empty() {
                tracing::warn!("no monitor replica is live; holding readings until one is");
            }
            self.unrouted.push_back((reading, origin));
            return Ok(());
        };
        let batch = self.batches.entry(replica).or_default();
        batch.opened.get_or_insert_with(Instant::now);
        batch.readings.push(reading);
        batch.origins.push(origin);
        if batch.readings.len() >= self.args.batch_size {
            self.flush(replica).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, replica: u32) -> anyhow::Result<()> {
        let Some(batch) = self.batches.remove(&replica) else { return Ok(()) };
        if batch.readings.is_empty() {
            return Ok(());
        }
        let body = serde_json::to_vec(&batch.readings)?;
        let confirm = self
            .publisher
            .basic_publish(
                "".into(),
                self.names.ingest_queue(replica).as_str().into(),
                BasicPublishOptions::default(),
                &body,
                topology::stamped(topology::persistent(topology::BATCH_CONTENT_TYPE)),
            )
            .await
            .context("publishing a batch")?;
        metrics::histogram!("balancer_batch_size", "replica" => replica.to_string())
            .record(batch.readings.len() as f64);
        self.router.sent_batch(replica, batch.readings.len());
        if let Some(opened) = batch.opened {
            metrics::histogram!("balancer_batch_linger_seconds").record(opened.elapsed().as_secs_f64());
        }
        let (readings, origins) = (batch.readings, batch.origins);
        self.in_flight
            .push(async move { Settled::Forwarded { replica, readings, origins, outcome: confirm.await } }.boxed());
        Ok(())
    }

    /// When the oldest open batch has waited `batch_linger`; `None` while no batch is open.
    fn linger_deadline(&self) -> Option<tokio::time::Instant> {
        let opened = self.batches.values().filter_map(|batch| batch.opened).min()?;
        Some(tokio::time::Instant::from_std(opened + self.args.batch_linger))
    }

    async fn flush_lingering(&mut self) -> anyhow::Result<()> {
        let linger = self.args.batch_linger;
        let due: Vec<u32> = self
            .batches
            .iter()
            .filter(|(_, batch)| batch.opened.is_some_and(|opened| opened.elapsed() >= linger))
            .map(|(replica, _)| *replica)
            .collect();
        for replica in due {
            self.flush(replica).await?;
        }
        Ok(())
    }

    async fn flush_all(&mut self) -> anyhow::Result<()> {
        let replicas: Vec<u32> = self.batches.keys().copied().collect();
        for replica in replicas {
            self.flush(replica).await?;
        }
        Ok(())
    }

    async fn settle(&mut self, settled: Settled) -> anyhow::Result<()> {
        match settled {
            Settled::Forwarded { replica, readings, origins, outcome } => match outcome {
                Ok(confirmation) if confirmation.is_ack() => {
                    metrics::counter!("balancer_forwarded_total", "replica" => replica.to_string())
                        .increment(readings.len() as u64);
                    for origin in origins {
                        self.finish(origin);
                    }
                }
                failed => {
                    anyhow::ensure!(self.publisher.status().connected(), "the publishing channel closed: {failed:?}");
                    tracing::warn!(replica, ?failed, "a batch was not confirmed; routing its readings again");
                    for (reading, origin) in readings.into_iter().zip(origins) {
                        self.route(reading, origin).await?;
                    }
                }
            },
            Settled::DeadLettered { tag, outcome } => {
                let confirmation = outcome.context("dead-lettering a message failed")?;
                anyhow::ensure!(confirmation.is_ack(), "RabbitMQ refused a dead-lettered message");
                self.acks.finish(tag);
            }
        }
        Ok(())
    }

    fn finish(&mut self, origin: Origin) {
        match origin {
            Origin::Source(tag) => self.acks.finish(tag),
            Origin::Drain(id) => {
                if let Some((remaining, _)) = self.drains.get_mut(&id) {
                    *remaining -= 1;
                    if *remaining == 0
                        && let Some((_, done)) = self.drains.remove(&id)
                    {
                        let _ = done.send(());
                    }
                }
            }
        }
    }

    async fn acknowledge(&mut self, source: &Channel) -> anyhow::Result<()> {
        if let Some(tag) = self.acks.take_ack() {
            source.basic_ack(tag, BasicAckOptions { multiple: true }).await.context("acknowledging readings")?;
        }
        Ok(())
    }

    /// Brings the router in line with the live replicas; readings held for a replica that left
    /// are routed again, and readings waiting for any replica go out once one is live.
    async fn apply_membership(&mut self) -> anyhow::Result<()> {
        let live = self.membership.live();
        for replica in live.keys() {
            if self.declared.insert(*replica) {
                topology::declare_ingest(&self.control, &self.names, *replica).await?;
            }
        }
        if !self.router.set_members(&live) {
            if !self.router.is_empty() && !self.unrouted.is_empty() {
                self.route_unrouted().await?;
            }
            return Ok(());
        }
        metrics::gauge!("balancer_live_replicas").set(live.len() as f64);
        tracing::info!(replicas = ?live, "rotation changed");
        let departed: Vec<u32> = self.batches.keys().filter(|replica| !live.contains_key(replica)).copied().collect();
        for replica in departed {
            if let Some(batch) = self.batches.remove(&replica) {
                self.unrouted.extend(batch.readings.into_iter().zip(batch.origins));
            }
        }
        self.route_unrouted().await
    }

    async fn route_unrouted(&mut self) -> anyhow::Result<()> {
        if self.router.is_empty() {
            return Ok(());
        }
        while let Some((reading, origin)) = self.unrouted.pop_front() {
            self.route(reading, origin).await?;
        }
        Ok(())
    }

    /// Ingest queue depths: a gauge per replica, and the backlog the least-loaded strategy uses.
    async fn poll_depths(&mut self) {
        let replicas: Vec<u32> = self.router.replicas().map(|(replica, _)| replica).collect();
        for replica in replicas {
            match topology::depth(&self.control, &self.names.ingest_queue(replica)).await {
                Ok(batches) => {
                    metrics::gauge!("balancer_ingest_queue_depth", "replica" => replica.to_string())
                        .set(f64::from(batches));
                    let open = self.batches.get(&replica).map_or(0, |batch| batch.readings.len());
                    self.router.set_queue_depth(replica, batches, open);
                }
                Err(error) => tracing::warn!(%error, replica, "reading an ingest queue depth failed"),
            }
        }
    }
}

/// Empties a departed replica's ingest queue into the rotation, one batch at a time: each batch
/// is acknowledged only after all its readings were confirmed on live replicas.
async fn drain(channel: Channel, names: Names, replica: u32, into: mpsc::Sender<Drained>) {
    let queue = names.ingest_queue(replica);
    let mut moved = 0usize;
    if let Err(error) = channel.confirm_select(ConfirmSelectOptions::default()).await {
        tracing::warn!(%error, replica, "cannot drain");
        return;
    }
    loop {
        let message = match channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false }).await {
            Ok(Some(message)) => message,
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(%error, replica, "draining stopped");
                break;
            }
        };
        let readings: Vec<Reading> = match serde_json::from_slice(&message.delivery.data) {
            Ok(readings) => readings,
            Err(error) => {
                let reason = format!("an ingest batch is not a JSON list of readings: {error}");
                let confirmed =
                    match topology::dead_letter(&channel, &names, &message.delivery.data, &reason, STAGE).await {
                        Ok(confirm) => confirm.await.is_ok(),
                        Err(_) => false,
                    };
                if confirmed {
                    let _ = message.delivery.ack(BasicAckOptions::default()).await;
                }
                continue;
            }
        };
        let count = readings.len();
        let (done, finished) = oneshot::channel();
        if into.send(Drained { readings, done }).await.is_err() || finished.await.is_err() {
            // The balancer is stopping; the unacknowledged batch returns to the queue.
            break;
        }
        if message.delivery.ack(BasicAckOptions::default()).await.is_err() {
            break;
        }
        moved += count;
    }
    if moved > 0 {
        tracing::info!(replica, readings = moved, "drained a departed replica's queue back into the rotation");
    }
    channel.close(200, "drained".into()).await.ok();
}
