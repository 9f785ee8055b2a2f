//! Slack incoming-webhook sink: `{"text": <fallback>, "blocks": [...]}` (REFERENCE.md §8).
//! Block Kit limits (Slack API docs, "Blocks" reference): a message holds at most 50 blocks, a
//! header's plain text at most 150 characters, a section's text at most 3000, a context block at
//! most 10 elements. Slack answers 429 with `Retry-After` (about one message per second).

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::{display_value, http, truncate, Sink, SinkError};
use crate::alert::{severity_name, Alert};
use crate::Secret;

pub const MAX_BLOCKS: usize = 50;
pub const MAX_HEADER: usize = 150;
pub const MAX_SECTION: usize = 3000;
const MAX_CONTEXT_ELEMENTS: usize = 10;

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_SECTION)}})
}

fn context(texts: Vec<String>) -> Value {
    let elements: Vec<Value> = texts
        .into_iter()
        .take(MAX_CONTEXT_ELEMENTS)
        .map(|t| json!({"type": "mrkdwn", "text": truncate(&t, MAX_SECTION)}))
        .collect();
    json!({"type": "context", "elements": elements})
}

/// One line per digest finding: `*upn* (population): N days inactive, last activity X`.
fn finding_line(f: &Value) -> String {
    let who = f["subject"]["userPrincipalName"]
        .as_str()
        .or_else(|| f["userPrincipalName"].as_str())
        .or_else(|| f["subject"]["id"].as_str())
        .unwrap_or("(unknown account)");
    let ev = if f["evidence"].is_object() {
        &f["evidence"]
    } else {
        f
    };
    let population = ev["population"].as_str().unwrap_or("account");
    let days = ev["daysInactive"]
        .as_i64()
        .map(|d| d.to_string())
        .unwrap_or_else(|| "?".into());
    let last = ev["lastActivity"].as_str().unwrap_or("never");
    format!("• *{who}* ({population}): {days} days inactive, last activity {last}")
}

/// Packs lines into sections of at most 3000 characters, using at most `budget` blocks; when
/// they do not all fit, the last block says how many lines were left out ("… and N more").
fn packed_sections(lines: &[String], budget: usize) -> Vec<Value> {
    let mut chunks: Vec<(String, usize)> = Vec::new();
    for line in lines {
        let line = truncate(line, MAX_SECTION);
        match chunks.last_mut() {
            Some((text, n)) if text.chars().count() + 1 + line.chars().count() <= MAX_SECTION => {
                text.push('\n');
                text.push_str(&line);
                *n += 1;
            }
            _ => chunks.push((line, 1)),
        }
    }
    if chunks.len() <= budget {
        return chunks.iter().map(|(t, _)| section(t)).collect();
    }
    let keep = budget.saturating_sub(1);
    let shown: usize = chunks[..keep].iter().map(|(_, n)| n).sum();
    let mut blocks: Vec<Value> = chunks[..keep].iter().map(|(t, _)| section(t)).collect();
    blocks.push(context(vec![format!("… and {} more", lines.len() - shown)]));
    blocks
}

/// The Slack message for an alert.
pub fn render(alert: &Alert) -> Value {
    let sev = severity_name(alert.severity).to_uppercase();
    let text = truncate(
        &format!("[{sev}] {} ({})", alert.title, alert.tenant.name),
        MAX_SECTION,
    );
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&alert.title, MAX_HEADER), "emoji": false}}),
    ];
    let mut summary = format!(
        "*Severity:* {}\n*Type:* `{}`\n*Tenant:* {} (`{}`)",
        sev, alert.kind, alert.tenant.name, alert.tenant.id
    );
    if let Some(upn) = alert
        .subject
        .as_ref()
        .and_then(|s| s["userPrincipalName"].as_str())
    {
        summary.push_str(&format!("\n*Account:* {upn}"));
    }
    blocks.push(section(&summary));
    if !alert.evidence.is_empty() {
        let lines: Vec<String> = alert
            .evidence
            .iter()
            .map(|(k, v)| format!("*{k}:* {}", display_value(v)))
            .collect();
        blocks.push(section(&lines.join("\n")));
    }
    if let Some(counts) = alert.extra.get("counts").and_then(Value::as_object) {
        let parts: Vec<String> = counts
            .iter()
            .map(|(k, v)| format!("{k}: {}", display_value(v)))
            .collect();
        blocks.push(context(vec![format!("*Counts:* {}", parts.join(", "))]));
    }
    let links: Vec<String> = alert
        .links
        .iter()
        .map(|l| format!("<{}|{}>", l.href, l.text))
        .collect();
    let trailer = 1 + usize::from(!links.is_empty());
    if let Some(findings) = alert.extra.get("findings").and_then(Value::as_array) {
        let lines: Vec<String> = findings.iter().map(finding_line).collect();
        let budget = MAX_BLOCKS - blocks.len() - trailer;
        blocks.extend(packed_sections(&lines, budget));
    }
    if !links.is_empty() {
        blocks.push(context(links));
    }
    blocks.push(context(vec![format!(
        "entrawatch · alert `{}` · {}",
        alert.id,
        alert.timestamp_text()
    )]));
    json!({"text": text, "blocks": blocks})
}

pub struct SlackSink {
    name: String,
    url: Secret,
    client: reqwest::Client,
}

impl SlackSink {
    pub fn new(name: impl Into<String>, url: Secret, client: reqwest::Client) -> Self {
        SlackSink {
            name: name.into(),
            url,
            client,
        }
    }
}

#[async_trait]
impl Sink for SlackSink {
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
