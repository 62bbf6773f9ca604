//! The EMS web service: the REST API (auth, users, devices), its OpenAPI description and
//! interactive docs, and the web dashboard's files.

pub mod accounts;
pub mod alerts;
pub mod auth;
pub mod chat;
pub mod consumption;
pub mod currencies;
pub mod devices;
pub mod error;
pub mod export;
pub mod extract;
pub mod inbox;
pub mod month_to_date;
pub mod pagination;
pub mod passwords;
pub mod push;
pub mod ratings;
pub mod seed;
pub mod sessions;
pub mod state;
pub mod system;
pub mod tariffs;
pub mod throttle;
pub mod tickets;
pub mod upkeep;
pub mod users;
pub mod zones;

use std::path::Path;

use axum::{
    Router,
    response::{IntoResponse, Redirect},
    routing::{any, get},
};
use ems_common::{JwtKeys, Shutdown, config::JwtArgs, db, ops, service::Service};
use sqlx::PgPool;
use tower_http::{
    compression::{CompressionLayer, DefaultPredicate, Predicate},
    services::{ServeDir, ServeFile},
    set_header::SetResponseHeaderLayer,
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use state::{ApiContext, Events, WebArgs, WebConfig};

#[derive(OpenApi)]
#[openapi(
    info(title = "EMS API", description = "Energy Management System: accounts, devices and their consumption."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Signing in, sessions and the signed-in user"),
        (name = "users", description = "Accounts (administrators only)"),
        (name = "devices", description = "Smart-metered devices and their assignment"),
        (name = "consumption", description = "Hourly, daily and monthly consumption"),
        (name = "tariffs", description = "Customers' tariffs: flat or time-of-use prices per kWh"),
        (name = "alerts", description = "Overconsumption and peak alerts"),
        (name = "chat", description = "Support chat history and the administrators' inbox"),
        (name = "system", description = "The pipeline's monitor replicas (administrators only)"),
        (name = "push", description = "Web Push: alerts to browsers whose dashboard is closed"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Every API route, and the OpenAPI document that describes them, collected from the same
/// handlers so the two cannot disagree.
fn api_routes() -> (Router<ApiContext>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(users::router())
        .merge(devices::router())
        .merge(consumption::router())
        .merge(month_to_date::router())
        .merge(export::router())
        .merge(tariffs::router())
        .merge(alerts::router())
        .merge(chat::router())
        .merge(inbox::router())
        .merge(ratings::router())
        .merge(system::router())
        .merge(tickets::router())
        .merge(push::router())
        .split_for_parts()
}

/// The OpenAPI document served at `/api/openapi.json`, without a server: the dashboard's types
/// are generated from it (`web/ui/src/api/openapi.json`, checked by `web/tests/api/openapi.rs`).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_routes().1
}

/// The largest request body the API takes (its largest bodies, chat messages, are a few KiB);
/// a larger one is answered 413 before it is read whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API with its OpenAPI document at `/api/openapi.json` and docs at `/api/docs`, plus the
/// dashboard at `/`, compressed (see [`compression`]). Without operations endpoints or request
/// observation: the caller adds those once for the whole process (see [`run`] and `ems all`),
/// and neither they nor the notifier's `/ws` go through this router's compression.
pub fn router(context: ApiContext, ui_dir: &Path) -> Router {
    let (api, openapi) = api_routes();
    let api = api
        .route("/api", get(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .with_state(context)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi))
        // Answers are per user and many carry tokens: no cache, shared or private, may keep them.
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        ));
    api.merge(dashboard(ui_dir)).layer(compression())
}

/// Answers compressed with brotli or gzip, whichever the client prefers (`Accept-Encoding`),
/// except those too small to gain (32 bytes), images, event streams, files already sent
/// precompressed (they carry `Content-Encoding`), and answers that set a cookie: login and
/// refresh, which carry tokens, are kept out of reach of compression side channels (BREACH).
fn compression() -> CompressionLayer<impl Predicate> {
    let sets_no_cookie =
        |_: axum::http::StatusCode,
         _: axum::http::Version,
         headers: &axum::http::HeaderMap,
         _: &axum::http::Extensions| { !headers.contains_key(axum::http::header::SET_COOKIE) };
    CompressionLayer::new().br(true).gzip(true).compress_when(DefaultPredicate::new().and(sets_no_cookie))
}

