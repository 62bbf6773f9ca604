//! Graceful shutdown: one token per process, cancelled by SIGTERM or SIGINT (or by a caller such
//! as a test), that every service watches to stop taking new work and finish what is in flight.

use tokio_util::sync::CancellationToken;

/// A cloneable stop signal. Cancelling any clone stops every holder.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// A shutdown that also fires on SIGTERM or SIGINT (Ctrl-C).
    pub fn on_signals() -> Self {
        let shutdown = Self::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            let signal = wait_for_signal().await;
            tracing::info!(signal, "shutdown requested; finishing in-flight work");
            trigger.trigger();
        });
        shutdown
    }

    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown has been requested.
    pub async fn requested(&self) {
        self.token.cancelled().await;
    }

    /// An owned future resolving on shutdown, for APIs that want `'static` futures.
    pub fn requested_owned(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.token.clone().cancelled_owned()
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}
