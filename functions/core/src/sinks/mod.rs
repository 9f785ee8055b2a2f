//! Alert sinks: one small adapter per destination, each rendering the [`Alert`] in its own
//! format (pure `render` functions, pinned by golden files in `tests/golden/`) and sending it.

mod build;
mod escape;
mod http;
pub mod local;
pub mod pagerduty;
pub mod slack;
pub mod teams;
pub mod webhook;

pub use build::{build_sink, build_sinks, SinkBuildError, UnavailableSink};

use std::time::Duration;

use async_trait::async_trait;

use crate::alert::Alert;

/// Why a send failed. Neither variant ever carries a URL or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Worth trying again later (5xx, 429, timeouts, connection errors); `retry_after` is the
    /// sink's own `Retry-After`, when it sent one.
    #[error("{reason}")]
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The sink refused this alert for good (PagerDuty 400): retrying would fail the same way.
    #[error("{reason}")]
    Reject { reason: String },
}

impl SinkError {
    pub fn retry(reason: impl Into<String>) -> SinkError {
        SinkError::Retry {
            reason: reason.into(),
            retry_after: None,
        }
    }
}

/// A destination for alerts.
#[async_trait]
pub trait Sink: Send + Sync {
    /// The sink's name from the configuration (`[[sinks]] name`).
    fn name(&self) -> &str;
    async fn send(&self, alert: &Alert) -> Result<(), SinkError>;
    /// Why the sink cannot work at all (it could not be built from its configuration), if so.
    fn unavailable(&self) -> Option<&str> {
        None
    }
}

/// The HTTP client the remote sinks share: rustls, no redirects (Standard Webhooks "Delivery
/// success and failure": a 3xx is a failure; update the URL instead), [`SEND_TIMEOUT`]. Sink
/// URLs are checked to be https or loopback http when the sinks are built.
pub fn http_client() -> Result<reqwest::Client, String> {
    crate::net::http_client(http::TIMEOUT)
}

/// The longest one send may take.
pub const SEND_TIMEOUT: std::time::Duration = http::TIMEOUT;

/// Cuts `text` to at most `max` characters, ending with `…` when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `evidence` values as display text: strings bare, everything else as JSON.
pub(crate) fn display_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_not_bytes_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        let t = truncate(&"é".repeat(200), 150);
        assert_eq!(t.chars().count(), 150);
        assert!(t.ends_with('…'));
    }
}
