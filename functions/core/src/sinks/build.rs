//! Sinks from the `[[sinks]]` configuration, with their secrets resolved.

use std::sync::Arc;

use super::pagerduty::{PagerDutySink, DEFAULT_URL};
use super::webhook::{SigningKey, WebhookSink};
use super::{local, slack::SlackSink, teams::TeamsSink, Sink};
use crate::config::{SinkConfig, SinkType};
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

/// Builds every configured sink, resolving its URL, signing secret or routing key once.
pub async fn build_sinks(
    configs: &[SinkConfig],
    resolver: &SecretResolver,
    client: &reqwest::Client,
) -> Result<Vec<Arc<dyn Sink>>, SinkBuildError> {
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    for c in configs {
        let name = c.name.clone();
        let sink: Arc<dyn Sink> = match c.kind {
            SinkType::Webhook => {
                let url = required(resolver, c, &c.url, "url").await?;
                let secret = required(resolver, c, &c.secret, "secret").await?;
                let key = SigningKey::parse(&secret).map_err(|reason| SinkBuildError::Invalid {
                    sink: name.clone(),
                    reason,
                })?;
                Arc::new(WebhookSink::new(name, url, key, client.clone()))
            }
            SinkType::Slack => Arc::new(SlackSink::new(
                name,
                required(resolver, c, &c.url, "url").await?,
                client.clone(),
            )),
            SinkType::Teams => Arc::new(TeamsSink::new(
                name,
                required(resolver, c, &c.url, "url").await?,
                client.clone(),
            )),
            SinkType::Pagerduty => {
                let key = required(resolver, c, &c.routing_key, "routing_key").await?;
                let url = match &c.url {
                    Some(_) => required(resolver, c, &c.url, "url").await?,
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
        };
        sinks.push(sink);
    }
    Ok(sinks)
}
