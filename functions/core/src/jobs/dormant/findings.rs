//! Dormant findings as state records: one per account (key = object id, never a name: renames must not break
//! it, REFERENCE.md §9), open while the account is dormant, resolved when a finished scan no longer finds it.

use serde_json::{json, Value};

use super::evaluate::DormantAccount;
use crate::state::{Finding, FindingStatus, FindingStore, StateError};

pub const JOB: &str = "dormant";

/// Resolved findings are kept this long (for the digest line and for history), then the store may drop them.
pub const RESOLVED_TTL_SECS: i64 = 90 * 24 * 3600;

/// The `subject` and `evidence` of an account, as alerts carry them (SPEC.md "Alerts").
pub fn subject_and_evidence(account: &DormantAccount) -> (Value, Value) {
    let subject = json!({
        "id": account.id,
        "userPrincipalName": account.user_principal_name,
        "displayName": account.display_name,
    });
    let evidence = json!({
        "population": account.population.as_str(),
        "lastActivity": account.last_activity.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "daysInactive": account.days_inactive,
        "licensed": account.licensed,
        "synced": account.synced,
        "reasons": account.reasons,
    });
    (subject, evidence)
}

/// Records that `account` is dormant in scan `scan`: a new finding, a new episode of a resolved one, or an update
/// of the open one (keeping when it was first seen and notified). Idempotent for a page processed twice.
/// `by_filter`: a phase of the filtered plan found it (marked `filteredScan`, so a verifying full listing later in
/// the same scan, even in another invocation, can tell what the filter missed). Returns whether the filtered
/// phases of this scan have found the account.
pub async fn record_dormant(
    store: &dyn FindingStore,
    tenant: &str,
    account: &DormantAccount,
    scan: i64,
    now: i64,
    by_filter: bool,
) -> Result<bool, StateError> {
    let existing = store.get_finding(tenant, JOB, &account.id).await?;
    let filter_found = by_filter
        || existing
            .as_ref()
            .is_some_and(|f| f.data.get("filteredScan").and_then(Value::as_i64) == Some(scan));
    let (subject, evidence) = subject_and_evidence(account);
    let mut data = json!({"subject": subject, "evidence": evidence, "scan": scan});
    if filter_found {
        data["filteredScan"] = json!(scan);
    }
    let finding = match existing {
        Some(open) if open.status == FindingStatus::Open => {
            for kept in ["alertId", "notifiedScan"] {
                if let Some(v) = open.data.get(kept) {
                    data[kept] = v.clone();
                }
            }
            Finding {
                data,
                expires_at: None,
                ..open
            }
        }
        _ => Finding {
            tenant: tenant.to_string(),
            job: JOB.to_string(),
            key: account.id.clone(),
            status: FindingStatus::Open,
            first_seen: now,
            last_notified: None,
            resolved_at: None,
            data,
            expires_at: None,
        },
    };
    store.put_finding(&finding).await?;
    Ok(filter_found)
}

/// Records why an account with an open finding is no longer dormant when the scan sees it (disabled, excluded),
/// so the resolution says so. Accounts the scan does not see signed in or were deleted.
pub async fn note_not_dormant(
    store: &dyn FindingStore,
    tenant: &str,
    user_id: &str,
    scan: i64,
    why: &str,
) -> Result<(), StateError> {
    let Some(mut open) = store.get_finding(tenant, JOB, user_id).await? else {
        return Ok(());
    };
    if open.status != FindingStatus::Open {
        return Ok(());
    }
    open.data["seenAs"] = json!({"scan": scan, "resolution": why});
    store.put_finding(&open).await
}

/// Keeps an open finding open through scan `scan` when the scan saw the account but could not read its record
/// (issue 14): what cannot be read is not evidence that the account signed in.
pub async fn keep_unread(
    store: &dyn FindingStore,
    tenant: &str,
    user_id: &str,
    scan: i64,
) -> Result<bool, StateError> {
    let Some(mut open) = store.get_finding(tenant, JOB, user_id).await? else {
        return Ok(false);
    };
    if open.status != FindingStatus::Open {
        return Ok(false);
    }
    open.data["scan"] = json!(scan);
    open.data["unreadInScan"] = json!(scan);
    store.put_finding(&open).await?;
    Ok(true)
}
