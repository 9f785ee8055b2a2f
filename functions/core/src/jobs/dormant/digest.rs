//! The alerts of a finished scan (SPEC.md "Alerts"): one `dormant.digest` per tenant per scan with counts by
//! population, the new and re-notified findings and a line per resolved one; or, per finding, one
//! `dormant.account` each and a `dormant.account` resolving it (PagerDuty `resolve`) when it is resolved.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::alert::{types, Alert, Severity, TenantRef};

/// At most this many findings (and as many resolved lines) are listed in one digest; counts cover all of them.
/// Keeps a digest within a DynamoDB item (400 KB) and the chat formats' limits; the rest is counted as omitted.
pub const MAX_DIGEST_ITEMS: usize = 200;

const USERS_LINK: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserManagementMenuBlade";

/// What a sweep has gathered so far; saved in the checkpoint after each page of findings, so a sweep resumed by
/// another invocation sends the same digest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Open findings by population after this scan.
    pub open: BTreeMap<String, u64>,
    pub new: u64,
    pub reminded: u64,
    pub resolved: u64,
    pub findings: Vec<Value>,
    pub resolved_lines: Vec<Value>,
    /// Digest ids still referenced by an open finding.
    pub live_alerts: BTreeSet<String>,
    /// Digest ids a finding referenced before this sweep moved it on (resolved or re-notified).
    pub released_alerts: BTreeSet<String>,
    pub alerts_recorded: u64,
    /// Open findings this scan did not see and, its plan not verified, did not resolve (issue 14).
    #[serde(default)]
    pub kept_unverified: u64,
}

impl Tally {
    pub fn open_total(&self) -> u64 {
        self.open.values().sum()
    }

    pub fn push_finding(&mut self, line: Value) {
        if self.findings.len() < MAX_DIGEST_ITEMS {
            self.findings.push(line);
        }
    }

    pub fn push_resolved(&mut self, line: Value) {
        if self.resolved_lines.len() < MAX_DIGEST_ITEMS {
            self.resolved_lines.push(line);
        }
    }

    /// Whether a digest has anything to say: otherwise none is sent (the same list is never re-sent daily).
    pub fn has_news(&self) -> bool {
        self.new + self.reminded + self.resolved > 0
    }
}

/// The digest's stable id key: one digest per (tenant, scan), identical when a sweep is redone.
pub fn digest_key(scan: i64) -> String {
    format!("digest#{scan}")
}

pub fn digest_alert(tenant: &TenantRef, scan: i64, tally: &Tally, now: DateTime<Utc>) -> Alert {
    let open = tally.open_total();
    let title = format!(
        "{open} dormant account{} in {}: {} new, {} reminder{}, {} resolved",
        if open == 1 { "" } else { "s" },
        tenant.name,
        tally.new,
        tally.reminded,
        if tally.reminded == 1 { "" } else { "s" },
        tally.resolved
    );
    let mut counts = serde_json::Map::new();
    for population in super::evaluate::Population::ALL {
        let n = tally.open.get(population.as_str()).copied().unwrap_or(0);
        counts.insert(population.as_str().into(), n.into());
    }
    let listed = (tally.findings.len() + tally.resolved_lines.len()) as u64;
    Alert::new(
        types::DORMANT_DIGEST,
        Severity::Medium,
        tenant.clone(),
        &digest_key(scan),
        title,
        now,
    )
    .with_data("findings", Value::Array(tally.findings.clone()))
    .with_data("counts", Value::Object(counts))
    .with_data("resolved", Value::Array(tally.resolved_lines.clone()))
    .with_data(
        "totals",
        json!({"open": open, "new": tally.new, "reminded": tally.reminded, "resolved": tally.resolved,
               "omitted": (tally.new + tally.reminded + tally.resolved).saturating_sub(listed)}),
    )
    .with_link("Users", USERS_LINK)
}

/// Closes an earlier digest none of whose accounts is still reported by it (PagerDuty `resolve`).
pub fn digest_closed_alert(tenant: &TenantRef, earlier: &str, now: DateTime<Utc>) -> Alert {
    Alert::new(
        types::DORMANT_DIGEST,
        Severity::Medium,
        tenant.clone(),
        &format!("{earlier}#closed"),
        format!(
            "Earlier dormant-account digest for {} closed: its accounts are resolved or reported again",
            tenant.name
        ),
        now,
    )
    .resolving(earlier)
}

/// One `dormant.account` for a finding (per-finding delivery). `line` is `{subject, evidence}`.
pub fn account_alert(tenant: &TenantRef, key: &str, line: &Value, now: DateTime<Utc>) -> Alert {
    let evidence = &line["evidence"];
    let population = evidence["population"].as_str().unwrap_or("member");
    let who = name_of(&line["subject"]);
    let days = evidence["daysInactive"]
        .as_i64()
        .map_or("unknown".to_string(), |d| d.to_string());
    let severity = if population == "privileged" {
        Severity::High
    } else {
        Severity::Medium
    };
    let mut alert = Alert::new(
        types::DORMANT_ACCOUNT,
        severity,
        tenant.clone(),
        key,
        format!("Dormant {population} account {who}: {days} days inactive"),
        now,
    )
    .with_subject(line["subject"].clone())
    .with_link("Users", USERS_LINK);
    if let Some(map) = evidence.as_object() {
        for (k, v) in map {
            alert = alert.with_evidence(k, v.clone());
        }
    }
    alert
}

/// The `dormant.account` that resolves the finding's earlier alert.
pub fn resolved_alert(
    tenant: &TenantRef,
    key: &str,
    line: &Value,
    earlier: &str,
    now: DateTime<Utc>,
) -> Alert {
    Alert::new(
        types::DORMANT_ACCOUNT,
        Severity::Medium,
        tenant.clone(),
        key,
        format!("{} is no longer dormant", name_of(&line["subject"])),
        now,
    )
    .with_subject(line["subject"].clone())
    .with_evidence("resolution", line["evidence"]["resolution"].clone())
    .resolving(earlier)
}

fn name_of(subject: &Value) -> String {
    subject["userPrincipalName"]
        .as_str()
        .or_else(|| subject["id"].as_str())
        .unwrap_or("(unknown account)")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_huge_first_digest_lists_the_first_findings_and_counts_the_rest() {
        let mut tally = Tally::default();
        for i in 0..(MAX_DIGEST_ITEMS + 50) {
            tally.new += 1;
            *tally.open.entry("member".into()).or_default() += 1;
            tally.push_finding(json!({"subject": {"id": format!("u{i}")}}));
        }
        let tenant = TenantRef {
            id: "t".into(),
            name: "contoso".into(),
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let alert = digest_alert(&tenant, 7, &tally, now);
        assert_eq!(
            alert.extra["findings"].as_array().map(Vec::len),
            Some(MAX_DIGEST_ITEMS)
        );
        assert_eq!(
            alert.extra["totals"],
            json!({"open": 250, "new": 250, "reminded": 0, "resolved": 0, "omitted": 50})
        );
        assert_eq!(
            alert.extra["counts"],
            json!({"member": 250, "guest": 0, "privileged": 0})
        );
        assert_eq!(
            alert.title,
            "250 dormant accounts in contoso: 250 new, 0 reminders, 0 resolved"
        );
    }
}
