//! The storage upkeep of a monitor process: every hour, and at start, the raw readings' daily
//! partitions ([`partitions`]) and the monthly rollups of hourly totals ([`rollups`]). A failed
//! round is logged and tried again at the next; the ingest needs neither to be done on time (it
//! creates a missing partition itself, and a month not yet rolled up is summed from its hours).

use std::time::Duration;

use chrono::Utc;
use ems_common::Shutdown;
use sqlx::PgPool;

use crate::{Retention, partitions, rollups};

/// How often the storage is looked after.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs one round of each upkeep at start and every hour until `shutdown`.
pub async fn keep(pool: PgPool, retention: Retention, shutdown: Shutdown) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.requested() => return Ok(()),
        }
        match partitions::upkeep(&pool, retention, Utc::now()).await {
            Ok(done) => {
                metrics::counter!("monitor_partitions_created_total").increment(done.created.max(0) as u64);
                metrics::counter!("monitor_partitions_dropped_total").increment(done.dropped.len() as u64);
                if done.created > 0 || !done.dropped.is_empty() {
                    tracing::info!(
                        created = done.created,
                        dropped = ?done.dropped,
                        %retention,
                        "looked after the daily partitions of raw readings"
                    );
                }
            }
            Err(error) => {
                tracing::warn!(%error, "looking after the partitions of raw readings failed; trying again in an hour")
            }
        }
        let started = std::time::Instant::now();
        match rollups::upkeep(&pool, Utc::now()).await {
            Ok(done) => {
                metrics::counter!("monitor_rollup_months_total").increment(u64::from(done.months));
                metrics::counter!("monitor_rollups_refreshed_total").increment(done.refreshed);
                if done != rollups::Rolled::default() {
                    tracing::info!(
                        months = done.months,
                        refreshed = done.refreshed,
                        seconds = started.elapsed().as_secs_f64(),
                        "rolled up monthly totals"
                    );
                }
            }
            Err(error) => tracing::warn!(%error, "rolling up monthly totals failed; trying again in an hour"),
        }
    }
}
