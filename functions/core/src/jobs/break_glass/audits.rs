//! Changes made to the emergency accounts: directory audits that target one of them
//! (REFERENCE.md §2; Microsoft: "send a high-priority alert every time an emergency access account
//! is used or changed").

use crate::alert::{types, Alert, Severity};
use crate::graph::model::DirectoryAudit;
use crate::graph::{AuditQuery, GraphError, TimeWindow};

use super::super::{JobContext, JobError, JobReport};
use super::evidence::{audit_log_link, subject};
use super::state::RunState;
use super::{record, unreadable, Accounts};

/// Activities named in REFERENCE.md §2 as worth alerting on. Since issue 14 every audit that targets an emergency
/// account is alerted (Microsoft's operations guide: "send a high-priority alert every time an emergency access
/// account is used or changed"); this list only says, in the evidence (`knownActivity`), whether the name is one
/// of these (compared without regard to case, as REFERENCE.md §13 advises: Microsoft adds and renames them).
pub const ALERTED_ACTIVITIES: &[&str] = &[
    "Reset password",
    "Change user password",
    "Reset password (by admin)",
    "User registered security info",
    "User updated security info",
    "User deleted security info",
    "Admin registered security info",
    "Admin deleted security info",
    "Add member to role",
    "Remove member from role",
    "Add eligible member to role",
    "Remove eligible member from role",
    "Update user",
    "Disable account",
    "Enable account",
    "Delete user",
    "Add member to group",
    "Remove member from group",
];

/// Activities targeting an emergency account that are not alerted: none. Every directory audit row about the
/// account records a change or an attempted one; even bookkeeping rows such as "Update StsRefreshTokenValidFrom
/// Timestamp" mean the account's sessions were revoked. A name is added here only with a source saying the row
/// changes nothing; the test `known_noise_is_pinned` holds the list.
pub const KNOWN_NOISE: &[&str] = &[];

/// Whether `activity` is one of `list`, without regard to case.
pub fn listed(list: &[&str], activity: &str) -> bool {
    list.iter().any(|a| a.eq_ignore_ascii_case(activity.trim()))
}

/// Targets per `$filter` (one `targetResources/any(...)` each, joined with `or`); a 400 falls back
/// to one target per request for good, as for sign-ins.
pub(super) const TARGETS_PER_FILTER: usize = 10;

/// The logging service of Conditional Access policy changes and their activities (REFERENCE.md §12; Entra docs
/// `reference-audit-activities.md`): the posture checks run again in the run that reads one.
pub(super) const POLICY_SERVICE: &str = "Conditional Access";
pub(super) const POLICY_ACTIVITIES: &[&str] = &[
    "Add Conditional Access policy",
    "Update Conditional Access policy",
    "Delete Conditional Access policy",
];

/// Reads the window's audits of the accounts and, when `policies`, the Conditional Access policy changes (in
/// the first accounts request while Graph accepts the mix). Returns whether a policy changed.
pub(super) async fn scan(
    ctx: &JobContext,
    accounts: &Accounts,
    window: TimeWindow,
    policies: bool,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<bool, JobError> {
    let per_request = if state.one_target_per_audit_filter {
        1
    } else {
        TARGETS_PER_FILTER
    };
    let mut changed = false;
    for (i, chunk) in accounts.ids().chunks(per_request).enumerate() {
        let also = (i == 0 && policies && !state.separate_policy_audits).then_some(POLICY_SERVICE);
        let query = AuditQuery {
            also_logged_by: also,
            target_ids: chunk.to_vec(),
            window,
        };
        match read(ctx, accounts, &query, report, &mut changed).await {
            Err(JobError::Graph(GraphError::Api { status: 400, .. })) if also.is_some() => {
                state.separate_policy_audits = true;
                report.notes.push(
                    "Graph refused the Conditional Access audits in the accounts' audit filter; reading them in a request of their own"
                        .into(),
                );
                read_chunk(ctx, accounts, chunk, window, state, report, &mut changed).await?;
            }
            Err(JobError::Graph(GraphError::Api { status: 400, .. })) if chunk.len() > 1 => {
                split(ctx, accounts, chunk, window, state, report, &mut changed).await?;
            }
            other => other?,
        }
    }
    if policies && state.separate_policy_audits {
        changed |= policy_changes(ctx, window, report).await?;
    }
    Ok(changed)
}

/// The accounts of `chunk` in one request, or one a request if Graph refuses several.
async fn read_chunk(
    ctx: &JobContext,
    accounts: &Accounts,
    chunk: &[String],
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
    changed: &mut bool,
) -> Result<(), JobError> {
    let query = AuditQuery {
        also_logged_by: None,
        target_ids: chunk.to_vec(),
        window,
    };
    match read(ctx, accounts, &query, report, changed).await {
        Err(JobError::Graph(GraphError::Api { status: 400, .. })) if chunk.len() > 1 => {
            split(ctx, accounts, chunk, window, state, report, changed).await
        }
        other => other,
    }
}

async fn split(
    ctx: &JobContext,
    accounts: &Accounts,
    chunk: &[String],
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
    changed: &mut bool,
) -> Result<(), JobError> {
    state.one_target_per_audit_filter = true;
    report.notes.push(
        "Graph refused several accounts in one audit filter; reading one account per request"
            .into(),
    );
    for id in chunk {
        let single = AuditQuery {
            also_logged_by: None,
            target_ids: vec![id.clone()],
            window,
        };
        read(ctx, accounts, &single, report, changed).await?;
    }
    Ok(())
}

/// The Conditional Access audits of the window in a request of their own.
pub(super) async fn policy_changes(
    ctx: &JobContext,
    window: TimeWindow,
    report: &mut JobReport,
) -> Result<bool, JobError> {
    let source = crate::graph::AuditSource::LoggedByService(POLICY_SERVICE);
    let mut next: Option<String> = None;
    let mut changed = false;
    loop {
        let page = ctx
            .graph
            .list_audits_from(source, &window, next.as_deref())
            .await?;
        report.examined += page.items.len();
        changed |= page.items.iter().any(is_policy_change);
        match page.next_link {
            Some(link) => next = Some(link),
            None => return Ok(changed),
        }
    }
}

fn is_policy_change(a: &DirectoryAudit) -> bool {
    a.logged_by_service
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case(POLICY_SERVICE))
        && listed(POLICY_ACTIVITIES, &a.activity_display_name)
}

