//! Secrets and certificates that expire soon or have expired (SPEC.md `workload.credential_expiring`,
//! `workload.credential_expired`): one finding per credential (key = owner object id + keyId, both immutable),
//! one alert per stage it reaches, resolved (PagerDuty `resolve`) when the credential is removed or replaced.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::inventory::{Credential, CredentialType, Inventory, Workload};
use crate::alert::{types, Alert, Severity};
use crate::config::{WorkloadsConfig, SECOND_EXPIRY_WARNING_DAYS};
use crate::graph::{GraphError, GraphPort};
use crate::jobs::{JobContext, JobError};
use crate::state::{Finding, FindingStatus};

/// The findings' job name in the state store.
pub const FINDINGS: &str = "workload-credential";
/// Resolved credential findings are kept this long, then the store may drop them.
const RESOLVED_TTL_SECS: i64 = 90 * 24 * 3600;
const APP_LINK: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationsListBlade";

/// How close to its end a credential is. Ordered: a credential only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Within `credential_expiry_days` (medium).
    Expiring,
    /// Within 7 days (high).
    ExpiringSoon,
    Expired,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Expiring => "expiring",
            Stage::ExpiringSoon => "expiring-soon",
            Stage::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Option<Stage> {
        [Stage::Expiring, Stage::ExpiringSoon, Stage::Expired]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The stage of a credential ending at `end`, `None` while it is further off than `expiry_days`.
    pub fn at(end: DateTime<Utc>, now: DateTime<Utc>, expiry_days: u32) -> Option<Stage> {
        if end <= now {
            Some(Stage::Expired)
        } else if end - now <= Duration::days(i64::from(SECOND_EXPIRY_WARNING_DAYS)) {
            Some(Stage::ExpiringSoon)
        } else if end - now <= Duration::days(i64::from(expiry_days)) {
            Some(Stage::Expiring)
        } else {
            None
        }
    }
}

/// Whole days from `now` to `end`, rounded down (negative once expired).
fn days_left(end: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (end - now).num_seconds().div_euclid(86_400)
}

/// What the expiry check did, for the run line.
#[derive(Debug, Default, PartialEq)]
pub struct ExpiryOutcome {
    pub alerts: usize,
    pub resolved: usize,
    pub checked: usize,
    pub notes: Vec<String>,
}

