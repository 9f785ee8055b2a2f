//! Logs go to stderr (SPEC.md), as text or JSON; stdout is kept for results and `--output json` alerts.

use entrawatch_core::redact::RedactingMakeWriter;
use tracing_subscriber::EnvFilter;

use crate::LogFormat;

/// `default_filter` applies unless `ENTRAWATCH_LOG` is set (an `EnvFilter` directive such as `info` or `debug`).
pub fn init(format: LogFormat, default_filter: &str) {
    let filter = EnvFilter::try_from_env("ENTRAWATCH_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Resolved secrets and webhook URLs are masked in every line (SPEC.md "Configuration").
        .with_writer(RedactingMakeWriter::new(std::io::stderr));
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().init(),
    }
}
