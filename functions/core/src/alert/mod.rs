//! The alert model (SPEC.md "Alerts"): what a job raises, independent of where it is delivered.
//! Each sink renders it in its own format (`crate::sinks`); the generic webhook body is the
//! canonical JSON form, also used for storage, stdout and `--output json`.

mod routing;

pub use routing::{glob_matches, Route};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use crate::config::Severity;

/// Alert type names, fixed by SPEC.md "Alerts".
pub mod types {
    pub const BREAK_GLASS_SIGN_IN: &str = "break_glass.sign_in";
    pub const BREAK_GLASS_SIGN_IN_FAILED: &str = "break_glass.sign_in_failed";
    pub const BREAK_GLASS_ACCOUNT_CHANGED: &str = "break_glass.account_changed";
    pub const BREAK_GLASS_DRILL_OVERDUE: &str = "break_glass.drill_overdue";
    pub const BREAK_GLASS_POSTURE: &str = "break_glass.posture";
    pub const MONITORING_BLIND: &str = "monitoring.blind";
    pub const DORMANT_ACCOUNT: &str = "dormant.account";
    pub const DORMANT_DIGEST: &str = "dormant.digest";
    pub const DORMANT_REACTIVATED: &str = "dormant.reactivated";
    pub const WORKLOAD_CREDENTIAL_EXPIRING: &str = "workload.credential_expiring";
    pub const WORKLOAD_CREDENTIAL_EXPIRED: &str = "workload.credential_expired";
    pub const WORKLOAD_CREDENTIAL_ADDED: &str = "workload.credential_added";
    pub const WORKLOAD_DORMANT: &str = "workload.dormant";
    pub const DELIVERY_FAILING: &str = "delivery.failing";
    pub const MONITORING_HEARTBEAT: &str = "monitoring.heartbeat";
    pub const TEST: &str = "test";
}

/// The tenant an alert is about (`data.tenant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRef {
    pub id: String,
    pub name: String,
}

impl TenantRef {
    /// The tenant of alerts about entrawatch itself (`delivery.failing` for a sink, heartbeats,
    /// tests): no directory, named "entrawatch". Sink tenant filters do not apply to it.
    pub fn system() -> TenantRef {
        TenantRef {
            id: String::new(),
            name: "entrawatch".into(),
        }
    }

    pub fn is_system(&self) -> bool {
        self.id.is_empty()
    }
}

/// A link shown with the alert (`data.links[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub text: String,
    pub href: String,
}

/// One alert. Build it with [`Alert::new`]; its id is derived from the event, never random.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Stable id: a hash of (type, tenant id, event key). Same event, same id, on every run and
    /// retry; the Standard Webhooks `webhook-id` and the PagerDuty `dedup_key`.
    pub id: String,
    pub kind: String,
    pub severity: Severity,
    pub timestamp: DateTime<Utc>,
    pub tenant: TenantRef,
    pub title: String,
    /// `{"id", "userPrincipalName", "displayName"}` of the account concerned, when there is one.
    pub subject: Option<Value>,
    pub evidence: Map<String, Value>,
    pub links: Vec<Link>,
    /// Extra `data` members, e.g. `findings` and `counts` for `dormant.digest`.
    pub extra: Map<String, Value>,
    /// Set on an alert that closes an earlier one (a resolved finding): that alert's id.
    pub resolves: Option<String>,
}

/// The stable id of an alert: `alert_` + 32 hex digits of SHA-256 over (type, tenant id, event key).
/// The id contains no `.`, as Standard Webhooks requires of message ids (spec "Signature scheme").
pub fn alert_id(kind: &str, tenant_id: &str, event_key: &str) -> String {
    let mut h = Sha256::new();
    for part in ["entrawatch-alert-v1", kind, tenant_id, event_key] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("alert_{hex}")
}

pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// The `test` alert of `entrawatch alerts test` (severity info). Its id is unique per call, so
/// receivers that deduplicate on it still show every test.
pub fn test_alert(now: DateTime<Utc>) -> Alert {
    let key = format!("{}", now.timestamp_nanos_opt().unwrap_or_default());
    Alert::new(
        types::TEST,
        Severity::Info,
        TenantRef::system(),
        &key,
        "entrawatch test alert: this sink receives alerts",
        now,
    )
    .with_evidence("sentBy", "entrawatch alerts test")
}

impl Alert {
    /// A new alert. `event_key` identifies the event within the tenant: the Graph sign-in id for
    /// sign-in alerts, the audit id for changes, the account id and period for reminders.
    pub fn new(
        kind: &str,
        severity: Severity,
        tenant: TenantRef,
        event_key: &str,
        title: impl Into<String>,
        timestamp: DateTime<Utc>,
    ) -> Alert {
        Alert {
            id: alert_id(kind, &tenant.id, event_key),
            kind: kind.to_string(),
            severity,
            timestamp,
            tenant,
            title: title.into(),
            subject: None,
            evidence: Map::new(),
            links: Vec::new(),
            extra: Map::new(),
            resolves: None,
        }
    }