/// When each credential (keyId) last signed in, from beta `appCredentialSignInActivities`.
pub async fn read_use(
    graph: &dyn GraphPort,
    notes: &mut Vec<String>,
) -> Result<Option<HashMap<String, DateTime<Utc>>>, GraphError> {
    let mut used = HashMap::new();
    let mut link: Option<String> = None;
    loop {
        let page = match graph
            .list_app_credential_sign_in_activities(link.as_deref())
            .await
        {
            Ok(page) => page,
            Err(GraphError::LicenceRequired { needs, .. }) => {
                notes.push(format!(
                    "whether expired credentials are still used is unknown: the credential activity report needs {needs}"
                ));
                return Ok(None);
            }
            Err(GraphError::PermissionMissing { permission, .. }) => {
                notes.push(format!(
                    "whether expired credentials are still used is unknown: the app lacks {permission}"
                ));
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        for row in page.items {
            if let Some(at) = row.sign_in_activity.and_then(|a| a.last_sign_in_date_time) {
                let key = row.key_id.to_ascii_lowercase();
                let newest = used
                    .get(&key)
                    .map_or(at, |seen: &DateTime<Utc>| at.max(*seen));
                used.insert(key, newest);
            }
        }
        match page.next_link {
            Some(next) => link = Some(next),
            None => return Ok(Some(used)),
        }
    }
}

/// Whether the job leaves `w` alone: Microsoft's own apps and `exclude_apps`.
pub fn excluded(w: &Workload, config: &WorkloadsConfig) -> bool {
    w.first_party
        || config
            .exclude_apps
            .iter()
            .any(|a| a.eq_ignore_ascii_case(&w.app_id))
}

/// Alerts every credential that reached a new stage and resolves those removed or replaced.
pub async fn check(
    ctx: &JobContext,
    config: &WorkloadsConfig,
    inventory: &Inventory,
) -> Result<ExpiryOutcome, JobError> {
    let mut outcome = ExpiryOutcome::default();
    let now = ctx.now;
    let any_expired = inventory.workloads.iter().any(|w| {
        !excluded(w, config)
            && w.credentials
                .iter()
                .any(|c| c.end.is_some_and(|e| e <= now))
    });
    let used = if any_expired {
        read_use(ctx.graph.as_ref(), &mut outcome.notes).await?
    } else {
        Some(HashMap::new())
    };
    let store = ctx.stores.findings.as_ref();
    let tenant = ctx.tenant.id.as_str();
    let mut present: HashSet<String> = HashSet::new();
    for w in &inventory.workloads {
        for c in &w.credentials {
            present.insert(finding_key(w, c));
        }
        if excluded(w, config) {
            continue;
        }
        for c in &w.credentials {
            let Some(end) = c.end else { continue };
            outcome.checked += 1;
            let key = finding_key(w, c);
            let existing = store.get_finding(tenant, FINDINGS, &key).await?;
            let replacement = replacement(w, c, now, config.credential_expiry_days);
            let Some(stage) = Stage::at(end, now, config.credential_expiry_days) else {
                continue;
            };
            let open = existing.filter(|f| f.status == FindingStatus::Open);
            if let Some(by) = replacement {
                if let Some(finding) = open {
                    resolve(
                        ctx,
                        finding,
                        &format!(
                            "replaced by credential {} valid until {}",
                            by.key_id,
                            date(by.end)
                        ),
                        &mut outcome,
                    )
                    .await?;
                }
                continue;
            }
            let reached = open
                .as_ref()
                .and_then(|f| f.data["stage"].as_str().and_then(Stage::parse));
            let last_use = used.as_ref().and_then(|u| u.get(&c.key_id)).copied();
            let used_after = last_use.filter(|at| *at > end);
            let mut data = open.as_ref().map_or_else(|| json!({}), |f| f.data.clone());
            let mut alert = None;
            if reached.is_none_or(|r| r < stage) {
                alert = Some(stage_alert(ctx, w, c, stage, used.is_some(), used_after));
                data["stage"] = json!(stage.as_str());
                data["usedAfterExpiry"] = json!(used_after.is_some());
            } else if stage == Stage::Expired
                && used_after.is_some()
                && data["usedAfterExpiry"] != json!(true)
            {
                // Alerted low when it expired; it has been used since: the workload is failing now.
                alert = Some(stage_alert(ctx, w, c, stage, true, used_after));
                data["usedAfterExpiry"] = json!(true);
            }
            let Some(alert) = alert else { continue };
            ctx.outbox.record(&alert, ctx.now_epoch()).await?;
            outcome.alerts += 1;
            data["alertId"] = json!(alert.id);
            data["alertType"] = json!(alert.kind);
            data["subject"] = w.subject();
            data["credential"] = credential_evidence(c, now);
            let finding = match open {
                Some(f) => Finding { data, ..f },
                None => Finding {
                    tenant: tenant.to_string(),
                    job: FINDINGS.to_string(),
                    key,
                    status: FindingStatus::Open,
                    first_seen: ctx.now_epoch(),
                    last_notified: Some(ctx.now_epoch()),
                    resolved_at: None,
                    data,
                    expires_at: None,
                },
            };
            store.put_finding(&finding).await?;
        }
    }
    // Removed: an open finding whose credential the complete listing no longer has. Nothing is resolved when a
    // record could not be read (it may be that one).
    if inventory.unreadable.is_empty() {
        for finding in store.list_findings(tenant, FINDINGS).await? {
            if finding.status == FindingStatus::Open && !present.contains(&finding.key) {
                resolve(ctx, finding, "removed", &mut outcome).await?;
            }
        }
    }
    Ok(outcome)
}

fn finding_key(w: &Workload, c: &Credential) -> String {
    format!("{}#{}", w.id, c.key_id)
}

/// Another credential of the same kind on the same object that stays valid past the warning period: the
/// expiring one has been rotated.
fn replacement<'a>(
    w: &'a Workload,
    c: &Credential,
    now: DateTime<Utc>,
    expiry_days: u32,
) -> Option<&'a Credential> {
    let horizon = now + Duration::days(i64::from(expiry_days));
    w.credentials.iter().find(|other| {
        other.key_id != c.key_id
            && other.kind == c.kind
            && other
                .end
                .is_some_and(|e| e > horizon && c.end.is_some_and(|ce| e > ce))
    })
}

fn date(at: Option<DateTime<Utc>>) -> String {
    at.map_or("(no end date)".into(), |t| {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    })
}

/// SPEC.md: `evidence.{keyId, credentialType, endDateTime, daysLeft}`, plus the credential's display name and a
/// secret's `hint` (its first three characters, which the portal shows too; never more).
fn credential_evidence(c: &Credential, now: DateTime<Utc>) -> Value {
    json!({
        "keyId": c.key_id,
        "credentialType": c.kind.as_str(),
        "endDateTime": c.end.map(|e| e.to_rfc3339_opts(SecondsFormat::Secs, true)),
        "daysLeft": c.end.map(|e| days_left(e, now)),
        "credentialName": c.display_name,
        "hint": c.hint,
    })
}

