//! Microsoft Teams sink: a Workflows webhook ("Post to a channel when a webhook request is
//! received") with an Adaptive Card in the `{"type":"message","attachments":[...]}` envelope
//! (REFERENCE.md §8). Office 365 connectors (MessageCard) are retired. The card declares version
//! 1.4 and uses only 1.4 elements: Teams renders later versions as "card couldn't be displayed"
//! (prometheus/alertmanager#3920). A Workflow belongs to the user who created it and stops when
//! that account is disabled or leaves: give it a service owner, and watch for `delivery.failing`.

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::{display_value, http, truncate, Sink, SinkError};
use crate::alert::{severity_name, Alert, Severity};
use crate::Secret;

pub const CARD_VERSION: &str = "1.4";
/// Digest rows shown in the card; the rest are counted. Keeps the message well under the
/// Workflows webhook request size limit.
pub const MAX_FINDINGS: usize = 50;

/// Element and action types of the Adaptive Cards 1.4 schema (adaptivecards.io, "Schema
/// Explorer", version column); the golden test walks every card against this list.
pub const V1_4_TYPES: &[&str] = &[
    "AdaptiveCard",
    "TextBlock",
    "Image",
    "RichTextBlock",
    "TextRun",
    "Media",
    "ActionSet",
    "Container",
    "ColumnSet",
    "Column",
    "FactSet",
    "ImageSet",
    "Input.Text",
    "Input.Number",
    "Input.Date",
    "Input.Time",
    "Input.Toggle",
    "Input.ChoiceSet",
    "Action.OpenUrl",
    "Action.Submit",
    "Action.ShowCard",
    "Action.ToggleVisibility",
    "Action.Execute",
];

fn color(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "Attention",
        Severity::Medium => "Warning",
        Severity::Low | Severity::Info => "Default",
    }
}

fn text(t: &str) -> Value {
    json!({"type": "TextBlock", "text": t, "wrap": true})
}

fn facts(pairs: Vec<(String, String)>) -> Value {
    let facts: Vec<Value> = pairs
        .into_iter()
        .map(|(t, v)| json!({"title": t, "value": truncate(&v, 500)}))
        .collect();
    json!({"type": "FactSet", "facts": facts})
}

/// The Adaptive Card for an alert.
pub fn card(alert: &Alert) -> Value {
    let sev = severity_name(alert.severity).to_uppercase();
    let mut body = vec![
        json!({"type": "TextBlock", "text": truncate(&alert.title, 300), "weight": "Bolder", "size": "Medium", "color": color(alert.severity), "wrap": true}),
        facts(vec![
            ("Severity".into(), sev),
            ("Type".into(), alert.kind.clone()),
            (
                "Tenant".into(),
                format!("{} ({})", alert.tenant.name, alert.tenant.id),
            ),
        ]),
    ];
    if let Some(upn) = alert
        .subject
        .as_ref()
        .and_then(|s| s["userPrincipalName"].as_str())
    {
        body.push(facts(vec![("Account".into(), upn.to_string())]));
    }
    if !alert.evidence.is_empty() {
        body.push(facts(
            alert
                .evidence
                .iter()
                .map(|(k, v)| (k.clone(), display_value(v)))
                .collect(),
        ));
    }
    if let Some(counts) = alert.extra.get("counts").and_then(Value::as_object) {
        body.push(facts(
            counts
                .iter()
                .map(|(k, v)| (k.clone(), display_value(v)))
                .collect(),
        ));
    }
    if let Some(findings) = alert.extra.get("findings").and_then(Value::as_array) {
        for f in findings.iter().take(MAX_FINDINGS) {
            let who = f["subject"]["userPrincipalName"]
                .as_str()
                .or_else(|| f["userPrincipalName"].as_str())
                .unwrap_or("(unknown account)");
            let ev = if f["evidence"].is_object() {
                &f["evidence"]
            } else {
                f
            };
            let days = ev["daysInactive"]
                .as_i64()
                .map(|d| d.to_string())
                .unwrap_or_else(|| "?".into());
            body.push(text(&format!(
                "- {who} ({}): {days} days inactive",
                ev["population"].as_str().unwrap_or("account")
            )));
        }
        if findings.len() > MAX_FINDINGS {
            body.push(text(&format!(
                "… and {} more",
                findings.len() - MAX_FINDINGS
            )));
        }
    }
    body.push(json!({"type": "TextBlock", "text": format!("entrawatch · {} · {}", alert.id, alert.timestamp_text()), "isSubtle": true, "size": "Small", "wrap": true}));
    let actions: Vec<Value> = alert
        .links
        .iter()
        .map(|l| json!({"type": "Action.OpenUrl", "title": l.text, "url": l.href}))
        .collect();
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    card
}

/// The Workflows webhook body: the card in a `message` envelope.
pub fn render(alert: &Alert) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card(alert),
        }]
    })
}

pub struct TeamsSink {
    name: String,
    url: Secret,
    client: reqwest::Client,
}

impl TeamsSink {
    pub fn new(name: impl Into<String>, url: Secret, client: reqwest::Client) -> Self {
        TeamsSink {
            name: name.into(),
            url,
            client,
        }
    }
}

#[async_trait]
impl Sink for TeamsSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let body = serde_json::to_vec(&render(alert)).map_err(|e| SinkError::Reject {
            reason: e.to_string(),
        })?;
        http::post_json(&self.client, &self.url, HeaderMap::new(), body, &[]).await
    }
}
