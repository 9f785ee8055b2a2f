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

pub(super) async fn scan(
    ctx: &JobContext,
    accounts: &Accounts,
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let per_request = if state.one_target_per_audit_filter {
        1
    } else {
        TARGETS_PER_FILTER
    };
    for chunk in accounts.ids().chunks(per_request) {
        let query = AuditQuery {
            target_ids: chunk.to_vec(),
            window,
        };
        match read(ctx, accounts, &query, report).await {
            Err(JobError::Graph(GraphError::Api { status: 400, .. })) if chunk.len() > 1 => {
                state.one_target_per_audit_filter = true;
                report.notes.push(
                    "Graph refused several accounts in one audit filter; reading one account per request"
                        .into(),
                );
                for id in chunk {
                    let single = AuditQuery {
                        target_ids: vec![id.clone()],
                        window,
                    };
                    read(ctx, accounts, &single, report).await?;
                }
            }
            other => other?,
        }
    }
    Ok(())
}

async fn read(
    ctx: &JobContext,
    accounts: &Accounts,
    query: &AuditQuery,
    report: &mut JobReport,
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
