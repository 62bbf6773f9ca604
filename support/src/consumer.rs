//! How support takes chat messages off JetStream: several conversations at once, each customer's
//! messages one after the other in the order they arrived, and every message leased until it is
//! settled.
//!
//! A slow AI answer must neither hold up other customers nor be asked for twice. Different
//! customers are therefore answered in parallel, up to `--support-concurrency` messages held at
//! once, while one customer's messages wait in that customer's lane, so answers never overtake
//! their questions. JetStream redelivers a message that is not acknowledged within `ack_wait`;
//! rather than stretching `ack_wait` to the AI's worst case (its timeout times its attempts plus
//! the backoff, plus the wait behind the customer's earlier messages and the database), support
//! leaves `ack_wait` at `--support-ack-wait` and renews the lease of every message it holds with a
//! progress acknowledgement every quarter of it. A live instance thus keeps a message as long as it
//! needs, whatever the AI settings, while the messages of an instance that died come back after
//! `ack_wait` rather than after the longest answer imaginable.
//!
//! A message is acknowledged only once its effects are stored and published; if it fails it is
//! handed back for a later try. Storing is idempotent, so a redelivery answers nothing twice.

use std::{
    collections::{HashMap, VecDeque, hash_map::Entry},
    sync::{Arc, Mutex},
    time::Duration,
};

use async_nats::jetstream::{
    self, AckKind,
    consumer::pull::{self, MessagesError},
};
use backon::{ExponentialBuilder, RetryableWithContext};
use ems_common::{Shutdown, contracts::ChatInbound};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::service::Service;

/// How long a failed message waits before JetStream offers it again.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(2);

/// Waits between attempts to read the stream after it fails (NATS away, missed heartbeats):
/// from half a second, doubling to at most five, for as long as it takes.
const READ_BACKOFF: ExponentialBuilder =
    ems_common::retry::backoff(Duration::from_millis(500), Duration::from_secs(5)).without_max_times();

#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Messages held at once, answered or waiting behind the same customer's earlier ones.
    pub concurrency: usize,
    /// The consumer's `ack_wait`; leases are renewed every quarter of it.
    pub ack_wait: Duration,
}

/// What every lane shares.
struct Shared {
    service: Arc<Service>,
    lanes: Lanes,
    shutdown: Shutdown,
}

/// Takes messages off `messages` until shutdown (or until the stream ends), then waits until every
/// message it took is answered or handed back.
pub(crate) async fn consume(
    service: Arc<Service>,
    messages: pull::Stream,
    limits: Limits,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.concurrency));
    let shared = Arc::new(Shared { service, lanes: Lanes::default(), shutdown: shutdown.clone() });
    let stopped = dispatch(messages, &slots, &shared, limits.ack_wait / 4).await;
    // Every slot is a message being answered or handed back; wait until all have come home.
    let held = u32::try_from(limits.concurrency).expect("the concurrency is validated at start");
    let _all_settled = slots.acquire_many(held).await.expect("the slots are never closed");
    stopped
}

/// Reads messages and starts their handling until shutdown or the end of the stream; dropping the
/// stream on return stops the pulling.
async fn dispatch(
    mut messages: pull::Stream,
    slots: &Arc<Semaphore>,
    shared: &Arc<Shared>,
    renew_every: Duration,
) -> anyhow::Result<()> {
    let shutdown = &shared.shutdown;
    loop {
        // A slot first, then a message: nothing is taken off the stream that cannot be leased.
        let slot = tokio::select! {
            biased;
            () = shutdown.requested() => return Ok(()),
            slot = Arc::clone(slots).acquire_owned() => slot.expect("the slots are never closed"),
        };
        let (stream, next) = tokio::select! {
            biased;
            () = shutdown.requested() => return Ok(()),
            next = next_message(messages) => next,
        };
        messages = stream;
        let message = match next {
            Ok(message) => message,
            Err(ReadError::Ended) => return Err(anyhow::anyhow!("the chat stream ended")),
            Err(ReadError::Failed(error)) => return Err(anyhow::Error::new(error).context("reading the chat stream")),
        };
        let inbound = match serde_json::from_slice::<ChatInbound>(&message.payload) {
            Ok(inbound) => inbound,
            Err(error) => {
                tracing::warn!(%error, "dropping a chat frame that is not a chat message or receipt");
                let _ = message.ack_with(AckKind::Term).await;
                continue;
            }
        };
        let delivery = Delivery::lease(message, inbound, slot, renew_every);
        match &delivery.inbound {
            ChatInbound::Message { customer_id, .. } => {
                let customer_id = *customer_id;
                if let Some(first) = shared.lanes.join(customer_id, delivery) {
                    tokio::spawn(lane(Arc::clone(shared), customer_id, first));
                }
            }
            // A read receipt only ever moves a marker forward, so it need not wait for the
            // conversation's answers.
            ChatInbound::Read { .. } => {
                let shared = Arc::clone(shared);
                tokio::spawn(async move { settle(&shared, delivery).await });
            }
        }
    }
}

