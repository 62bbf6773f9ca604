//! Serving HTTP the same way in every service: a request id on every request and span, access
//! logs, request metrics, a deadline per request, panics turned into logged 500s, the browser
//! security headers on every response, the client's address for handlers, and a graceful stop
//! with a deadline.

use std::{
    any::Any,
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{MatchedPath, Request},
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{config::HttpArgs, shutdown::Shutdown};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a finished router with request ids (taken from `x-request-id` or generated, and echoed
/// in the response), a tracing span per request carrying that id, and request metrics. A request
/// still unanswered after `request_timeout` gets 503 (a WebSocket counts as answered once it is
/// upgraded), and a handler that panics gives a 500 that is logged inside the request's span.
/// Every response carries the [security headers](security_headers).
pub fn observe(router: Router, http: &HttpArgs) -> Router {
    security_headers(router.route_layer(middleware::from_fn(record_metrics)), http.hsts_max_age)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, http.request_timeout))
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

/// What the dashboard needs and nothing more: scripts, styles, fonts, images and connections
/// (including the WebSocket: `'self'` covers `ws:`/`wss:` of the same host) only from the origin
/// it was loaded from, inline styles allowed (components set `style`), never inline scripts,
/// plugins or framing by another site.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Headers that make a browser stricter with what it receives: the content security policy,
/// no MIME sniffing, no framing (`X-Frame-Options` for browsers without `frame-ancestors`), no
/// referrer sent to other sites, a browsing-context group of its own, and, when `hsts_max_age` is
/// set (only where EMS is reached over HTTPS), `Strict-Transport-Security`. A handler that sets one
/// of them itself keeps its own.
pub fn security_headers(router: Router, hsts_max_age: Option<Duration>) -> Router {
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    let mut router = router;
    for (name, value) in fixed {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value)));
    }
    if let Some(max_age) = hsts_max_age {
        let value = HeaderValue::try_from(format!("max-age={}; includeSubDomains", max_age.as_secs()))
            .expect("a number of seconds is a valid header value");
        router = router.layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, value));
    }
    router
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
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "something went wrong on our side; try again, and if it persists tell an administrator",
    )
}

/// An answer in the API's error shape (`code`, `message`, `fields`), for the few answers made
/// below the API's own error type.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({ "code": code, "message": message, "fields": [] }))).into_response()
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
    // No Nagle: a WebSocket answer written right after another small frame (a chat's `accepted`,
    // then its answer) would otherwise wait for the client's delayed ACK, some 40 ms on Linux.
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not turn off Nagle's algorithm on a connection");
        }
    });
    // Handlers that need the peer's address (login throttling) find it as `ConnectInfo`.
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown.requested_owned());
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
        let http = HttpArgs { request_timeout: Duration::from_millis(200), ..HttpArgs::for_tests() };
        observe(router, &http)
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
    async fn every_response_carries_the_security_headers_and_hsts_only_when_configured() {
        let quick = || Router::new().route("/quick", get(|| async { "on time" }));
        for (hsts, expected) in
            [(None, None), (Some(Duration::from_secs(31_536_000)), Some("max-age=31536000; includeSubDomains"))]
        {
            let http = HttpArgs { hsts_max_age: hsts, ..HttpArgs::for_tests() };
            let response =
                observe(quick(), &http).oneshot(Request::get("/quick").body(Body::empty()).unwrap()).await.unwrap();
            let headers = response.headers();
            let value = |name: &str| headers.get(name).map(|value| value.to_str().unwrap().to_owned());
            assert_eq!(value("x-content-type-options").as_deref(), Some("nosniff"));
            assert_eq!(value("x-frame-options").as_deref(), Some("DENY"));
            assert_eq!(value("referrer-policy").as_deref(), Some("no-referrer"));
            let policy = value("content-security-policy").unwrap();
            assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self';"), "{policy}");
            assert_eq!(value("strict-transport-security").as_deref(), expected);
        }
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_answered_with_503() {
        let started = Instant::now();
        let (status, _) = call(app(), "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(10), "answered only after {:?}", started.elapsed());
    }
}
