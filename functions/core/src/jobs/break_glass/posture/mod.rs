//! Emergency-account posture (issue 16): will each account work on the day it is needed? Three checks, hourly
//! and in the run whose audits show a Conditional Access policy added, updated or deleted:
//! - `ca_exclusion`: every enabled policy that reaches the account (all users, the account, a group it is a
//!   transitive member of, a role it holds) excludes it, or only requires phishing-resistant authentication;
//! - `phishing_resistant_method`: a passkey (FIDO2) or certificate is registered;
//! - `permanent_role`: Global Administrator is a standing, non-expiring assignment.
//!
//! One `break_glass.posture` alert per account, check and policy or role, kept as a finding and resolved (an
//! info alert that `resolves` it) when the check passes again. A check Graph would not let the job judge
//! (permission, licence) is a note naming what is missing and resolves nothing.

mod facts;
pub mod rules;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::super::{JobContext, JobError, JobReport};
use super::evidence::subject;
use super::{record, Accounts};
use crate::alert::{types, Alert, Severity};
use crate::graph::model::ConditionalAccessPolicy;
use crate::state::{Finding, FindingStatus};
use facts::Read;
use rules::{Reach, Verdict};

/// How often the checks run without a policy change (issue 16: hourly).
pub const EVERY: Duration = Duration::hours(1);
/// The findings' job name in the state store.
pub const FINDINGS: &str = "break-glass-posture";
/// Resolved findings are kept this long, then the store may drop them.
const RESOLVED_TTL_SECS: i64 = 90 * 86_400;
const CA_LINK: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess/ConditionalAccessBlade/~/Policies";
const METHODS_LINK: &str = "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserManagementMenuBlade/~/AllUsers";

/// Whether the checks are due: never run, an hour since, or a policy changed in this run's window.
pub fn due(checked_at: Option<DateTime<Utc>>, now: DateTime<Utc>, policy_changed: bool) -> bool {
    policy_changed || checked_at.is_none_or(|t| now - t >= EVERY)
}

/// One failing check: the finding's key and the alert that opens it.
struct Failing {
    key: String,
    alert: Alert,
}

