//! Structured logs with `tracing`: human-readable by default, one JSON object per line with
//! `--log-format json` (for log collectors in a cluster). Logs go to stderr, so a command's own
//! output on stdout stays clean for scripts.

use clap::ValueEnum;
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Coloured, aligned lines for a terminal.
    #[default]
    Human,
    /// One JSON object per line, with span fields such as the request id.
    Json,
}

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax, e.g. `info,ems_web=debug`.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|error| anyhow::anyhow!("invalid log filter {filter:?} (--log / EMS_LOG): {error}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Human => registry.with(fmt::layer().with_writer(std::io::stderr).with_target(true)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .with_writer(std::io::stderr)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    result.map_err(|error| anyhow::anyhow!("could not install the log subscriber: {error}"))
}
