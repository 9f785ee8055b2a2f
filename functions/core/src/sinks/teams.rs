//! Microsoft Teams sink: a Workflows webhook ("Post to a channel when a webhook request is
//! received") with an Adaptive Card in the `{"type":"message","attachments":[...]}` envelope
//! (REFERENCE.md §8). Office 365 connectors (MessageCard) are retired. The card declares version
//! 1.4 and uses only 1.4 elements: Teams renders later versions as "card couldn't be displayed"
//! (prometheus/alertmanager#3920). A Workflow belongs to the user who created it and stops when
//! that account is disabled or leaves: give it a service owner, and watch for `delivery.failing`.
//!
//! Tenant-derived text is only ever sent as `TextRun`s inside `RichTextBlock`s, which do not parse
//! Markdown (see `sinks::escape` for why); `TextBlock` and `FactSet` carry only our own text.

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::escape::{encode_href, inert};
use super::{display_value, http, Sink, SinkError};
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

/// Longest value shown in one row, as the FactSet values were.
const MAX_VALUE: usize = 500;

/// A `TextBlock` of our own text: it parses Markdown, so never give it tenant text.
fn own_text(t: &str) -> Value {
    json!({"type": "TextBlock", "text": t, "wrap": true})
}

/// A `FactSet` of our own labels and values: it parses Markdown, so never give it tenant text.
fn own_facts(pairs: &[(&str, &str)]) -> Value {
    let facts: Vec<Value> = pairs
        .iter()
        .map(|(t, v)| json!({"title": t, "value": v}))
        .collect();
    json!({"type": "FactSet", "facts": facts})
}

/// A `TextRun` of tenant text: shown literally (no Markdown), defanged and cut to `max`.
fn run(text: &str, max: usize) -> Value {
    json!({"type": "TextRun", "text": inert(text, max)})
}

/// A `RichTextBlock` of runs; `tight` drops the gap above it, so consecutive rows read as a list.
fn rich(inlines: Vec<Value>, tight: bool) -> Value {
    let mut block = json!({"type": "RichTextBlock", "inlines": inlines});
    if tight {
        block["spacing"] = "None".into();
    }
    block
}

/// One row per pair, `**label:** value` drawn with a bold run instead of Markdown, in place of a
/// FactSet (whose titles and values parse Markdown).
fn rows(pairs: Vec<(String, String)>) -> Vec<Value> {
    pairs
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let mut label = run(&format!("{label}: "), MAX_VALUE);
            label["weight"] = "Bolder".into();
            rich(vec![label, run(&value, MAX_VALUE)], i > 0)
        })
        .collect()
}

/// One line of the digest: `• upn (population): N days inactive`.
fn finding_row(f: &Value, tight: bool) -> Value {
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
    let population = ev["population"].as_str().unwrap_or("account");
    let line = format!("• {who} ({population}): {days} days inactive");
    rich(vec![run(&line, MAX_VALUE)], tight)
}

/// The Adaptive Card for an alert.
pub fn card(alert: &Alert) -> Value {
    let sev = severity_name(alert.severity).to_uppercase();
    let mut title = run(&alert.title, 300);
    title["size"] = "Medium".into();
    title["weight"] = "Bolder".into();
    title["color"] = color(alert.severity).into();
    let mut body = vec![
        rich(vec![title], false),
        own_facts(&[("Severity", &sev), ("Type", &alert.kind)]),
    ];
    let mut who = vec![(
        "Tenant".to_string(),
        format!("{} ({})", alert.tenant.name, alert.tenant.id),
    )];
    if let Some(upn) = alert
        .subject
        .as_ref()
        .and_then(|s| s["userPrincipalName"].as_str())
    {
        who.push(("Account".into(), upn.to_string()));
    }
    body.extend(rows(who));
    let pairs = |m: &serde_json::Map<String, Value>| -> Vec<(String, String)> {
        m.iter()
            .map(|(k, v)| (k.clone(), display_value(v)))
            .collect()
    };
    body.extend(rows(pairs(&alert.evidence)));
    if let Some(counts) = alert.extra.get("counts").and_then(Value::as_object) {
        body.extend(rows(pairs(counts)));
    }
    if let Some(findings) = alert.extra.get("findings").and_then(Value::as_array) {
        for (i, f) in findings.iter().take(MAX_FINDINGS).enumerate() {
            body.push(finding_row(f, i > 0));
        }
        if findings.len() > MAX_FINDINGS {
            body.push(own_text(&format!(
                "… and {} more",
                findings.len() - MAX_FINDINGS
            )));
        }
    }
    body.push(json!({"type": "TextBlock", "text": format!("entrawatch · {} · {}", alert.id, alert.timestamp_text()), "isSubtle": true, "size": "Small", "wrap": true}));
    // Titles and URLs are ours; the URL may hold a Graph id, encoded so it stays one valid URL.
    let actions: Vec<Value> = alert
        .links
        .iter()
        .map(|l| json!({"type": "Action.OpenUrl", "title": l.text, "url": encode_href(&l.href)}))
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
