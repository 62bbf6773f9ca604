//! The EMS web service: the REST API (auth, users, devices), its OpenAPI description and
//! interactive docs, and the web dashboard's files.

pub mod alerts;
pub mod auth;
pub mod chat;
pub mod consumption;
pub mod devices;
pub mod error;
pub mod extract;
pub mod pagination;
pub mod passwords;
pub mod seed;
pub mod sessions;
pub mod state;
pub mod system;
pub mod users;

use std::path::Path;

use axum::{
    Router,
    response::{IntoResponse, Redirect},
    routing::{any, get},
};
use ems_common::{Shutdown, db, http, ops};
use tower_http::services::{ServeDir, ServeFile};
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
        (name = "alerts", description = "Overconsumption and peak alerts"),
        (name = "chat", description = "Support chat history and the administrators' inbox"),
        (name = "system", description = "The pipeline's monitor replicas (administrators only)"),
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

/// The API with its OpenAPI document at `/api/openapi.json` and docs at `/api/docs`, plus the
/// dashboard at `/`. Without operations endpoints or request observation: the caller adds those
/// once for the whole process (see [`run`] and `ems all`).
pub fn router(context: ApiContext, ui_dir: &Path) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(users::router())
        .merge(devices::router())
        .merge(consumption::router())
        .merge(alerts::router())
        .merge(chat::router())
        .merge(system::router())
        .split_for_parts();
    let api = api
        .route("/api", get(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .with_state(context)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi));
    api.merge(dashboard(ui_dir))
}

async fn api_not_found() -> impl IntoResponse {
    error::ApiError::NotFound("no such API endpoint; the list is at /api/docs".into())
}

/// The single-page app: files from `ui_dir`, and `index.html` for any other path so client-side
/// routes survive a reload. Without a built dashboard, `/` leads to the API docs.
fn dashboard(ui_dir: &Path) -> Router {
    let index = ui_dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(ui_dir = %ui_dir.display(), "no built dashboard found; / redirects to the API docs");
        return Router::new().route("/", get(|| async { Redirect::temporary("/api/docs/") }));
    }
    Router::new()
        .fallback_service(ServeDir::new(ui_dir).fallback(ServeFile::new(index)))
        .layer(axum::middleware::from_fn(cache_policy))
}

/// Built assets have content hashes in their names and never change; everything else (the
/// HTML shell, the service worker, the manifest) must be revalidated so new versions show up.
async fn cache_policy(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let immutable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static(value));
    response
}

/// Runs the web service until `shutdown`: connects and migrates the database, then serves the
/// API, dashboard and operations endpoints on the configured address.
pub async fn run(config: WebConfig, shutdown: Shutdown) -> anyhow::Result<()> {
    let jwt = config.jwt.keys()?;
    let pool = db::connect_and_migrate(&config.database).await?;
    let nats = config.broker.nats("ems-web").await?;
    let amqp = std::sync::Arc::new(config.broker.amqp("ems-web").await?);
    let events = Events { nats: nats.clone(), names: config.broker.names() };
    let context = ApiContext::new(pool.clone(), jwt, &config.jwt, &config.web.login, events).with_amqp(amqp.clone());
    let replicas = context.follow_replicas(shutdown.clone());
    let readiness = ops::Readiness::new().with_postgres(pool.clone()).with_nats(nats);
    let app = http::observe(router(context, &config.web.ui_dir).merge(ops::router(readiness)));
    let listener = http::bind(config.http.listen).await?;
    tracing::info!(address = %format!("http://{}", listener.local_addr()?), "web listening");
    http::serve(listener, app, shutdown.clone(), config.http.shutdown_timeout).await?;
    shutdown.trigger();
    replicas.await??;
    amqp.close(200, "web stopped".into()).await.ok();
    pool.close().await;
    tracing::info!("web stopped");
    Ok(())
}