/// What the checks found for every account: the failing ones, and which (account, check) pairs were judged (only
/// those may resolve a finding).
#[derive(Default)]
struct Outcome {
    failing: Vec<Failing>,
    judged: Vec<(String, &'static str)>,
}

pub(super) async fn check(
    ctx: &JobContext,
    accounts: &Accounts,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let mut outcome = Outcome::default();
    let policies = facts::policies(ctx).await?;
    if let Read::Refused(note) = &policies {
        report.notes.push(note.clone());
    }
    for id in accounts.ids() {
        let assignments = facts::assignments(ctx, id).await?;
        if let Read::Got(policies) = &policies {
            match facts::scope(ctx, id, &assignments).await? {
                Read::Got(scope) => {
                    outcome.judged.push((id.clone(), "ca_exclusion"));
                    for p in policies {
                        match rules::judge(p, &scope) {
                            Verdict::Passes => {}
                            Verdict::Applies(reach) => outcome.failing.push(ca_failing(ctx, id, p, &reach)),
                            Verdict::ReportOnly(reach) => report.notes.push(format!(
                                "report-only Conditional Access policy {} would apply to emergency account {id} ({}); listed, not alerted",
                                name(p),
                                reach.rule()
                            )),
                        }
                    }
                }
                Read::Refused(note) => report.notes.push(note),
            }
        }
        match facts::methods(ctx, id).await? {
            Read::Got(methods) => {
                outcome
                    .judged
                    .push((id.clone(), "phishing_resistant_method"));
                if !rules::has_phishing_resistant_method(&methods) {
                    let kinds: Vec<&str> = methods.iter().map(|m| m.kind()).collect();
                    outcome.failing.push(method_failing(ctx, id, &kinds));
                }
            }
            Read::Refused(note) => report.notes.push(note),
        }
        match facts::standing_roles(ctx, id, &assignments).await? {
            Read::Got(instances) => {
                outcome.judged.push((id.clone(), "permanent_role"));
                if !rules::permanent_global_admin(&instances) {
                    outcome.failing.push(role_failing(ctx, id, &instances));
                }
            }
            Read::Refused(note) => report.notes.push(note),
        }
    }
    settle(ctx, outcome, report).await
}

fn name(p: &ConditionalAccessPolicy) -> String {
    p.display_name.clone().unwrap_or_else(|| p.id.clone())
}

fn posture_alert(ctx: &JobContext, id: &str, check: &str, title: String) -> Alert {
    // The event key is fixed later, with the finding's first sighting (a fixed-then-broken-again check alerts
    // anew).
    Alert::new(
        types::BREAK_GLASS_POSTURE,
        Severity::High,
        ctx.tenant.clone(),
        "",
        title,
        ctx.now,
    )
    .with_subject(subject(id, None, None))
    .with_evidence("check", check)
}

fn ca_failing(ctx: &JobContext, id: &str, p: &ConditionalAccessPolicy, reach: &Reach) -> Failing {
    let alert = posture_alert(
        ctx,
        id,
        "ca_exclusion",
        format!(
            "Emergency account {id} is not excluded from Conditional Access policy {}",
            name(p)
        ),
    )
    .with_evidence("policyId", p.id.clone())
    .with_evidence("policyName", name(p))
    .with_evidence("rule", reach.rule())
    .with_evidence("policyState", p.state.clone().unwrap_or_default())
    .with_link("Conditional Access policies", CA_LINK);
    Failing {
        key: format!("{id}#ca_exclusion#{}", p.id.to_ascii_lowercase()),
        alert,
    }
}

fn method_failing(ctx: &JobContext, id: &str, kinds: &[&str]) -> Failing {
    let alert = posture_alert(
        ctx,
        id,
        "phishing_resistant_method",
        format!("Emergency account {id} has no passkey (FIDO2) or certificate registered"),
    )
    .with_evidence("methodsRegistered", json!(kinds))
    .with_evidence(
        "rule",
        "Microsoft: emergency accounts sign in with a passkey (FIDO2) or certificate-based authentication",
    )
    .with_link("Users", METHODS_LINK);
    Failing {
        key: format!("{id}#phishing_resistant_method#"),
        alert,
    }
}

fn role_failing(
    ctx: &JobContext,
    id: &str,
    instances: &[crate::graph::model::RoleAssignmentScheduleInstance],
) -> Failing {
    let ga: Vec<Value> = instances
        .iter()
        .filter(|i| {
            i.role_definition_id
                .eq_ignore_ascii_case(rules::GLOBAL_ADMINISTRATOR)
        })
        .map(|i| json!({"assignmentType": i.assignment_type, "endDateTime": i.end_date_time}))
        .collect();
    let alert = posture_alert(
        ctx,
        id,
        "permanent_role",
        format!("Emergency account {id} is not a permanent Global Administrator"),
    )
    .with_evidence("role", "Global Administrator")
    .with_evidence("roleTemplateId", rules::GLOBAL_ADMINISTRATOR)
    .with_evidence("activeAssignments", Value::Array(ga))
    .with_evidence(
        "rule",
        "Microsoft: emergency accounts are permanently assigned Global Administrator (active, not eligible)",
    );
    Failing {
        key: format!("{id}#permanent_role#{}", rules::GLOBAL_ADMINISTRATOR),
        alert,
    }
}

/// Opens a finding (and its alert) for each new failing check, resolves the open findings of judged checks that
/// now pass.
async fn settle(
    ctx: &JobContext,
    outcome: Outcome,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let store = ctx.stores.findings.as_ref();
    let tenant = ctx.tenant.id.as_str();
    let open: BTreeMap<String, Finding> = store
        .list_findings(tenant, FINDINGS)
        .await?
        .into_iter()
        .filter(|f| f.status == FindingStatus::Open)
        .map(|f| (f.key.clone(), f))
        .collect();
    let failing: BTreeMap<&str, &Failing> = outcome
        .failing
        .iter()
        .map(|f| (f.key.as_str(), f))
        .collect();
    for f in &outcome.failing {
        if open.contains_key(&f.key) {
            continue;
        }
        let first_seen = ctx.now_epoch();
        let alert = f.alert.clone().with_id_of(
            types::BREAK_GLASS_POSTURE,
            &format!("{}#{first_seen}", f.key),
        );
        record(ctx, &alert, report).await?;
        store
            .put_finding(&Finding {
                tenant: tenant.to_string(),
                job: FINDINGS.into(),
                key: f.key.clone(),
                status: FindingStatus::Open,
                first_seen,
                last_notified: Some(first_seen),
                resolved_at: None,
                data: json!({"alertId": alert.id, "title": alert.title, "subject": alert.subject,
                    "evidence": alert.evidence}),
                expires_at: None,
            })
            .await?;
    }
    for (key, finding) in open {
        let judged = outcome
            .judged
            .iter()
            .any(|(id, check)| key.starts_with(&format!("{id}#{check}#")));
        if judged && !failing.contains_key(key.as_str()) {
            resolve(ctx, finding, report).await?;
        }
    }
    Ok(())
}

async fn resolve(
    ctx: &JobContext,
    mut finding: Finding,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let earlier = finding.data["alertId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let title = finding.data["title"]
        .as_str()
        .unwrap_or("Emergency account posture")
        .to_string();
    let mut alert = Alert::new(
        types::BREAK_GLASS_POSTURE,
        Severity::Info,
        ctx.tenant.clone(),
        &format!("{}#{}#resolved", finding.key, finding.first_seen),
        format!("Fixed: {title}"),
        ctx.now,
    )
    .with_subject(finding.data["subject"].clone())
    .with_evidence("resolution", "fixed");
    if let Value::Object(evidence) = finding.data["evidence"].clone() {
        for (k, v) in evidence {
            if k != "resolution" {
                alert = alert.with_evidence(&k, v);
            }
        }
    }
    if !earlier.is_empty() {
        alert = alert.resolving(earlier);
    }
    record(ctx, &alert, report).await?;
    finding.status = FindingStatus::Resolved;
    finding.resolved_at = Some(ctx.now_epoch());
    finding.expires_at = Some(ctx.now_epoch() + RESOLVED_TTL_SECS);
    ctx.stores.findings.put_finding(&finding).await?;
    Ok(())
}
