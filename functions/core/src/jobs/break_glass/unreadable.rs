//! Rows about an emergency account that do not parse (issue 14): alerted with what could be read, never skipped.
//! A sign-in row is worded as a sign-in (its outcome cannot be trusted), an audit row as a change; each keeps the
//! alert id the parsed row would have had, so a row that parses on a later read adds nothing.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::alert::{types, Alert, Severity};
use crate::graph::Malformed;

use super::super::JobContext;
use super::evidence::{audit_log_link, sign_in_log_link, subject};
use super::Accounts;

/// The string at `pointer` in the raw row, if it is one.
fn text<'a>(raw: &'a Value, pointer: &str) -> Option<&'a str> {
    raw.pointer(pointer).and_then(Value::as_str)
}

/// The row's own id, or (a row without one) a key from its readable fields, stable across reads.
fn key(bad: &Malformed) -> String {
    bad.id.clone().unwrap_or_else(|| {
        let digest = crate::alert::alert_id("unreadable", "", &bad.raw.to_string());
        format!("unreadable#{digest}")
    })
}

fn when(ctx: &JobContext, raw: &Value, field: &str) -> DateTime<Utc> {
    text(raw, field)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(ctx.now, |t| t.with_timezone(&Utc))
}

/// Fields copied into the evidence as Graph sent them, when present.
fn copy(alert: Alert, raw: &Value, fields: &[&str]) -> Alert {
    fields.iter().fold(alert, |a, f| match raw.get(*f) {
        Some(v) if !v.is_null() => a.with_evidence(f, v.clone()),
        _ => a,
    })
}

/// `break_glass.sign_in` for a sign-in row that does not parse; `None` when the row readably names another
/// user (Graph returned a row not asked for).
pub(super) fn sign_in(ctx: &JobContext, accounts: &Accounts, bad: &Malformed) -> Option<Alert> {
    let user = text(&bad.raw, "/userId");
    if user.is_some_and(|u| accounts.get(u).is_none()) {
        return None;
    }
    let upn = text(&bad.raw, "/userPrincipalName");
    let who = upn.or(user).unwrap_or("(unreadable account)");
    let id = user.unwrap_or_default();
    let alert = Alert::new(
        types::BREAK_GLASS_SIGN_IN,
        Severity::Critical,
        ctx.tenant.clone(),
        &key(bad),
        format!(
            "Emergency account {who} signed in (the sign-in log row could not be read in full)"
        ),
        when(ctx, &bad.raw, "/createdDateTime"),
    )
    .with_id_of(types::BREAK_GLASS_SIGN_IN, &key(bad))
    .with_subject(subject(id, upn, text(&bad.raw, "/userDisplayName")))
    .with_evidence("signInId", bad.id.clone())
    .with_evidence("unreadable", bad.error.clone())
    .with_link("Sign-in log", sign_in_log_link(id));
    Some(copy(
        alert,
        &bad.raw,
        &[
            "createdDateTime",
            "appDisplayName",
            "ipAddress",
            "status",
            "clientAppUsed",
            "correlationId",
        ],
    ))
}

/// `break_glass.account_changed` for an audit row that does not parse; `None` when its readable targets name
/// no emergency account.
pub(super) fn audit(ctx: &JobContext, accounts: &Accounts, bad: &Malformed) -> Option<Alert> {
    let targets: Vec<&str> = bad
        .raw
        .get("targetResources")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(|r| r.get("id")?.as_str()).collect())
        .unwrap_or_default();
    let account = targets.iter().find_map(|t| accounts.get(t));
    if account.is_none() && !targets.is_empty() {
        return None;
    }
    let id = account.unwrap_or_default();
    let activity = text(&bad.raw, "/activityDisplayName").unwrap_or("(unreadable activity)");
    let alert =
        Alert::new(
            types::BREAK_GLASS_ACCOUNT_CHANGED,
            Severity::High,
            ctx.tenant.clone(),
            &key(bad),
            format!(
            "Emergency account {} changed: {activity} (the audit row could not be read in full)",
            if id.is_empty() { "(unreadable target)" } else { id }
        ),
            when(ctx, &bad.raw, "/activityDateTime"),
        )
        .with_subject(subject(id, None, None))
        .with_evidence("auditId", bad.id.clone())
        .with_evidence("activity", activity.to_string())
        .with_evidence("unreadable", bad.error.clone())
        .with_link("Audit log", audit_log_link(id));
    Some(copy(
        alert,
        &bad.raw,
        &[
            "activityDateTime",
            "category",
            "result",
            "initiatedBy",
            "correlationId",
        ],
    ))
}
