//! Structured logs with `tracing`: human-readable by default, one JSON object per line with
//! `--log-format json` (for log collectors in a cluster). Logs go to stderr, so a command's own
//! output on stdout stays clean for scripts. Control characters in logged values (a username
//! with a newline, a terminal escape) are escaped in both formats, so user input cannot forge a
//! log line.

use std::fmt::Write as _;

use clap::ValueEnum;
use tracing::field::Field;
use tracing_subscriber::{
    EnvFilter,
    field::MakeExt,
    fmt::{self, FormatFields, format::Writer},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

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
        LogFormat::Human => registry
            .with(fmt::layer().with_writer(std::io::stderr).with_target(true).fmt_fields(escaping_fields()))
            .try_init(),
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

/// The human format's fields, `name=value` separated by spaces with the message first and bare,
/// as tracing's default, but with every control character escaped (`\n`, `\u{1b}`): a value
/// cannot end the line or recolour the terminal. (The JSON format escapes them already.)
pub fn escaping_fields() -> impl for<'writer> FormatFields<'writer> + Send + Sync + 'static {
    fmt::format::debug_fn(|writer: &mut Writer<'_>, field: &Field, value: &dyn std::fmt::Debug| {
        let mut text = String::new();
        write!(text, "{value:?}")?;
        if field.name() != "message" {
            write!(writer, "{}=", field.name())?;
        }
        write_escaped(writer, &text)
    })
    .delimited(" ")
}

fn write_escaped(writer: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    for character in text.chars() {
        if character.is_control() {
            write!(writer, "{}", character.escape_default())?;
        } else {
            writer.write_char(character)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn user_input_with_newlines_and_escapes_stays_on_one_log_line() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .fmt_fields(escaping_fields())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let username = "mallory\n2026-12-04T00:00:00Z  INFO ems_web::auth: logged in user_id=admin\u{1b}[2J";
            tracing::warn!(%username, attempt = 3, "login failed for {username}");
        });
        let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(output.lines().count(), 1, "one event is one line: {output:?}");
        assert!(!output.contains('\u{1b}'), "no raw escape character: {output:?}");
        assert!(output.contains("username=mallory\\n2026"), "the newline is written as \\n: {output:?}");
        assert!(output.contains("login failed for mallory\\n"), "the message is escaped too: {output:?}");
        assert!(output.contains("attempt=3"), "other fields keep their form: {output:?}");
    }
}
