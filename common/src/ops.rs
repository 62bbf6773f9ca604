//! Operations endpoints every service exposes: Prometheus metrics at `/metrics`, liveness at
//! `/livez` (the process answers) and readiness at `/readyz` (its dependencies answer).

use std::{future::Future, pin::Pin, sync::Arc, sync::OnceLock, time::Duration};

use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use sqlx::PgPool;

/// Latency buckets (seconds) for every `*_seconds` histogram: 0.5 ms to 10 s, close together up
/// to 100 ms, where the pipeline's stages and the API's requests are told apart.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

/// How long one readiness check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide Prometheus recorder, installed on first use. Several services in one process
/// (`ems all`) share it, which is what a scrape of that process should show.
pub fn prometheus() -> PrometheusHandle {
    PROMETHEUS
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("latency buckets are not empty")
                .install_recorder()
                .expect("no other metrics recorder is installed in this process")
        })
        .clone()
}

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Check = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// The named checks `/readyz` runs; ready only when all of them pass.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(check()))));
        self
    }

    /// These checks and `other`'s; a check of a name already here is kept once.
    pub fn merge(mut self, other: Readiness) -> Self {
        for (name, check) in other.checks {
            if !self.checks.iter().any(|(existing, _)| *existing == name) {
                self.checks.push((name, check));
            }
        }
        self
    }

    /// Ready when PostgreSQL answers a trivial query.
    pub fn with_postgres(self, pool: PgPool) -> Self {
        self.with_check("postgres", move || {
            let pool = pool.clone();
            async move { sqlx::query("SELECT 1").execute(&pool).await.map(|_| ()).map_err(|error| error.to_string()) }
        })
    }

    /// Ready while the RabbitMQ connection is open.
    pub fn with_amqp(self, connection: impl AmqpStatus) -> Self {
        self.with_check("rabbitmq", move || {
            let connected = connection.connected();
            async move { if connected { Ok(()) } else { Err("the RabbitMQ connection is closed".to_owned()) } }
        })
    }

    /// Ready while the NATS client is connected (it reconnects by itself).
    pub fn with_nats(self, client: async_nats::Client) -> Self {
        self.with_check("nats", move || {
            let state = client.connection_state();
            async move {
                match state {
                    async_nats::connection::State::Connected => Ok(()),
                    other => Err(format!("NATS is {other:?}")),
                }
            }
        })
    }

    /// Runs every check; returns whether all passed and a per-check report.
    pub async fn evaluate(&self) -> (bool, serde_json::Map<String, serde_json::Value>) {
        let mut ready = true;
        let mut report = serde_json::Map::new();
        for (name, check) in &self.checks {
            let outcome = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
            };
            let value = match outcome {
                Ok(()) => json!("ok"),
                Err(error) => {
                    ready = false;
                    json!(error)
                }
            };
            report.insert((*name).to_owned(), value);
        }
        (ready, report)
    }
}

/// A RabbitMQ connection whose state readiness reports: a fixed one, or one replaced on loss.
pub trait AmqpStatus: Send + Sync + 'static {
    fn connected(&self) -> bool;
}

impl AmqpStatus for Arc<lapin::Connection> {
    fn connected(&self) -> bool {
        self.status().connected()
    }
}

impl AmqpStatus for crate::broker::Amqp {
    fn connected(&self) -> bool {
        self.is_connected()
    }
}

/// `/livez` and `/readyz`, to merge into a service's router.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/livez", get(|| async { Json(json!({ "status": "alive" })) }))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

/// `/metrics`: the process's Prometheus text.
pub fn metrics_router() -> Router {
    let handle = prometheus();
    Router::new().route("/metrics", get(move || std::future::ready(handle.render())))
}

/// Lets through only requests from this machine that did not come through a proxy (which
/// would connect from loopback on a client's behalf and say so in `X-Forwarded-For`/`Forwarded`);
/// others get a 404 that says where the route is served.
pub async fn local_only(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(address)| address.ip());
    let proxied = ["x-forwarded-for", "forwarded"].iter().any(|name| request.headers().contains_key(*name));
    if peer.is_some_and(|peer| peer.is_loopback()) && !proxied {
        return next.run(request).await;
    }
    crate::http::error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "this route is served only to this machine, or on the operations address (EMS_METRICS_LISTEN)",
    )
}

async fn readyz(State(readiness): State<Readiness>) -> impl IntoResponse {
    let (ready, checks) = readiness.evaluate().await;
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = if ready { "ready" } else { "not ready" };
    (status, Json(json!({ "status": word, "checks": checks })))
}
