//! The administrators' view of the pipeline: the monitor replicas heard on
//! `ems.monitors.heartbeat`, with their weights, throughput (from the heartbeats' running count of
//! stored readings) and the depth of their ingest queues.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Json, extract::State};
use ems_common::{Shutdown, broker::Names, contracts::Heartbeat};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::ApiResult,
    error::documented::{NotAdmin, NotSignedIn},
    extract::AdminUser,
    state::ApiContext,
};

/// Replicas silent this long are no longer listed.
const FORGET_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Seen {
    weight: u32,
    processed: u64,
    last_seen: Instant,
    /// Readings per second, smoothed over recent heartbeats.
    rate: f64,
}

/// Heartbeats as heard by this web instance.
#[derive(Clone)]
pub struct Replicas {
    seen: Arc<Mutex<BTreeMap<u32, Seen>>>,
    /// A replica silent this long is shown as not live (the balancer's `--replica-timeout`).
    live_within: Duration,
}

impl Default for Replicas {
    fn default() -> Self {
        Self::new(ems_common::config::LivenessArgs::default().replica_timeout)
    }
}

impl Replicas {
    pub fn new(live_within: Duration) -> Self {
        Self { seen: Default::default(), live_within }
    }

    pub fn record(&self, heartbeat: &Heartbeat, now: Instant) {
        let mut seen = self.seen.lock().expect("replica lock");
        match seen.get_mut(&heartbeat.replica) {
            Some(entry) => {
                let elapsed = now.duration_since(entry.last_seen).as_secs_f64();
                if elapsed > 0.0 && heartbeat.processed >= entry.processed {
                    let instant_rate = (heartbeat.processed - entry.processed) as f64 / elapsed;
                    entry.rate = 0.5 * entry.rate + 0.5 * instant_rate;
                } else if heartbeat.processed < entry.processed {
                    entry.rate = 0.0; // the replica restarted and counts from zero again
                }
                entry.processed = heartbeat.processed;
                entry.last_seen = now;
                if heartbeat.weight > 0 {
                    entry.weight = heartbeat.weight;
                }
            }
            None => {
                seen.insert(
                    heartbeat.replica,
                    Seen { weight: heartbeat.weight, processed: heartbeat.processed, last_seen: now, rate: 0.0 },
                );
            }
        }
        seen.retain(|_, entry| now.duration_since(entry.last_seen) < FORGET_AFTER);
    }

    /// Which replicas are live at `now`: heard within the replica timeout and not gone (weight 0).
    fn live(&self, now: Instant) -> BTreeMap<u32, bool> {
        let seen = self.seen.lock().expect("replica lock");
        seen.iter()
            .map(|(replica, entry)| {
                (*replica, now.duration_since(entry.last_seen) < self.live_within && entry.weight > 0)
            })
            .collect()
    }

    /// Listens to heartbeats until shutdown.
    pub async fn follow(self, nats: async_nats::Client, names: Names, shutdown: Shutdown) -> anyhow::Result<()> {
        let mut heartbeats = nats.subscribe(names.heartbeat_subject()).await?;
        loop {
            tokio::select! {
                () = shutdown.requested() => return Ok(()),
                message = heartbeats.next() => {
                    let Some(message) = message else { return Ok(()) };
                    if let Ok(heartbeat) = serde_json::from_slice::<Heartbeat>(&message.payload) {
                        self.record(&heartbeat, Instant::now());
                    }
                }
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Replica {
    pub replica: u32,
    pub weight: u32,
    /// Heard from within the replica timeout (`EMS_REPLICA_TIMEOUT`), and not gone.
    pub live: bool,
    /// Readings the replica has stored since it started.
    pub processed: u64,
    pub readings_per_second: f64,
    /// Batches waiting in `ingest.<replica>`, when RabbitMQ could be asked.
    pub queue_depth: Option<u32>,
    pub last_seen_seconds_ago: f64,
}

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(replicas))
}

/// The monitor replicas with their weights, throughput and ingest queue depth.
#[utoipa::path(get, path = "/api/system/replicas", tag = "system", security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<Replica>),
        NotSignedIn,
        NotAdmin,
    ))]
async fn replicas(_admin: AdminUser, State(context): State<ApiContext>) -> ApiResult<Json<Vec<Replica>>> {
    let now = Instant::now();
    let live = context.replicas.live(now);
    let mut listed: Vec<Replica> = {
        let seen = context.replicas.seen.lock().expect("replica lock");
        seen.iter()
            .map(|(replica, entry)| Replica {
                replica: *replica,
                weight: entry.weight,
                live: live[replica],
                processed: entry.processed,
                readings_per_second: (entry.rate * 10.0).round() / 10.0,
                queue_depth: None,
                last_seen_seconds_ago: (now.duration_since(entry.last_seen).as_secs_f64() * 10.0).round() / 10.0,
            })
            .collect()
    };
    if let Some(amqp) = &context.amqp {
        let channel = amqp.connection();
        for replica in &mut listed {
            let queue = context.events.names.ingest_queue(replica.replica);
            let options = lapin::options::QueueDeclareOptions { passive: true, ..Default::default() };
            // A passive declare of a missing queue closes the channel; ask on a fresh one each time.
            if let Ok(channel) = channel.create_channel().await {
                if let Ok(declared) = channel.queue_declare(queue.as_str().into(), options, Default::default()).await {
                    replica.queue_depth = Some(declared.message_count());
                }
                let _ = channel.close(200, "done".into()).await;
            }
        }
    }
    Ok(Json(listed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_comes_from_the_growth_of_the_running_count() {
        let replicas = Replicas::default();
        let start = Instant::now();
        replicas.record(&Heartbeat { replica: 2, weight: 3, processed: 100 }, start);
        replicas.record(&Heartbeat { replica: 2, weight: 3, processed: 300 }, start + Duration::from_secs(1));
        replicas.record(&Heartbeat { replica: 2, weight: 3, processed: 500 }, start + Duration::from_secs(2));
        let seen = replicas.seen.lock().unwrap();
        assert!((seen[&2].rate - 150.0).abs() < 1e-9, "smoothed: 0.5*100 + 0.5*200 = {}", seen[&2].rate);
        assert_eq!((seen[&2].weight, seen[&2].processed), (3, 500));
    }

    #[test]
    fn a_replica_is_live_for_the_configured_replica_timeout() {
        let replicas = Replicas::new(Duration::from_secs(10));
        let start = Instant::now();
        replicas.record(&Heartbeat { replica: 1, weight: 1, processed: 0 }, start);
        assert!(replicas.live(start + Duration::from_secs(5))[&1], "5 s of silence, timeout 10 s");
        assert!(!replicas.live(start + Duration::from_secs(11))[&1], "11 s of silence");
        assert_eq!(Replicas::default().live_within, Duration::from_secs(3), "the balancer's default");
    }
}
