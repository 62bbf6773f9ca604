//! Upkeep the web service runs on a timer: deleting rows that have expired (login throttle
//! entries, unused WebSocket tickets).

use std::{future::Future, time::Duration};

use ems_common::Shutdown;
use sqlx::PgPool;

/// Runs `job` every `every` until `shutdown`, the first time one period after start. `job`
/// answers how many `what` it deleted; a failed run is logged and tried again at the next tick.
pub async fn every<F, Fut>(
    pool: PgPool,
    every: Duration,
    shutdown: Shutdown,
    what: &'static str,
    job: F,
) -> anyhow::Result<()>
where
    F: Fn(PgPool) -> Fut,
    Fut: Future<Output = sqlx::Result<u64>>,
{
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.requested() => return Ok(()),
        }
        match job(pool.clone()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "deleted expired {what}"),
            Err(error) => tracing::warn!(%error, "deleting expired {what} failed; trying again later"),
        }
    }
}