fn what(c: &Credential) -> &'static str {
    match c.kind {
        CredentialType::Password => "Secret",
        CredentialType::Certificate => "Certificate",
    }
}

fn stage_alert(
    ctx: &JobContext,
    w: &Workload,
    c: &Credential,
    stage: Stage,
    use_known: bool,
    used_after: Option<DateTime<Utc>>,
) -> Alert {
    let end = c.end.unwrap_or(ctx.now);
    let days = days_left(end, ctx.now);
    let (kind, severity, title) = match stage {
        Stage::Expiring => (
            types::WORKLOAD_CREDENTIAL_EXPIRING,
            Severity::Medium,
            format!("{} of {} expires in {days} days", what(c), w.name()),
        ),
        Stage::ExpiringSoon => (
            types::WORKLOAD_CREDENTIAL_EXPIRING,
            Severity::High,
            format!("{} of {} expires in {days} days", what(c), w.name()),
        ),
        Stage::Expired if used_after.is_some() => (
            types::WORKLOAD_CREDENTIAL_EXPIRED,
            Severity::High,
            format!(
                "{} of {} expired and is still being used",
                what(c),
                w.name()
            ),
        ),
        Stage::Expired => (
            types::WORKLOAD_CREDENTIAL_EXPIRED,
            Severity::Low,
            format!("{} of {} has expired", what(c), w.name()),
        ),
    };
    let event = if stage == Stage::Expired && used_after.is_some() {
        format!("{}#{}#used-after-expiry", w.id, c.key_id)
    } else {
        format!("{}#{}#{}", w.id, c.key_id, stage.as_str())
    };
    let mut alert = Alert::new(kind, severity, ctx.tenant.clone(), &event, title, ctx.now)
        .with_subject(w.subject())
        .with_link("App registrations", APP_LINK);
    if let Value::Object(evidence) = credential_evidence(c, ctx.now) {
        for (k, v) in evidence {
            alert = alert.with_evidence(&k, v);
        }
    }
    if stage == Stage::Expired {
        let used = match (use_known, used_after) {
            (_, Some(at)) => json!(at.to_rfc3339_opts(SecondsFormat::Secs, true)),
            (true, None) => json!("not since expiry"),
            (false, None) => json!("unknown"),
        };
        alert = alert.with_evidence("usedAfterExpiry", used);
    }
    alert
}

async fn resolve(
    ctx: &JobContext,
    mut finding: Finding,
    why: &str,
    outcome: &mut ExpiryOutcome,
) -> Result<(), JobError> {
    let earlier = finding.data["alertId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = finding.data["alertType"]
        .as_str()
        .unwrap_or(types::WORKLOAD_CREDENTIAL_EXPIRING)
        .to_string();
    let subject = finding.data["subject"].clone();
    let name = subject["displayName"]
        .as_str()
        .or_else(|| subject["appId"].as_str())
        .unwrap_or("(unknown app)")
        .to_string();
    let mut alert = Alert::new(
        &kind,
        Severity::Info,
        ctx.tenant.clone(),
        &format!("{}#resolved", finding.key),
        format!("Credential of {name} {why}: resolved"),
        ctx.now,
    )
    .with_subject(subject)
    .with_evidence("resolution", why);
    if let Value::Object(evidence) = finding.data["credential"].clone() {
        for (k, v) in evidence {
            alert = alert.with_evidence(&k, v);
        }
    }
    if !earlier.is_empty() {
        alert = alert.resolving(earlier);
    }
    ctx.outbox.record(&alert, ctx.now_epoch()).await?;
    finding.status = FindingStatus::Resolved;
    finding.resolved_at = Some(ctx.now_epoch());
    finding.expires_at = Some(ctx.now_epoch() + RESOLVED_TTL_SECS);
    finding.data["resolution"] = json!(why);
    ctx.stores.findings.put_finding(&finding).await?;
    outcome.resolved += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_credential_moves_through_the_stages_at_the_thresholds() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let at = |days: i64| Stage::at(now + Duration::days(days), now, 30);
        assert_eq!(at(40), None);
        assert_eq!(at(31), None);
        assert_eq!(at(30), Some(Stage::Expiring));
        assert_eq!(at(20), Some(Stage::Expiring));
        assert_eq!(at(7), Some(Stage::ExpiringSoon));
        assert_eq!(at(5), Some(Stage::ExpiringSoon));
        assert_eq!(at(0), Some(Stage::Expired));
        assert_eq!(at(-3), Some(Stage::Expired));
        assert_eq!(days_left(now + Duration::hours(36), now), 1);
        assert_eq!(days_left(now - Duration::hours(1), now), -1);
    }
}