async fn api_not_found() -> impl IntoResponse {
    error::ApiError::NotFound("no such API endpoint; the list is at /api/docs".into())
}

/// The single-page app: files from `ui_dir`, and `index.html` for any other path so client-side
/// routes survive a reload, except under `/assets/`, where a missing file is a 404 (a stale
/// page asking for an old bundle must not get the shell back, cached for a year). Without a
/// built dashboard, `/` leads to the API docs.
fn dashboard(ui_dir: &Path) -> Router {
    let index = ui_dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(ui_dir = %ui_dir.display(), "no built dashboard found; / redirects to the API docs");
        return Router::new().route("/", get(|| async { Redirect::temporary("/api/docs/") }));
    }
    // The build writes `.br` and `.gz` files beside each (web/ui/scripts/precompress.mjs): sent
    // as they are to clients that accept them, with no compression work per request.
    Router::new()
        .nest_service("/assets", ServeDir::new(ui_dir.join("assets")).precompressed_br().precompressed_gzip())
        .fallback_service(
            ServeDir::new(ui_dir)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(ServeFile::new(&index).precompressed_br().precompressed_gzip()),
        )
        .layer(axum::middleware::from_fn(cache_policy))
}

/// Built assets have content hashes in their names and never change; everything else (the
/// HTML shell, the service worker, the manifest) must be revalidated so new versions show up.
/// Only a file actually found is immutable.
async fn cache_policy(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let immutable = asset && response.status().is_success();
    let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static(value));
    response
}

/// How often rows of failed logins that no longer count are deleted.
const THROTTLE_EXPIRY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// How often expired WebSocket tickets (never used) are deleted.
const TICKET_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The web service: the API, its docs and the dashboard, and the system view's follower of
/// monitor heartbeats; ready while PostgreSQL, RabbitMQ and NATS answer.
// The pieces a process shares between its services (keys, pool, connections) come in separately.
#[allow(clippy::too_many_arguments)]
pub fn service(
    args: &WebArgs,
    liveness: &ems_common::config::LivenessArgs,
    jwt_args: &JwtArgs,
    jwt: JwtKeys,
    pool: PgPool,
    amqp: ems_common::broker::Amqp,
    events: Events,
    shutdown: Shutdown,
) -> Service {
    let readiness =
        ops::Readiness::new().with_postgres(pool.clone()).with_amqp(amqp.clone()).with_nats(events.nats.clone());
    let heartbeats = (events.nats.clone(), events.names.clone());
    let mut context = ApiContext::new(pool, jwt, jwt_args, &args.login, events)
        .with_amqp(amqp.clone())
        .with_cookie_secure(args.cookie_secure);
    context.replicas = crate::system::Replicas::new(liveness.replica_timeout);
    let replicas = context.replicas.clone().follow(heartbeats.0, heartbeats.1, shutdown.clone());
    let pool = context.pool.clone();
    let expiry = upkeep::every(
        pool.clone(),
        THROTTLE_EXPIRY_EVERY,
        shutdown.clone(),
        "login throttle rows",
        |pool| async move { throttle::expire(&pool).await },
    );
    let ticket_sweep =
        upkeep::every(pool, TICKET_SWEEP_EVERY, shutdown.clone(), "WebSocket tickets", |pool| async move {
            tickets::sweep(&pool).await
        });
    let account_changes = context.accounts.clone().follow(context.events.clone(), shutdown.clone());
    Service::new("web")
        .routes(router(context, &args.ui_dir))
        .ready_when(readiness)
        .task("system view", replicas)
        .task("login throttle expiry", expiry)
        .task("websocket ticket sweep", ticket_sweep)
        .task("account changes", account_changes)
        .task("rabbitmq connection", amqp.keep_connected(shutdown))
}

/// `ems web`: the API, docs and dashboard with the operations endpoints, until `shutdown`.
pub async fn run(config: WebConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let jwt = config.jwt.keys()?;
    let pool = db::connect_and_migrate(&config.database).await?;
    let nats = config.broker.nats("ems-web").await?;
    let amqp = config.broker.amqp_reconnecting("ems-web").await?;
    let events = Events { nats, names: config.broker.names() };
    let web =
        service(&config.web, &config.liveness, &config.jwt, jwt, pool.clone(), amqp.clone(), events, shutdown.clone());
    let result = ems_common::service::serve(&config.http, vec![web], shutdown).await;
    amqp.close("web stopped").await;
    pool.close().await;
    result
}
