//! Outages of the real services under load: PostgreSQL, RabbitMQ and NATS are each stopped and
//! started again while readings (and chat) flow through the real `ems` processes. Each test runs
//! its own server of the service it stops, so the shared services are never disturbed, and
//! prints how long recovery took and how much backlog was drained (run with `--nocapture`).

// Shared with the pipeline tests, which use other parts of it.
#[allow(dead_code)]
#[path = "../pipeline/harness.rs"]
mod harness;
mod nats;
mod postgres;
mod rabbitmq;
mod servers;

use std::time::{Duration, Instant};

/// `/readyz` of a process: `Some(true)` when ready, `Some(false)` when it says it is not, `None`
/// when it does not answer.
pub async fn readiness(port: u16) -> Option<bool> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let response = http.get(format!("http://127.0.0.1:{port}/readyz")).send().await.ok()?;
    Some(response.status().is_success())
}

/// Waits until `/readyz` of every one of `ports` (asked together) reports `ready`; returns how
/// long that took.
pub async fn wait_for_readiness(what: &str, ports: &[u16], ready: bool, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let states = futures::future::join_all(ports.iter().map(|port| readiness(*port))).await;
        if states.iter().all(|state| *state == Some(ready)) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "{what}: /readyz not {ready} within {within:?}: {ports:?} {states:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `condition` holds, checking every 100 ms; returns how long that took.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut condition: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !condition().await {
        assert!(started.elapsed() < within, "{what} within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

pub fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}
