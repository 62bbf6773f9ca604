//! Serving HTTP the same way in every service: a request id on every request and span, access
//! logs, request metrics, and a graceful stop with a deadline.

use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::HeaderName,
    middleware::{self, Next},
    response::Response,
};
use tokio::net::TcpListener;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::shutdown::Shutdown;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a finished router with request ids (taken from `x-request-id` or generated, and echoed
/// in the response), a tracing span per request carrying that id, and request metrics.
pub fn observe(router: Router) -> Router {
    router
        .route_layer(middleware::from_fn(record_metrics))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id =
                        request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                        user_id = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Serves `router` until `shutdown` fires, then lets in-flight requests finish for at most
/// `deadline` before cutting them, so a stuck request cannot hold the exit.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: Shutdown,
    deadline: Duration,
) -> anyhow::Result<()> {
    let server = axum::serve(listener, router).with_graceful_shutdown(shutdown.requested_owned());
    let mut running = tokio::spawn(async move { server.await });
    tokio::select! {
        finished = &mut running => return Ok(finished??),
        () = shutdown.requested() => {}
    }
    match tokio::time::timeout(deadline, &mut running).await {
        Ok(finished) => Ok(finished??),
        Err(_) => {
            tracing::warn!(?deadline, "in-flight requests did not finish in time; closing them");
            running.abort();
            Ok(())
        }
    }
}

/// Binds a listener with an error that names the address and the setting.
pub async fn bind(address: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|error| {
        anyhow::anyhow!("cannot listen on {address} (--listen / EMS_LISTEN): {error}; is another process using it?")
    })
}