async fn read(
    ctx: &JobContext,
    accounts: &Accounts,
    query: &AuditQuery,
    report: &mut JobReport,
    changed: &mut bool,
) -> Result<(), JobError> {
    let mut next: Option<String> = None;
    loop {
        let page = ctx
            .graph
            .list_directory_audits(query, next.as_deref())
            .await?;
        for bad in &page.malformed {
            report.examined += 1;
            report.unreadable += 1;
            if let Some(alert) = unreadable::audit(ctx, accounts, bad) {
                record(ctx, &alert, report).await?;
            }
        }
        for audit in &page.items {
            report.examined += 1;
            if is_policy_change(audit) {
                *changed = true;
            }
            if listed(KNOWN_NOISE, &audit.activity_display_name) {
                continue;
            }
            if let Some(alert) = alert(ctx, accounts, audit) {
                record(ctx, &alert, report).await?;
            }
        }
        match page.next_link {
            Some(link) => next = Some(link),
            None => return Ok(()),
        }
    }
}

/// `break_glass.account_changed` (high) for the first emergency account among the audit's
/// targets; `None` if none is (Graph returned an audit not asked for).
pub(super) fn alert(ctx: &JobContext, accounts: &Accounts, a: &DirectoryAudit) -> Option<Alert> {
    let target = a
        .target_resources
        .iter()
        .find(|t| t.id.as_deref().is_some_and(|id| accounts.get(id).is_some()))?;
    let id = target.id.clone().unwrap_or_default();
    let who = target
        .user_principal_name
        .as_deref()
        .or(target.display_name.as_deref())
        .unwrap_or(&id);
    let initiator = a.initiated_by.as_ref();
    let by_user = initiator.and_then(|i| i.user.as_ref());
    let by_app = initiator.and_then(|i| i.app.as_ref());
    let initiated_by = by_user
        .and_then(|u| u.user_principal_name.clone().or(u.display_name.clone()))
        .or_else(|| by_app.and_then(|a| a.display_name.clone().or(a.app_id.clone())));
    let modified: Vec<&str> = target
        .modified_properties
        .iter()
        .filter_map(|p| p.display_name.as_deref())
        .collect();
    let alert = Alert::new(
        types::BREAK_GLASS_ACCOUNT_CHANGED,
        Severity::High,
        ctx.tenant.clone(),
        &a.id,
        format!(
            "Emergency account {who} changed: {}{}",
            if a.activity_display_name.is_empty() {
                "(no activity name)"
            } else {
                a.activity_display_name.as_str()
            },
            initiated_by
                .as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        ),
        a.activity_date_time,
    )
    .with_subject(subject(
        &id,
        target.user_principal_name.as_deref(),
        target.display_name.as_deref(),
    ))
    .with_evidence("auditId", a.id.clone())
    .with_evidence("activity", a.activity_display_name.clone())
    .with_evidence(
        "knownActivity",
        listed(ALERTED_ACTIVITIES, &a.activity_display_name),
    )
    .with_evidence(
        "activityDateTime",
        a.activity_date_time
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
    .with_evidence("category", serde_json::json!(a.category))
    .with_evidence("result", serde_json::json!(a.result))
    .with_evidence("initiatedBy", serde_json::json!(initiated_by))
    .with_evidence(
        "initiatedByIpAddress",
        serde_json::json!(by_user.and_then(|u| u.ip_address.clone())),
    )
    .with_evidence("modifiedProperties", serde_json::json!(modified))
    .with_evidence("correlationId", serde_json::json!(a.correlation_id))
    .with_link("Audit log", audit_log_link(&id));
    Some(alert)
}
