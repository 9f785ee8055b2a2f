//! Sinks from the `[[sinks]]` configuration, with their secrets resolved. A sink that cannot be
//! built (a secret that does not resolve, a malformed `whsec_`, a URL that is not https) is not a
//! reason to stop: it becomes an [`UnavailableSink`], which the dispatcher treats as down (its
//! deliveries wait, `delivery.failing` goes to the other sinks) while the jobs and the other
//! sinks go on (SPEC.md "Alerts").

use std::sync::Arc;

use async_trait::async_trait;

use super::pagerduty::{PagerDutySink, DEFAULT_URL};
use super::webhook::{SigningKey, WebhookSink};
use super::{local, slack::SlackSink, teams::TeamsSink, Sink, SinkError};
use crate::alert::Alert;
use crate::config::{SinkConfig, SinkType};
use crate::net::UrlRefused;
use crate::secrets::{SecretError, SecretRef, SecretResolver};
use crate::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SinkBuildError {
    #[error("sink {sink}: {field} is required for {kind} sinks")]
    Missing {
        sink: String,
        field: &'static str,
        kind: &'static str,
    },
    #[error("sink {sink}: {source}")]
    Secret { sink: String, source: SecretError },
    #[error("sink {sink}: {reason}")]
    Invalid { sink: String, reason: String },
}

fn kind_name(k: SinkType) -> &'static str {
    match k {
        SinkType::Webhook => "webhook",
        SinkType::Slack => "slack",
        SinkType::Teams => "teams",
        SinkType::Pagerduty => "pagerduty",
        SinkType::Stdout => "stdout",
        SinkType::File => "file",
    }
}

async fn required(
    resolver: &SecretResolver,
    sink: &SinkConfig,
    value: &Option<SecretRef>,
    field: &'static str,
) -> Result<Secret, SinkBuildError> {
    let r = value.as_ref().ok_or_else(|| SinkBuildError::Missing {
        sink: sink.name.clone(),
        field,
        kind: kind_name(sink.kind),
    })?;
    resolver
        .resolve(r)
        .await
        .map_err(|source| SinkBuildError::Secret {
            sink: sink.name.clone(),
            source,
        })
}

/// Resolves a sink URL and refuses anything but https or loopback http (SPEC.md
/// "Configuration": sink URLs). The message never repeats the URL: it is a secret.
async fn url(
    resolver: &SecretResolver,
    sink: &SinkConfig,
    value: &Option<SecretRef>,
) -> Result<Secret, SinkBuildError> {
    let secret = required(resolver, sink, value, "url").await?;
    let invalid = |reason: &str| SinkBuildError::Invalid {
        sink: sink.name.clone(),
        reason: reason.to_string(),
    };
    match crate::net::checked_url(secret.expose()) {
        Ok(_) => Ok(secret),
        Err(e @ UrlRefused::NotAUrl) => Err(invalid(&format!("url {e}"))),
        Err(e) => Err(invalid(&format!("url {e}; refused"))),
    }
}

/// Builds one configured sink, resolving its URL, signing secret or routing key once.
pub async fn build_sink(
    c: &SinkConfig,
    resolver: &SecretResolver,
    client: &reqwest::Client,
) -> Result<Arc<dyn Sink>, SinkBuildError> {
    let name = c.name.clone();
    Ok(match c.kind {
        SinkType::Webhook => {
            let url = url(resolver, c, &c.url).await?;
            let secret = required(resolver, c, &c.secret, "secret").await?;
            let key = SigningKey::parse(&secret).map_err(|reason| SinkBuildError::Invalid {
                sink: name.clone(),
                reason,
            })?;
            Arc::new(WebhookSink::new(name, url, key, client.clone()))
        }
        SinkType::Slack => Arc::new(SlackSink::new(
            name,
            url(resolver, c, &c.url).await?,
            client.clone(),
        )),
        SinkType::Teams => Arc::new(TeamsSink::new(
            name,
            url(resolver, c, &c.url).await?,
            client.clone(),
        )),
        SinkType::Pagerduty => {
            let key = required(resolver, c, &c.routing_key, "routing_key").await?;
            let url = match &c.url {
                Some(_) => url(resolver, c, &c.url).await?,
                None => Secret::new(DEFAULT_URL),
            };
            Arc::new(PagerDutySink::new(name, url, key, client.clone()))
        }
        SinkType::Stdout => Arc::new(local::StdoutSink::new(name)),
        SinkType::File => {
            let path = c.path.clone().ok_or_else(|| SinkBuildError::Missing {
                sink: name.clone(),
                field: "path",
                kind: "file",
            })?;
            Arc::new(local::FileSink::new(name, path))
        }
    })
}

/// Builds every configured sink; one that cannot be built is an [`UnavailableSink`] in its place
/// (logged with its reason, never with a secret).
pub async fn build_sinks(
    configs: &[SinkConfig],
    resolver: &SecretResolver,
    client: &reqwest::Client,
) -> Vec<Arc<dyn Sink>> {
    let mut sinks = Vec::new();
    for c in configs {
        match build_sink(c, resolver, client).await {
            Ok(sink) => sinks.push(sink),
            Err(e) => {
                tracing::error!(sink = %c.name, error = %e, "sink cannot be built; it is treated as down and its alerts wait");
                sinks.push(Arc::new(UnavailableSink::new(&c.name, &e)) as Arc<dyn Sink>);
            }
        }
    }
    sinks
}

/// A configured sink that could not be built: every send fails as retryable with the reason, so
/// its deliveries wait until the configuration or secret is fixed.
pub struct UnavailableSink {
    name: String,
    reason: String,
}

impl UnavailableSink {
    pub fn new(name: &str, error: &SinkBuildError) -> UnavailableSink {
        let full = error.to_string();
        // The error names the sink first ("sink NAME: ..."); keep only the reason.
        let reason = full
            .strip_prefix(&format!("sink {name}: "))
            .unwrap_or(&full)
            .to_string();
        UnavailableSink {
            name: name.to_string(),
            reason: format!("cannot be built: {reason}"),
        }
    }
}

#[async_trait]
impl Sink for UnavailableSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, _alert: &Alert) -> Result<(), SinkError> {
        Err(SinkError::retry(self.reason.clone()))
    }

    fn unavailable(&self) -> Option<&str> {
        Some(&self.reason)
    }
}
