//! `workload.credential_added`: a secret, certificate or federated credential added to an app registration or
//! service principal that is privileged (SPEC.md; REFERENCE.md §13 activity names). Read on the frequent
//! schedule from the directory audits of category `ApplicationManagement`, once per audit id.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, SecondsFormat};
use serde_json::{json, Value};

use super::privilege::{live_permissions, Privileged};
use crate::alert::{types, Alert, Severity};
use crate::graph::model::{DirectoryAudit, TargetResource};
use crate::graph::{AuditSource, GraphError, TimeWindow};
use crate::jobs::{JobContext, JobError};

/// Where credential changes are logged (Entra docs `reference-audit-activities.md`: Core Directory,
/// ApplicationManagement).
pub const CATEGORY: &str = "ApplicationManagement";
const AUDIT_LINK: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AuditLogList.ReactView";

/// What kind of credential an audit adds, when it adds one.
fn added_kind(audit: &DirectoryAudit) -> Option<&'static str> {
    if audit
        .result
        .as_deref()
        .is_some_and(|r| !r.eq_ignore_ascii_case("success"))
    {
        return None;
    }
    // Entra writes "Update application – Certificates and secrets management" with an en dash; REFERENCE.md
    // quotes it with a hyphen. Compare without either.
    let name: String = audit
        .activity_display_name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
        .collect();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let properties = |wanted: &str| {
        audit.target_resources.iter().any(|t| {
            t.modified_properties.iter().any(|p| {
                p.display_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
        })
    };
    if name.contains("federated identity credential")
        || (name.starts_with("update application") && properties("FederatedIdentityCredentials"))
    {
        return Some("federated");
    }
    let credentials = name == "update application certificates and secrets management"
        || name == "add service principal credentials"
        || name == "update service principal certificates and secrets management";
    (credentials && !only_removes(audit)).then_some("password or certificate")
}

/// `KeyDescription` lists the credentials before and after (`[KeyIdentifier=..., KeyType=..., ...]`): an audit
/// whose new list holds no key the old one did not is a removal.
fn only_removes(audit: &DirectoryAudit) -> bool {
    let Some(p) = audit
        .target_resources
        .iter()
        .flat_map(|t| &t.modified_properties)
        .find(|p| {
            p.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case("KeyDescription"))
        })
    else {
        return false;
    };
    let old = key_ids(p.old_value.as_deref().unwrap_or_default());
    let new = key_ids(p.new_value.as_deref().unwrap_or_default());
    if old.is_empty() && new.is_empty() {
        // Nothing named: it cannot be told apart from an addition, and an addition is what must not be missed.
        return false;
    }
    new.difference(&old).next().is_none()
}

/// The key ids a `KeyDescription` value names.
pub fn key_ids(text: &str) -> BTreeSet<String> {
    text.split("KeyIdentifier=")
        .skip(1)
        .filter_map(|rest| {
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
                .collect();
            (!id.is_empty()).then(|| id.to_ascii_lowercase())
        })
        .collect()
}

fn target(audit: &DirectoryAudit) -> Option<&TargetResource> {
    audit.target_resources.iter().find(|t| {
        t.resource_type.as_deref().is_some_and(|k| {
            k.eq_ignore_ascii_case("Application") || k.eq_ignore_ascii_case("ServicePrincipal")
        }) && t.id.is_some()
    })
}

/// What the watch keeps between runs (cursor `workloads-watch`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchState {
    /// The end of the last window read.
    pub to: Option<i64>,
    /// Audit ids already judged, with when: the overlap re-reads them without asking Graph about their target.
    #[serde(default)]
    pub judged: BTreeMap<String, i64>,
}

pub const WATCH_CURSOR: &str = "workloads-watch";
/// The overlap re-read each run: audit rows arrive late (REFERENCE.md §2).
pub const OVERLAP_MINUTES: i64 = 60;
/// How far back the first look reads.
pub const FIRST_LOOK_HOURS: i64 = 24;

