//! `dormant.reactivated` (SPEC.md): an account with an open dormant finding that signs in successfully or has
//! security info registered or changed is alerted at once, on the frequent schedule, not at the next daily scan.
//! The attack this catches: a forgotten account signed into with a guessed password, given a new MFA method, which
//! then satisfies every later MFA prompt (the Sentinel hunting query `DormantUserUpdateMFAandLogsIn`).
//!
//! Each run reads the tenant's successful sign-ins and security-info audits since the last look (with an overlap:
//! rows arrive late, REFERENCE.md §2), page by page within the shared budget, and matches them against the open
//! findings. One alert per finding episode; the finding is then resolved as `reactivated`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::findings::JOB;
use crate::alert::{types, Alert, Severity};
use crate::graph::model::{DirectoryAudit, SignIn};
use crate::graph::{AuditSource, GraphError, TimeWindow};
use crate::jobs::break_glass::evidence::{audit_log_link, sign_in_evidence, sign_in_log_link};
use crate::jobs::{JobContext, JobError};
use crate::state::{Finding, FindingStatus, Recorded};

pub const CURSOR: &str = "dormant-reactivation";
/// The overlap re-read each run (REFERENCE.md §2: rows may arrive minutes to hours late).
pub const OVERLAP_MINUTES: i64 = 60;
/// The first look reads this far back.
pub const FIRST_LOOK_HOURS: i64 = 24;
pub const RESOLVED_REACTIVATED: &str = "reactivated";

/// Security-info activities that give an account a way in (REFERENCE.md §13), compared case-insensitively.
/// Deletions are not listed: removing a method does not bring an account back.
pub const SECURITY_INFO_ACTIVITIES: [&str; 8] = [
    "User registered security info",
    "Admin registered security info",
    "User changed default security info",
    "User updated security info",
    "Admin updated security info",
    "Add FIDO2 security key",
    "Add Windows Hello for Business credential",
    "Add platform credential",
];
/// Where those audits are logged: Authentication Methods (security info) and the Device Registration Service
/// (FIDO2 and Windows Hello keys).
const SOURCES: [AuditSource; 2] = [
    AuditSource::LoggedByService("Authentication Methods"),
    AuditSource::LoggedByService("Device Registration Service"),
];

/// Up to this many findings are read into memory each run; a tenant with more (a large tenant's first scans) is
/// matched by looking up the finding of each account that signs in instead: bounded by the sign-ins, not by the
/// findings, so a tenant with 200,000 dormant accounts does not read them all every five minutes.
pub const FINDINGS_IN_MEMORY: usize = 2_000;

/// The open findings a run matches against.
enum OpenFindings {
    All(HashMap<String, Finding>),
    /// Looked up per account, each at most once a run.
    Lookup(HashMap<String, Option<Finding>>),
}

impl OpenFindings {
    async fn read(ctx: &JobContext) -> Result<(OpenFindings, usize), JobError> {
        let listed = ctx
            .stores
            .findings
            .list_findings_after(&ctx.tenant.id, JOB, None, FINDINGS_IN_MEMORY + 1)
            .await?;
        if listed.len() > FINDINGS_IN_MEMORY {
            return Ok((OpenFindings::Lookup(HashMap::new()), listed.len()));
        }
        let open: HashMap<String, Finding> = listed
            .into_iter()
            .filter(|f| f.status == FindingStatus::Open)
            .map(|f| (f.key.to_ascii_lowercase(), f))
            .collect();
        let n = open.len();
        Ok((OpenFindings::All(open), n))
    }

    fn is_empty(&self) -> bool {
        matches!(self, OpenFindings::All(m) if m.is_empty())
    }

    async fn get(&mut self, ctx: &JobContext, user: &str) -> Result<Option<Finding>, JobError> {
        match self {
            OpenFindings::All(m) => Ok(m.get(user).cloned()),
            OpenFindings::Lookup(cache) => {
                if let Some(known) = cache.get(user) {
                    return Ok(known.clone());
                }
                let found = ctx
                    .stores
                    .findings
                    .get_finding(&ctx.tenant.id, JOB, user)
                    .await?
                    .filter(|f| f.status == FindingStatus::Open);
                cache.insert(user.to_string(), found.clone());
                Ok(found)
            }
        }
    }