    /// Gives the alert the id of `(id_kind, tenant, event_key)` instead of its own type: for
    /// alerts of different types about one event (a sign-in alerted as `sign_in` or
    /// `sign_in_failed` is one alert, whatever status Graph shows when it is first read).
    pub fn with_id_of(mut self, id_kind: &str, event_key: &str) -> Alert {
        self.id = alert_id(id_kind, &self.tenant.id, event_key);
        self
    }

    pub fn with_subject(mut self, subject: Value) -> Alert {
        self.subject = Some(subject);
        self
    }

    pub fn with_evidence(mut self, key: &str, value: impl Into<Value>) -> Alert {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    pub fn with_link(mut self, text: impl Into<String>, href: impl Into<String>) -> Alert {
        self.links.push(Link {
            text: text.into(),
            href: href.into(),
        });
        self
    }

    pub fn with_data(mut self, key: &str, value: impl Into<Value>) -> Alert {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    /// Marks this alert as closing the alert `earlier_id` (PagerDuty sends `resolve` for it).
    pub fn resolving(mut self, earlier_id: impl Into<String>) -> Alert {
        self.resolves = Some(earlier_id.into());
        self
    }

    /// RFC 3339 UTC with whole seconds, e.g. `2026-11-22T06:00:00Z` (SPEC.md webhook example).
    pub fn timestamp_text(&self) -> String {
        self.timestamp.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// The generic webhook body of SPEC.md "Alerts": `{"type", "timestamp", "data": {...}}`.
    pub fn to_json(&self) -> Value {
        let mut data = Map::new();
        data.insert("id".into(), self.id.clone().into());
        data.insert("severity".into(), severity_name(self.severity).into());
        data.insert("tenant".into(), serde_json::json!(self.tenant));
        data.insert("title".into(), self.title.clone().into());
        if let Some(subject) = &self.subject {
            data.insert("subject".into(), subject.clone());
        }
        data.insert("evidence".into(), Value::Object(self.evidence.clone()));
        data.insert("links".into(), serde_json::json!(self.links));
        for (k, v) in &self.extra {
            data.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if let Some(r) = &self.resolves {
            data.insert("resolves".into(), r.clone().into());
        }
        serde_json::json!({"type": self.kind, "timestamp": self.timestamp_text(), "data": data})
    }

    /// Reads back what [`Alert::to_json`] wrote (the outbox stores that form).
    pub fn from_json(body: &Value) -> Result<Alert, String> {
        let text = |v: &Value, what: &str| -> Result<String, String> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("stored alert has no {what}"))
        };
        let data = body["data"].as_object().ok_or("stored alert has no data")?;
        let mut extra = data.clone();
        for known in [
            "id", "severity", "tenant", "title", "subject", "evidence", "links", "resolves",
        ] {
            extra.remove(known);
        }
        Ok(Alert {
            id: text(&data["id"], "id")?,
            kind: text(&body["type"], "type")?,
            severity: parse(&data["severity"], "severity")?,
            timestamp: DateTime::parse_from_rfc3339(&text(&body["timestamp"], "timestamp")?)
                .map_err(|e| format!("stored alert timestamp: {e}"))?
                .with_timezone(&Utc),
            tenant: parse(&data["tenant"], "tenant")?,
            title: text(&data["title"], "title")?,
            subject: data.get("subject").cloned(),
            evidence: data["evidence"].as_object().cloned().unwrap_or_default(),
            links: parse(&data["links"], "links")?,
            extra,
            resolves: data
                .get("resolves")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("stored alert {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantRef {
        TenantRef {
            id: "11111111-2222-3333-4444-555555555555".into(),
            name: "contoso".into(),
        }
    }

    #[test]
    fn same_event_gives_the_same_id_and_other_events_do_not() {
        let a = alert_id(types::BREAK_GLASS_SIGN_IN, "t1", "signin-1");
        assert_eq!(a, alert_id(types::BREAK_GLASS_SIGN_IN, "t1", "signin-1"));
        assert_ne!(a, alert_id(types::BREAK_GLASS_SIGN_IN, "t1", "signin-2"));
        assert_ne!(a, alert_id(types::BREAK_GLASS_SIGN_IN, "t2", "signin-1"));
        assert_ne!(
            a,
            alert_id(types::BREAK_GLASS_SIGN_IN_FAILED, "t1", "signin-1")
        );
        assert!(a.starts_with("alert_") && a.len() == 38 && !a.contains('.'));
    }

    #[test]
    fn webhook_body_round_trips_through_storage_form() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T06:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = Alert::new(
            types::DORMANT_DIGEST,
            Severity::Medium,
            tenant(),
            "2026-11-22",
            "3 dormant",
            now,
        )
        .with_evidence("signInId", "abc")
        .with_link("Users", "https://entra.microsoft.com/")
        .with_data("counts", serde_json::json!({"member": 3}))
        .resolving("alert_0");
        let body = a.to_json();
        assert_eq!(body["timestamp"], "2026-11-22T06:00:00Z");
        assert_eq!(body["data"]["severity"], "medium");
        assert_eq!(body["data"]["counts"]["member"], 3);
        assert_eq!(Alert::from_json(&body).unwrap(), a);
    }
}