/// Reads the credential audits since the last look and alerts those adding a credential to a privileged workload.
/// Returns (audits examined, alerts recorded, notes).
pub async fn watch(ctx: &JobContext) -> Result<(usize, usize, Vec<String>), JobError> {
    let tenant = ctx.tenant.id.as_str();
    let cursors = ctx.stores.cursors.as_ref();
    let mut state: WatchState = cursors
        .get_cursor(tenant, WATCH_CURSOR)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let privileged: Privileged = cursors
        .get_cursor(tenant, super::PRIVILEGED_CURSOR)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let from = match state.to {
        Some(to) => ctx.now.timestamp().min(to) - OVERLAP_MINUTES * 60,
        None => (ctx.now - Duration::hours(FIRST_LOOK_HOURS)).timestamp(),
    };
    let window = TimeWindow {
        from: chrono::DateTime::from_timestamp(from, 0).unwrap_or(ctx.now),
        to: ctx.now,
    };
    let (mut examined, mut recorded, mut notes) = (0, 0, Vec::new());
    let mut link: Option<String> = None;
    loop {
        let page = match ctx
            .graph
            .list_audits_from(AuditSource::Category(CATEGORY), &window, link.as_deref())
            .await
        {
            Ok(page) => page,
            Err(GraphError::PermissionMissing { permission, .. }) => {
                notes.push(format!(
                    "credentials added to privileged apps not watched: the app lacks {permission}"
                ));
                return Ok((examined, recorded, notes));
            }
            Err(e) => return Err(e.into()),
        };
        for audit in &page.items {
            examined += 1;
            if state.judged.contains_key(&audit.id) {
                continue;
            }
            if let Some(alert) = judge(ctx, &privileged, audit).await? {
                if ctx.outbox.record(&alert, ctx.now_epoch()).await? == crate::state::Recorded::New
                {
                    recorded += 1;
                }
            }
            state.judged.insert(audit.id.clone(), ctx.now_epoch());
        }
        match page.next_link {
            Some(next) => link = Some(next),
            None => break,
        }
    }
    let keep_after = ctx.now_epoch() - (OVERLAP_MINUTES + 60) * 60 - FIRST_LOOK_HOURS * 3600;
    state.judged.retain(|_, at| *at >= keep_after);
    state.to = Some(ctx.now_epoch());
    cursors
        .put_cursor(
            tenant,
            WATCH_CURSOR,
            &serde_json::to_value(&state).unwrap_or_default(),
        )
        .await?;
    Ok((examined, recorded, notes))
}