    fn remove(&mut self, user: &str) {
        match self {
            OpenFindings::All(m) => {
                m.remove(user);
            }
            OpenFindings::Lookup(cache) => {
                cache.insert(user.to_string(), None);
            }
        }
    }
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WatchState {
    to: Option<i64>,
    /// Sign-in and audit ids that already reactivated a finding: the overlap (or a finding a later scan opens
    /// again from lagging `signInActivity`) never makes them count twice.
    #[serde(default)]
    used: BTreeMap<String, i64>,
}

/// What one watch did.
#[derive(Debug, Default, PartialEq)]
pub struct ReactivationOutcome {
    /// Open findings matched against; above [`FINDINGS_IN_MEMORY`], the findings listed (each account that signs in
    /// is then looked up).
    pub open_findings: usize,
    pub examined: usize,
    pub alerts: usize,
    pub requests: u64,
    pub notes: Vec<String>,
}

/// One watch run for the tenant of `ctx`.
pub async fn watch(ctx: &JobContext) -> Result<ReactivationOutcome, JobError> {
    let tenant = ctx.tenant.id.as_str();
    let cursors = ctx.stores.cursors.as_ref();
    let mut state: WatchState = cursors
        .get_cursor(tenant, CURSOR)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let mut outcome = ReactivationOutcome::default();
    let (mut open, count) = OpenFindings::read(ctx).await?;
    outcome.open_findings = count;
    let from = match state.to {
        Some(to) => ctx.now_epoch().min(to) - OVERLAP_MINUTES * 60,
        None => (ctx.now - Duration::hours(FIRST_LOOK_HOURS)).timestamp(),
    };
    let window = TimeWindow {
        from: DateTime::from_timestamp(from, 0).unwrap_or(ctx.now),
        to: ctx.now,
    };
    // Nothing dormant, nothing to match: no request at all.
    if !open.is_empty() {
        read_sign_ins(ctx, &window, &mut open, &mut state, &mut outcome).await?;
        for source in SOURCES {
            read_audits(ctx, source, &window, &mut open, &mut state, &mut outcome).await?;
        }
    }
    let keep_after = ctx.now_epoch() - (FIRST_LOOK_HOURS * 3600 + OVERLAP_MINUTES * 120);
    state.used.retain(|_, at| *at >= keep_after);
    state.to = Some(ctx.now_epoch());
    let value = serde_json::to_value(&state).unwrap_or_default();
    cursors.put_cursor(tenant, CURSOR, &value).await?;
    Ok(outcome)
}

/// The finding's last known activity: a sign-in at or before it is what the scan already counted.
fn last_activity(f: &Finding) -> Option<DateTime<Utc>> {
    f.data["evidence"]["lastActivity"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

async fn read_sign_ins(
    ctx: &JobContext,
    window: &TimeWindow,
    open: &mut OpenFindings,
    state: &mut WatchState,
    outcome: &mut ReactivationOutcome,
) -> Result<(), JobError> {
    let mut link: Option<String> = None;
    loop {
        outcome.requests += 1;
        let page = match ctx
            .graph
            .list_successful_sign_ins(window, link.as_deref())
            .await
        {
            Ok(page) => page,
            Err(GraphError::LicenceRequired { needs, .. }) => {
                outcome.notes.push(format!(
                    "sign-ins of dormant accounts not watched: the sign-in log needs {needs} (the daily scan still resolves them)"
                ));
                return Ok(());
            }
            Err(GraphError::PermissionMissing { permission, .. }) => {
                outcome.notes.push(format!(
                    "sign-ins of dormant accounts not watched: the app lacks {permission}"
                ));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        for s in &page.items {
            outcome.examined += 1;
            if !s.status.succeeded() || state.used.contains_key(&s.id) {
                continue;
            }
            let user = s.user_id.to_ascii_lowercase();
            let Some(f) = open.get(ctx, &user).await? else {
                continue;
            };
            if last_activity(&f).is_some_and(|t| s.created_date_time <= t) {
                continue;
            }
            let alert = sign_in_alert(ctx, &f, s);
            reactivate(ctx, open, f, alert, &s.id, state, outcome).await?;
        }
        match page.next_link {
            Some(next) => link = Some(next),
            None => return Ok(()),
        }
    }
}

async fn read_audits(
    ctx: &JobContext,
    source: AuditSource,
    window: &TimeWindow,
    open: &mut OpenFindings,
    state: &mut WatchState,
    outcome: &mut ReactivationOutcome,
) -> Result<(), JobError> {
    let mut link: Option<String> = None;
    loop {
        outcome.requests += 1;
        let page = match ctx
            .graph
            .list_audits_from(source, window, link.as_deref())
            .await
        {
            Ok(page) => page,
            Err(GraphError::PermissionMissing { permission, .. }) => {
                outcome.notes.push(format!(
                    "security info registered by dormant accounts not watched: the app lacks {permission}"
                ));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        for a in &page.items {
            outcome.examined += 1;
            let registers = SECURITY_INFO_ACTIVITIES
                .iter()
                .any(|n| n.eq_ignore_ascii_case(a.activity_display_name.trim()));
            let failed = a
                .result
                .as_deref()
                .is_some_and(|r| !r.eq_ignore_ascii_case("success"));
            if !registers || failed || state.used.contains_key(&a.id) {
                continue;
            }
            let users: Vec<String> = a
                .target_resources
                .iter()
                .filter(|t| {
                    t.resource_type
                        .as_deref()
                        .is_none_or(|k| k.eq_ignore_ascii_case("User"))
                })
                .filter_map(|t| t.id.as_ref().map(|i| i.to_ascii_lowercase()))
                .collect();
            for user in users {
                let Some(f) = open.get(ctx, &user).await? else {
                    continue;
                };
                let alert = audit_alert(ctx, &f, a);
                reactivate(ctx, open, f, alert, &a.id, state, outcome).await?;
            }
        }
        match page.next_link {
            Some(next) => link = Some(next),
            None => return Ok(()),
        }
    }
}

/// Records the alert, then resolves the finding as reactivated (in that order: a run that stops in between
/// alerts again rather than never).
async fn reactivate(
    ctx: &JobContext,
    open: &mut OpenFindings,
    mut finding: Finding,
    alert: Alert,
    event_id: &str,
    state: &mut WatchState,
    outcome: &mut ReactivationOutcome,
) -> Result<(), JobError> {
    open.remove(&finding.key.to_ascii_lowercase());
    if ctx.outbox.record(&alert, ctx.now_epoch()).await? == Recorded::New {
        outcome.alerts += 1;
    }
    state.used.insert(event_id.to_string(), ctx.now_epoch());
    finding.status = FindingStatus::Resolved;
    finding.resolved_at = Some(ctx.now_epoch());
    finding.expires_at = Some(ctx.now_epoch() + super::findings::RESOLVED_TTL_SECS);
    finding.data["resolution"] = json!(RESOLVED_REACTIVATED);
    finding.data["reactivatedBy"] = json!(event_id);
    ctx.stores.findings.put_finding(&finding).await?;
    Ok(())
}

fn base_alert(ctx: &JobContext, f: &Finding, title: String, trigger: &str) -> Alert {
    let subject = f.data["subject"].clone();
    let mut alert = Alert::new(
        types::DORMANT_REACTIVATED,
        Severity::High,
        ctx.tenant.clone(),
        // One alert per finding episode, whatever brought it back first.
        &format!("{}#{}", f.key.to_ascii_lowercase(), f.first_seen),
        title,
        ctx.now,
    )
    .with_subject(subject)
    .with_evidence("trigger", trigger);
    for k in ["population", "lastActivity", "daysInactive"] {
        alert = alert.with_evidence(k, f.data["evidence"][k].clone());
    }
    alert.with_evidence(
        "dormantSince",
        DateTime::from_timestamp(f.first_seen, 0)
            .map(|t| Value::from(t.to_rfc3339_opts(SecondsFormat::Secs, true)))
            .unwrap_or(Value::Null),
    )
}

fn who(f: &Finding) -> String {
    f.data["subject"]["userPrincipalName"]
        .as_str()
        .unwrap_or(&f.key)
        .to_string()
}

fn sign_in_alert(ctx: &JobContext, f: &Finding, s: &SignIn) -> Alert {
    let mut alert = base_alert(
        ctx,
        f,
        format!("Dormant account {} signed in", who(f)),
        "sign_in",
    );
    for (k, v) in sign_in_evidence(s, true) {
        alert = alert.with_evidence(&k, v);
    }
    alert.with_link("Sign-in log", sign_in_log_link(&f.key))
}

fn audit_alert(ctx: &JobContext, f: &Finding, a: &DirectoryAudit) -> Alert {
    let by = a.initiated_by.as_ref().and_then(|i| {
        i.user
            .as_ref()
            .and_then(|u| u.user_principal_name.clone())
            .or_else(|| i.app.as_ref().and_then(|p| p.display_name.clone()))
    });
    base_alert(
        ctx,
        f,
        format!("Dormant account {} had security info registered", who(f)),
        "security_info",
    )
    .with_evidence("auditId", a.id.clone())
    .with_evidence("activity", a.activity_display_name.clone())
    .with_evidence(
        "activityDateTime",
        a.activity_date_time
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    )
    .with_evidence("initiatedBy", by)
    .with_link("Audit log", audit_log_link(&f.key))
}
