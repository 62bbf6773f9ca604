//! One shape for every service. A service crate turns its settings and the connections it needs
//! into a [`Service`]: the HTTP routes it adds, what `/readyz` checks for it, and its long-running
//! tasks. A process then runs one or several services with [`serve`]: `ems web` runs one,
//! `ems all` runs them all on one port, and tests run the same constructors on port 0. So a
//! service is wired in exactly one place, whichever process it runs in.

use std::{future::Future, pin::Pin};

use axum::Router;
use tokio::{net::TcpListener, task::JoinSet};

use crate::{Shutdown, http, ops::Readiness};

type Task = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// What one service contributes to a process.
pub struct Service {
    name: String,
    router: Router,
    readiness: Readiness,
    tasks: Vec<(String, Task)>,
}

impl Service {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), router: Router::new(), readiness: Readiness::new(), tasks: Vec::new() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Routes this service serves on the process's port.
    pub fn routes(mut self, router: Router) -> Self {
        self.router = self.router.merge(router);
        self
    }

    /// Checks `/readyz` runs for this service (a check that another service of the process
    /// already has is run once).
    pub fn ready_when(mut self, readiness: Readiness) -> Self {
        self.readiness = self.readiness.merge(readiness);
        self
    }

    /// A task that runs until shutdown. Ending early, with or without an error, stops the process.
    pub fn task(
        mut self,
        name: impl Into<String>,
        task: impl Future<Output = anyhow::Result<()>> + Send + 'static,
    ) -> Self {
        self.tasks.push((name.into(), Box::pin(task)));
        self
    }
}

/// Binds `http.listen` and runs `services` until `shutdown` (see [`serve_on`]).
pub async fn serve(http: &crate::config::HttpArgs, services: Vec<Service>, shutdown: Shutdown) -> anyhow::Result<()> {
    let listener = http::bind(http.listen).await?;
    serve_on(listener, http.clone(), services, shutdown).await
}

/// Runs `services` on one listener (`http.listen` is not used: the listener is bound already),
/// with `http`'s request and shutdown deadlines: their routes together with `/metrics`, `/livez` and a
/// `/readyz` that checks what all of them need, and all their tasks. Returns once everything has
/// stopped: after `shutdown`, or as soon as one task fails or ends on its own, which triggers
/// `shutdown` for the rest. The first error is returned.
pub async fn serve_on(
    listener: TcpListener,
    http: crate::config::HttpArgs,
    services: Vec<Service>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    // The metrics recorder before the first task runs: a gauge a task sets once (the push
    // sender's `push_sender_active`) would otherwise go to no recorder and never show.
    crate::ops::prometheus();
    let names: Vec<String> = services.iter().map(|service| service.name.clone()).collect();
    let mut router = Router::new();
    let mut readiness = Readiness::new();
    let mut running: JoinSet<(String, anyhow::Result<()>)> = JoinSet::new();
    for service in services {
        router = router.merge(service.router);
        readiness = readiness.merge(service.readiness);
        for (name, task) in service.tasks {
            running.spawn(async move { (name, task.await) });
        }
    }
    let health = crate::ops::router(readiness);
    let app = router.merge(health.clone());
    let app = match http.metrics_listen {
        None => app.merge(crate::ops::metrics_router().route_layer(axum::middleware::from_fn(crate::ops::local_only))),
        Some(_) => app,
    };
    let app = http::observe(app, &http);
    let shutdown_timeout = http.shutdown_timeout;
    let names = names.join(", ");
    tracing::info!(address = %format!("http://{}", listener.local_addr()?), "{names} listening");
    {
        let shutdown = shutdown.clone();
        running.spawn(async move { ("http".to_owned(), http::serve(listener, app, shutdown, shutdown_timeout).await) });
    }
    if let Some(address) = http.metrics_listen {
        let operations = http::bind(address).await?;
        tracing::info!(address = %format!("http://{}", operations.local_addr()?), "metrics, liveness and readiness listening");
        let app = crate::ops::metrics_router().merge(health);
        let shutdown = shutdown.clone();
        running.spawn(async move {
            ("operations http".to_owned(), http::serve(operations, app, shutdown, shutdown_timeout).await)
        });
    }

    let mut first_error = None;
    while let Some(joined) = running.join_next().await {
        let (task, result) = joined?;
        if let Err(error) = result {
            tracing::error!(task, error = format!("{error:#}"), "failed; stopping the rest");
            first_error.get_or_insert(error.context(format!("{task} failed")));
        } else if !shutdown.is_triggered() {
            tracing::error!(task, "stopped on its own; stopping the rest");
        }
        shutdown.trigger();
    }
    tracing::info!("{names} stopped");
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::config::HttpArgs;

    fn free_port() -> SocketAddr {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
    }

    async fn status(url: String, forwarded: bool) -> u16 {
        let client = reqwest::Client::new();
        let mut request = client.get(url);
        if forwarded {
            request = request.header("x-forwarded-for", "198.51.100.7");
        }
        request.send().await.map_or(0, |response| response.status().as_u16())
    }

    async fn start(http: HttpArgs) -> (String, Shutdown) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = Shutdown::new();
        let service = Service::new("test").routes(Router::new().route("/hello", axum::routing::get(|| async { "hi" })));
        tokio::spawn(serve_on(listener, http, vec![service], shutdown.clone()));
        for _ in 0..100 {
            if reqwest::get(format!("{address}/livez")).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        (address, shutdown)
    }

    #[tokio::test]
    async fn metrics_are_served_to_this_machine_only_and_not_through_a_proxy() {
        let (address, shutdown) = start(HttpArgs::for_tests()).await;
        assert_eq!(status(format!("{address}/metrics"), false).await, 200);
        assert_eq!(status(format!("{address}/metrics"), true).await, 404, "a proxied request is not local");
        assert_eq!(status(format!("{address}/livez"), true).await, 200, "liveness stays public");
        shutdown.trigger();
    }

    #[tokio::test]
    async fn with_an_operations_address_metrics_move_there() {
        let operations = free_port();
        let (address, shutdown) = start(HttpArgs { metrics_listen: Some(operations), ..HttpArgs::for_tests() }).await;
        assert_eq!(status(format!("{address}/metrics"), false).await, 404);
        assert_eq!(status(format!("{address}/hello"), false).await, 200);
        let mut served = 0;
        for _ in 0..100 {
            served = status(format!("http://{operations}/metrics"), true).await;
            if served == 200 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(served, 200);
        assert_eq!(status(format!("http://{operations}/readyz"), false).await, 200);
        shutdown.trigger();
    }
}
