//! Serving HTTP the same way in every service: a request id on every request and span, access
//! logs, request metrics, a deadline per request, panics turned into logged 500s, and a graceful
//! stop with a deadline.

use std::{
    any::Any,
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{MatchedPath, Request},
    http::{HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::shutdown::Shutdown;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a finished router with request ids (taken from `x-request-id` or generated, and echoed
/// in the response), a tracing span per request carrying that id, and request metrics. A request
/// still unanswered after `request_timeout` gets 503 (a WebSocket counts as answered once it is
/// upgraded), and a handler that panics gives a 500 that is logged inside the request's span.
pub fn observe(router: Router, request_timeout: Duration) -> Router {
    router
        .route_layer(middleware::from_fn(record_metrics))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, request_timeout))
        .layer(CatchPanicLayer::custom(panic_response))
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

/// The 500 for a panicking handler: the panic is logged (in the request's span, so with its id);
/// the body, shaped like every other API error, says nothing internal.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = message, "a request handler panicked");
    metrics::counter!("http_panics_total").increment(1);
    let body = serde_json::json!({
        "code": "internal_error",
        "message": "something went wrong on our side; try again, and if it persists tell an administrator",
        "fields": [],
    });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
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

#[cfg(test)]
mod tests {
    use axum::{body::Body, routing::get};
    use tower::ServiceExt;

    use super::*;

    async fn call(router: Router, path: &str) -> (StatusCode, serde_json::Value) {
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    async fn panics() -> &'static str {
        panic!("the handler's own words")
    }

    fn app() -> Router {
        let router = Router::new()
            .route("/panics", get(panics))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
            .route("/quick", get(|| async { "on time" }));
        observe(router, Duration::from_millis(200))
    }

    #[tokio::test]
    async fn a_panicking_handler_gives_an_api_error_500_that_says_nothing_internal() {
        let (status, body) = call(app(), "/panics").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("the handler's own words"), "{body}");
        // The server goes on serving.
        let (status, _) = call(app(), "/quick").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_answered_with_503() {
        let started = Instant::now();
        let (status, _) = call(app(), "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(10), "answered only after {:?}", started.elapsed());
    }
}
