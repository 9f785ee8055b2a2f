//! PagerDuty sink, Events API v2 (PagerDuty developer docs, "Send an Alert Event" /
//! REFERENCE.md §8): `POST /v2/enqueue` with `routing_key`, `event_action`, `dedup_key`
//! (<= 255 characters; the alert id, so a retry updates the same incident) and `payload`
//! (`summary` <= 1024 characters, `severity` one of critical|error|warning|info). 202 means
//! accepted; 400 means the event is invalid and must not be retried; 429 and 5xx are retried.

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{json, Map, Value};

use super::{http, truncate, Sink, SinkError};
use crate::alert::{Alert, Severity};
use crate::Secret;

pub const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";
const MAX_SUMMARY: usize = 1024;

/// critical→critical, high→error, medium→warning, low and info→info.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// The Events API v2 body. An alert that resolves an earlier one sends `resolve` for the
/// earlier alert's id (its incident's `dedup_key`).
pub fn render(alert: &Alert, routing_key: &str) -> Value {
    if let Some(earlier) = &alert.resolves {
        return json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": earlier});
    }
    let mut details = Map::new();
    details.insert("alert_id".into(), alert.id.clone().into());
    details.insert("tenant_id".into(), alert.tenant.id.clone().into());
    if let Some(subject) = &alert.subject {
        details.insert("subject".into(), subject.clone());
    }
    details.insert("evidence".into(), Value::Object(alert.evidence.clone()));
    for (k, v) in &alert.extra {
        details.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let links: Vec<Value> = alert
        .links
        .iter()
        .map(|l| json!({"href": l.href, "text": l.text}))
        .collect();
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.id,
        "client": "entrawatch",
        "payload": {
            "summary": truncate(&format!("{} ({})", alert.title, alert.tenant.name), MAX_SUMMARY),
            "source": format!("entrawatch/{}", alert.tenant.name),
            "severity": severity(alert.severity),
            "timestamp": alert.timestamp_text(),
            "component": alert.subject.as_ref().and_then(|s| s["userPrincipalName"].as_str()).unwrap_or(&alert.tenant.name),
            "group": alert.tenant.name,
            "class": alert.kind,
            "custom_details": details,
        },
        "links": links,
    })
}

pub struct PagerDutySink {
    name: String,
    url: Secret,
    routing_key: Secret,
    client: reqwest::Client,
}

impl PagerDutySink {
    pub fn new(
        name: impl Into<String>,
        url: Secret,
        routing_key: Secret,
        client: reqwest::Client,
    ) -> Self {
        PagerDutySink {
            name: name.into(),
            url,
            routing_key,
            client,
        }
    }
}

#[async_trait]
impl Sink for PagerDutySink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let body = render(alert, self.routing_key.expose());
        let body = serde_json::to_vec(&body).map_err(|e| SinkError::Reject {
            reason: e.to_string(),
        })?;
        http::post_json(&self.client, &self.url, HeaderMap::new(), body, &[400]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_onto_the_four_pagerduty_levels() {
        assert_eq!(severity(Severity::Critical), "critical");
        assert_eq!(severity(Severity::High), "error");
        assert_eq!(severity(Severity::Medium), "warning");
        assert_eq!(severity(Severity::Low), "info");
        assert_eq!(severity(Severity::Info), "info");
    }
}
