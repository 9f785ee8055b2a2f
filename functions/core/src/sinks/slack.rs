//! Slack incoming-webhook sink: `{"text": <fallback>, "blocks": [...]}` (REFERENCE.md §8).
//! Block Kit limits (Slack API docs, "Blocks" reference): a message holds at most 50 blocks, a
//! header's plain text at most 150 characters, a section's text at most 3000, a section at most 10
//! `fields` of at most 2000 characters each, a context block at most 10 elements. Slack answers
//! 429 with `Retry-After` (about one message per second).
//!
//! Tenant-derived text is only ever sent as `plain_text` (see `sinks::escape` for why); `mrkdwn`
//! carries our own labels, the alert type and id, and our links.

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::escape::{defang, slack_escape_mrkdwn, slack_link, slack_plain};
use super::{display_value, http, truncate, Sink, SinkError};
use crate::alert::{severity_name, Alert};
use crate::Secret;

pub const MAX_BLOCKS: usize = 50;
pub const MAX_HEADER: usize = 150;
pub const MAX_SECTION: usize = 3000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_FIELD: usize = 2000;
const MAX_CONTEXT_ELEMENTS: usize = 10;
/// Evidence gets at most this many sections of fields (30 values), so that an alert with many
/// evidence keys still leaves most of the 50 blocks to the rest of the message.
const MAX_EVIDENCE_SECTIONS: usize = 3;

/// A section of tenant text: `plain_text`, so mentions, links and formatting stay literal.
fn plain_section(text: &str) -> Value {
    json!({"type": "section", "text": slack_plain(text, MAX_SECTION)})
}

/// One `Label: value` field, `plain_text` because the value (and, to be safe, the label) may
/// come from the tenant.
fn field(label: &str, value: &str) -> Value {
    slack_plain(&format!("{label}: {value}"), MAX_FIELD)
}

/// Fields in sections of at most 10, using at most `max_sections` sections; when they do not all
/// fit, the last field says how many were left out.
fn field_sections(mut fields: Vec<Value>, max_sections: usize) -> Vec<Value> {
    let cap = max_sections * MAX_FIELDS;
    if fields.len() > cap {
        let keep = cap.saturating_sub(1);
        let more = fields.len() - keep;
        fields.truncate(keep);
        fields.push(slack_plain(&format!("… and {more} more"), MAX_FIELD));
    }
    fields
        .chunks(MAX_FIELDS)
        .map(|c| json!({"type": "section", "fields": c}))
        .collect()
}

/// A context block of our own mrkdwn (links, the footer, the "… and N more" note).
fn context(texts: Vec<String>) -> Value {
    let elements: Vec<Value> = texts
        .into_iter()
        .take(MAX_CONTEXT_ELEMENTS)
        .map(|t| json!({"type": "mrkdwn", "text": truncate(&t, MAX_SECTION)}))
        .collect();
    json!({"type": "context", "elements": elements})
}

/// One line per digest finding: `• upn (population): N days inactive, last activity X`, shown
/// as plain text (so no bold). Defanged here, before packing, so that the lengths packing
/// measures are the lengths sent.
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
    defang(&format!(
        "• {who} ({population}): {days} days inactive, last activity {last}"
    ))
}

/// Packs lines into plain-text sections of at most 3000 characters, using at most `budget`
/// blocks; when they do not all fit, the last block says how many lines were left out
/// ("… and N more").
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
        return chunks.iter().map(|(t, _)| plain_section(t)).collect();
    }
    let keep = budget.saturating_sub(1);
    let shown: usize = chunks[..keep].iter().map(|(_, n)| n).sum();
    let mut blocks: Vec<Value> = chunks[..keep]
        .iter()
        .map(|(t, _)| plain_section(t))
        .collect();
    blocks.push(context(vec![format!("… and {} more", lines.len() - shown)]));
    blocks
}

/// The Slack message for an alert.
pub fn render(alert: &Alert) -> Value {
    let sev = severity_name(alert.severity).to_uppercase();
    // The fallback is parsed as mrkdwn (it is what notifications show): escaped, not plain_text.
    let text = slack_escape_mrkdwn(&truncate(
        &defang(&format!("[{sev}] {} ({})", alert.title, alert.tenant.name)),
        MAX_SECTION,
    ));
    let mut blocks = vec![json!({"type": "header", "text": slack_plain(&alert.title, MAX_HEADER)})];
    let mut who = vec![field(
        "Tenant",
        &format!("{} ({})", alert.tenant.name, alert.tenant.id),
    )];
    if let Some(upn) = alert
        .subject
        .as_ref()
        .and_then(|s| s["userPrincipalName"].as_str())
    {
        who.push(field("Account", upn));
    }
    blocks.push(json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!("*Severity:* {sev}\n*Type:* `{}`", slack_escape_mrkdwn(&alert.kind))},
        "fields": who,
    }));
    let evidence: Vec<Value> = alert
        .evidence
        .iter()
        .map(|(k, v)| field(k, &display_value(v)))
        .collect();
    blocks.extend(field_sections(evidence, MAX_EVIDENCE_SECTIONS));
    if let Some(counts) = alert.extra.get("counts").and_then(Value::as_object) {
        let parts: Vec<String> = counts
            .iter()
            .map(|(k, v)| format!("{k}: {}", display_value(v)))
            .collect();
        let counts = slack_plain(&format!("Counts: {}", parts.join(", ")), MAX_SECTION);
        blocks.push(json!({"type": "context", "elements": [counts]}));
    }
    let links: Vec<String> = alert
        .links
        .iter()
        .map(|l| slack_link(&l.href, &l.text))
        .collect();
    let trailer = 1 + usize::from(!links.is_empty());
    if let Some(findings) = alert.extra.get("findings").and_then(Value::as_array) {
        let lines: Vec<String> = findings.iter().map(finding_line).collect();
        let budget = MAX_BLOCKS.saturating_sub(blocks.len() + trailer);
        blocks.extend(packed_sections(&lines, budget));
    }
    if !links.is_empty() {
        blocks.push(context(links));
    }
    blocks.push(context(vec![format!(
        "entrawatch · alert `{}` · {}",
        slack_escape_mrkdwn(&alert.id),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{types, Severity, TenantRef};

    #[test]
    fn many_long_evidence_values_stay_within_the_section_field_limits() {
        let tenant = TenantRef {
            id: "t".into(),
            name: "n".into(),
        };
        let mut alert = Alert::new(
            types::TEST,
            Severity::Info,
            tenant,
            "k",
            "t",
            Default::default(),
        );
        for i in 0..45 {
            alert = alert.with_evidence(&format!("k{i:02}"), "https://x ".repeat(300));
        }
        let msg = render(&alert);
        let blocks = msg["blocks"].as_array().unwrap();
        let sections: Vec<&Vec<Value>> = blocks
            .iter()
            .filter_map(|b| b["fields"].as_array())
            .collect();
        // One section for tenant, three for evidence: 29 values and the count of the other 16.
        assert_eq!(sections.len(), 1 + MAX_EVIDENCE_SECTIONS);
        for fields in &sections {
            assert!(fields.len() <= MAX_FIELDS);
            for f in fields.iter() {
                assert_eq!(f["type"], "plain_text");
                let text = f["text"].as_str().unwrap();
                assert!(text.chars().count() <= MAX_FIELD && !text.contains("https://"));
            }
        }
        assert_eq!(sections[3][9]["text"], "… and 16 more");
    }
}
