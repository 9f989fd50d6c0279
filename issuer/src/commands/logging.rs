//! What the issuer tells its operator, through `tracing`.
//!
//! Two kinds of event: what a command says to the person who ran it
//! ([`say`]: "issuer listening on …", target `issuer::console`, always
//! shown), and the service's log (everything else: published files,
//! retries, errors, and with `RUST_LOG=debug` one line per request with its
//! method, route template, status and latency). `RUST_LOG` filters the log
//! (default `info` for `serve`, `warn` for the other commands). Lines go to
//! stderr: as text (what a command says as it is; log events with a UTC
//! timestamp and level), or with `--log-format json` one JSON object per
//! line, for an operator's log stack.
//!
//! Nothing logged holds a token, a retrieval code or a key: requests are
//! logged by route template, never by path, and no event carries a secret.

use clap::ValueEnum;
use std::fmt;
use std::io::Write as _;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The target of what a command says to the person who ran it.
pub const CONSOLE: &str = "issuer::console";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    // Lines for a person at a terminal.
    Text,
    // One JSON object per line.
    Json,
}

/// Installs the logger: `default` is the filter when `RUST_LOG` is unset.
pub fn init(format: LogFormat, default: &str) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            // Written before the logger is up; a closed stderr is no reason to stop.
            let _ = writeln!(
                std::io::stderr(),
                "warning: RUST_LOG={spec:?} is not a log filter ({e}); using {default:?}"
            );
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    };
    // What a command says is never filtered out.
    let filter = match format!("{CONSOLE}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.event_format(Text).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    // Installed once per process; a second call (tests) keeps the first.
    let _ = installed;
}

/// Says `message` to the person who ran the command (stderr, or a JSON
/// line with `--log-format json`).
pub fn say(message: &str) {
    tracing::info!(target: CONSOLE, "{message}");
}

/// Like [`say`], for something that went wrong but does not stop the command.
pub fn warn(message: &str) {
    tracing::warn!(target: CONSOLE, "{message}");
}

/// Says why the command failed (`error: …` on stderr, or a JSON line).
pub fn fail(message: &str) {
    tracing::error!(target: CONSOLE, "{message}");
}

/// The text format: what a command says as it is (`warning: ` or `error: `
/// before it when it is one), log events after a UTC timestamp and a level.
struct Text;

impl<S, N> FormatEvent<S, N> for Text
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() == CONSOLE {
            match *meta.level() {
                tracing::Level::WARN => write!(writer, "warning: ")?,
                tracing::Level::ERROR => write!(writer, "error: ")?,
                _ => {}
            }
        } else {
            let now = time::OffsetDateTime::now_utc();
            let stamp = now
                .format(time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
                ))
                .unwrap_or_default();
            write!(writer, "{stamp} {:>5} ", meta.level())?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
