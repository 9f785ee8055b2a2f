//! Logs go to stderr (SPEC.md), as text or JSON; stdout is kept for results and `--output json` alerts. On a
//! terminal they go through the [`Console`] so they never land inside a progress bar, and only there are they
//! coloured: a log file or a CI log gets plain text.

use entrawatch_core::redact::RedactingMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::progress::Console;
use crate::LogFormat;

/// `default_filter` applies unless `ENTRAWATCH_LOG` is set (an `EnvFilter` directive such as `info` or `debug`).
pub fn init(format: LogFormat, console: &Console, default_filter: &str) {
    let filter = EnvFilter::try_from_env("ENTRAWATCH_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(console.draws_bars())
        // Resolved secrets and webhook URLs are masked in every line (SPEC.md "Configuration").
        .with_writer(RedactingMakeWriter::new(console.log_writer()));
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