/// The alert for one audit, if it adds a credential to a privileged workload.
async fn judge(
    ctx: &JobContext,
    privileged: &Privileged,
    audit: &DirectoryAudit,
) -> Result<Option<Alert>, JobError> {
    let Some(kind) = added_kind(audit) else {
        return Ok(None);
    };
    let Some(t) = target(audit) else {
        return Ok(None);
    };
    let target_id = t.id.clone().unwrap_or_default().to_ascii_lowercase();
    let is_app = t
        .resource_type
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("Application"));
    // The service principal that holds the permissions: the target itself, or the app registration's one here.
    let (app_id, sp) = if is_app {
        let app_id = match privileged.application_app_ids.get(&target_id) {
            Some(a) => Some(a.clone()),
            None => ctx
                .graph
                .get_application(&target_id)
                .await?
                .map(|a| a.app_id.to_ascii_lowercase()),
        };
        let sp = match &app_id {
            Some(a) => ctx.graph.service_principal_of_app(a).await?,
            None => None,
        };
        (app_id, sp.map(|s| s.id.to_ascii_lowercase()))
    } else {
        (None, Some(target_id.clone()))
    };
    let mut reasons: BTreeSet<String> = BTreeSet::new();
    if let Some(sp) = &sp {
        if let Some(known) = privileged.service_principals.get(sp) {
            reasons.extend(known.iter().cloned());
        }
        reasons.extend(live_permissions(ctx.graph.as_ref(), sp).await?);
    }
    if let Some(known) = app_id.as_ref().and_then(|a| privileged.apps.get(a)) {
        reasons.extend(known.iter().cloned());
    }
    if reasons.is_empty() {
        return Ok(None);
    }
    let name = t.display_name.clone().unwrap_or_else(|| target_id.clone());
    let by = audit.initiated_by.as_ref().and_then(|i| {
        i.user
            .as_ref()
            .and_then(|u| u.user_principal_name.clone())
            .or_else(|| i.app.as_ref().and_then(|a| a.display_name.clone()))
    });
    let new_keys: Vec<String> = audit
        .target_resources
        .iter()
        .flat_map(|t| &t.modified_properties)
        .filter(|p| {
            p.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case("KeyDescription"))
        })
        .flat_map(|p| {
            let old = key_ids(p.old_value.as_deref().unwrap_or_default());
            key_ids(p.new_value.as_deref().unwrap_or_default())
                .into_iter()
                .filter(move |k| !old.contains(k))
        })
        .collect();
    let subject = json!({"id": target_id, "appId": app_id, "displayName": t.display_name,
                         "objectType": if is_app { "application" } else { "servicePrincipal" }});
    let alert = Alert::new(
        types::WORKLOAD_CREDENTIAL_ADDED,
        Severity::High,
        ctx.tenant.clone(),
        &audit.id,
        format!("Credential added to privileged app {name}"),
        ctx.now,
    )
    .with_subject(subject)
    .with_evidence("auditId", audit.id.clone())
    .with_evidence("activity", audit.activity_display_name.clone())
    .with_evidence(
        "activityDateTime",
        audit
            .activity_date_time
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    )
    .with_evidence("credentialType", kind)
    .with_evidence(
        "keyId",
        match new_keys.as_slice() {
            [one] => json!(one),
            [] => Value::Null,
            many => json!(many),
        },
    )
    .with_evidence("initiatedBy", by)
    .with_evidence("privilege", reasons.into_iter().collect::<Vec<_>>())
    .with_link("Audit log", AUDIT_LINK);
    Ok(Some(alert))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit(activity: &str, result: &str, old: &str, new: &str) -> DirectoryAudit {
        serde_json::from_value(serde_json::json!({
            "id": "a", "activityDateTime": "2026-12-01T10:00:00Z", "activityDisplayName": activity,
            "result": result, "category": "ApplicationManagement",
            "targetResources": [{"id": "app", "type": "Application", "modifiedProperties": [
                {"displayName": "KeyDescription", "oldValue": old, "newValue": new}]}]
        }))
        .expect("audit")
    }

    #[test]
    fn additions_are_told_from_removals_failures_and_other_activities() {
        let one = r#"["[KeyIdentifier=11111111-0000-4000-8000-000000000001,KeyType=Password]"]"#;
        let two = r#"["[KeyIdentifier=11111111-0000-4000-8000-000000000001,KeyType=Password]","[KeyIdentifier=11111111-0000-4000-8000-000000000002,KeyType=Password]"]"#;
        // Entra's en dash and trailing space, REFERENCE.md's hyphen, any case.
        for name in [
            "Update application – Certificates and secrets management ",
            "Update application - Certificates and secrets management",
            "update application - certificates and secrets MANAGEMENT",
        ] {
            assert_eq!(
                added_kind(&audit(name, "success", one, two)),
                Some("password or certificate"),
                "{name}"
            );
        }
        assert_eq!(
            added_kind(&audit(
                "Add service principal credentials",
                "success",
                "[]",
                one
            )),
            Some("password or certificate")
        );
        assert_eq!(
            added_kind(&audit(
                "Update application – Certificates and secrets management",
                "success",
                two,
                one
            )),
            None,
            "a removal"
        );
        assert_eq!(
            added_kind(&audit(
                "Update application – Certificates and secrets management",
                "failure",
                one,
                two
            )),
            None,
            "a failed attempt added nothing"
        );
        assert_eq!(
            added_kind(&audit("Update application", "success", one, two)),
            None
        );
        assert_eq!(
            added_kind(&audit(
                "Add federated identity credential",
                "success",
                "",
                ""
            )),
            Some("federated")
        );
        // Nothing named either side: counted as an addition, which must not be missed.
        assert_eq!(
            added_kind(&audit(
                "Add service principal credentials",
                "success",
                "",
                ""
            )),
            Some("password or certificate")
        );
    }

    #[test]
    fn key_descriptions_name_their_key_ids() {
        let v = r#"["[KeyIdentifier=0A1b2c3d-0000-4000-8000-000000000001,KeyType=Password,KeyUsage=Verify,DisplayName=ci]","[KeyIdentifier=0a1b2c3d-0000-4000-8000-000000000002,KeyType=AsymmetricX509Cert]"]"#;
        assert_eq!(
            key_ids(v).into_iter().collect::<Vec<_>>(),
            vec![
                "0a1b2c3d-0000-4000-8000-000000000001".to_string(),
                "0a1b2c3d-0000-4000-8000-000000000002".to_string()
            ]
        );
        assert!(key_ids("[]").is_empty());
    }
}