enum ReadError {
    Failed(MessagesError),
    Ended,
}

/// The next message, retrying with backoff while reading fails; gives the stream back with it.
async fn next_message(messages: pull::Stream) -> (pull::Stream, Result<jetstream::Message, ReadError>) {
    let read = |mut messages: pull::Stream| async move {
        let next = match messages.next().await {
            Some(Ok(message)) => Ok(message),
            Some(Err(error)) => Err(ReadError::Failed(error)),
            None => Err(ReadError::Ended),
        };
        (messages, next)
    };
    read.retry(READ_BACKOFF)
        .context(messages)
        .when(|error| matches!(error, ReadError::Failed(_)))
        .notify(|error, delay| {
            if let ReadError::Failed(error) = error {
                tracing::warn!(%error, ?delay, "reading the chat stream failed; retrying");
            }
        })
        .await
}

/// Answers one customer's messages in turn until none is waiting. After shutdown it finishes the
/// message in hand and hands the rest back, in order, for the next instance.
async fn lane(shared: Arc<Shared>, customer_id: Uuid, first: Delivery) {
    let mut delivery = first;
    loop {
        settle(&shared, delivery).await;
        let Some(next) = shared.lanes.next(customer_id) else { return };
        if shared.shutdown.is_triggered() {
            hand_back(next).await;
            while let Some(waiting) = shared.lanes.next(customer_id) {
                hand_back(waiting).await;
            }
            return;
        }
        delivery = next;
    }
}

/// Handles a message and acknowledges it, or hands it back for a later try if handling failed.
async fn settle(shared: &Shared, delivery: Delivery) {
    let Delivery { message, inbound, lease, slot } = delivery;
    let service = Arc::clone(&shared.service);
    // Its own task, so that a panic fails this message instead of the customer's whole lane.
    let outcome = match tokio::spawn(async move { service.handle(inbound).await }).await {
        Ok(outcome) => outcome,
        Err(panicked) => Err(anyhow::anyhow!("handling the message panicked: {panicked}")),
    };
    drop(lease);
    match outcome {
        Ok(()) => {
            if let Err(error) = message.double_ack().await {
                tracing::warn!(%error, "acknowledging a chat message failed; it will be redelivered and skipped");
            }
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "handling a chat message failed; it will be retried");
            metrics::counter!("support_failures_total").increment(1);
            let _ = message.ack_with(AckKind::Nak(Some(RETRY_FAILED_AFTER))).await;
        }
    }
    drop(slot);
}

/// Gives a message that was only waiting back to JetStream, to be delivered again at once.
async fn hand_back(delivery: Delivery) {
    let Delivery { message, lease, slot, .. } = delivery;
    drop(lease);
    if let Err(error) = message.ack_with(AckKind::Nak(None)).await {
        tracing::warn!(%error, "handing back a waiting chat message failed; it will be redelivered after the ack wait");
    }
    drop(slot);
}

/// A message taken off the stream, leased until it is settled, holding one of the slots.
struct Delivery {
    message: jetstream::Message,
    inbound: ChatInbound,
    lease: Lease,
    slot: OwnedSemaphorePermit,
}

impl Delivery {
    fn lease(message: jetstream::Message, inbound: ChatInbound, slot: OwnedSemaphorePermit, every: Duration) -> Self {
        let lease = Lease::keep(message.clone(), every);
        Self { message, inbound, lease, slot }
    }
}

/// Tells JetStream every `every` that the message is still being worked on, from when it is taken
/// until it is dropped, just before the message is settled.
struct Lease(tokio::task::AbortHandle);

impl Lease {
    fn keep(message: jetstream::Message, every: Duration) -> Self {
        let renewals = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(error) = message.ack_with(AckKind::Progress).await {
                    tracing::warn!(%error, "renewing a chat message's lease failed");
                }
            }
        });
        Self(renewals.abort_handle())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The messages waiting behind each customer's message in hand. A customer has an entry exactly
/// while a lane task is answering them.
#[derive(Default)]
struct Lanes {
    waiting: Mutex<HashMap<Uuid, VecDeque<Delivery>>>,
}

impl Lanes {
    /// Queues `delivery` behind the customer's messages in hand, or gives it back when there are
    /// none: then the caller starts the customer's lane with it.
    fn join(&self, customer_id: Uuid, delivery: Delivery) -> Option<Delivery> {
        match self.waiting.lock().expect("lanes lock").entry(customer_id) {
            Entry::Occupied(mut queue) => {
                queue.get_mut().push_back(delivery);
                None
            }
            Entry::Vacant(vacant) => {
                vacant.insert(VecDeque::new());
                Some(delivery)
            }
        }
    }

    /// The customer's next waiting message; `None` closes the lane.
    fn next(&self, customer_id: Uuid) -> Option<Delivery> {
        let mut waiting = self.waiting.lock().expect("lanes lock");
        let next = waiting.get_mut(&customer_id)?.pop_front();
        if next.is_none() {
            waiting.remove(&customer_id);
        }
        next
    }
}
