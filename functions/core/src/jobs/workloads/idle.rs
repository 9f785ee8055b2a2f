//! Service principals with no sign-in of any kind for `dormant_days` (SPEC.md `workload.dormant`): one finding
//! per service principal (key = object id), one digest per tenant and sweep with what is new, re-notified and
//! resolved, like the `dormant` job's. Microsoft's first-party service principals and `exclude_apps` are left
//! alone; managed identities are their own population.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::expiry::excluded;
use super::inventory::{Inventory, Workload};
use crate::alert::{types, Alert, Severity};
use crate::config::WorkloadsConfig;
use crate::graph::{GraphError, GraphPort};
use crate::jobs::dormant::MAX_DIGEST_ITEMS;
use crate::jobs::{JobContext, JobError};
use crate::state::{Finding, FindingStatus};

pub const FINDINGS: &str = "workload-dormant";
const RESOLVED_TTL_SECS: i64 = 90 * 24 * 3600;
const SP_LINK: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/StartboardApplicationsMenuBlade";

/// What the dormancy check did.
#[derive(Debug, Default, PartialEq)]
pub struct IdleOutcome {
    pub open: u64,
    pub new: u64,
    pub reminded: u64,
    pub resolved: u64,
    pub digest: bool,
    pub notes: Vec<String>,
}

/// appId → the newest sign-in of any kind; `None` when the report cannot be read (licence, permission): then no
/// finding is opened or resolved.
pub(crate) async fn read_activity(
    graph: &dyn GraphPort,
    notes: &mut Vec<String>,
) -> Result<Option<HashMap<String, Option<DateTime<Utc>>>>, GraphError> {
    let mut newest: HashMap<String, Option<DateTime<Utc>>> = HashMap::new();
    let mut link: Option<String> = None;
    loop {
        let page = match graph
            .list_service_principal_sign_in_activities(link.as_deref())
            .await
        {
            Ok(page) => page,
            Err(GraphError::LicenceRequired { needs, .. }) => {
                notes.push(format!(
                    "dormant service principals not checked: the service principal sign-in activity report needs {needs}"
                ));
                return Ok(None);
            }
            Err(GraphError::PermissionMissing { permission, .. }) => {
                notes.push(format!(
                    "dormant service principals not checked: the app lacks {permission}"
                ));
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        for row in page.items {
            let at = row.newest();
            let entry = newest.entry(row.app_id.to_ascii_lowercase()).or_default();
            *entry = (*entry).max(at);
        }
        match page.next_link {
            Some(next) => link = Some(next),
            None => return Ok(Some(newest)),
        }
    }
}

fn population(w: &Workload) -> &'static str {
    if w.managed_identity {
        "managed_identity"
    } else {
        "application"
    }
}

/// Opens, re-notifies and resolves dormant service principal findings and records the digest when it has news.
pub async fn check(
    ctx: &JobContext,
    config: &WorkloadsConfig,
    inventory: &Inventory,
) -> Result<IdleOutcome, JobError> {
    let mut outcome = IdleOutcome::default();
    let Some(activity) = read_activity(ctx.graph.as_ref(), &mut outcome.notes).await? else {
        return Ok(outcome);
    };
    let now = ctx.now;
    let threshold = Duration::days(i64::from(config.dormant_days));
    let renotify = i64::from(config.renotify_days) * 86_400;
    let apps = inventory.applications_by_app_id();
    let store = ctx.stores.findings.as_ref();
    let tenant = ctx.tenant.id.as_str();
    let open: HashMap<String, Finding> = store
        .list_findings(tenant, FINDINGS)
        .await?
        .into_iter()
        .filter(|f| f.status == FindingStatus::Open)
        .map(|f| (f.key.clone(), f))
        .collect();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut lines = Vec::new();
    let mut updates = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for w in inventory.service_principals() {
        if excluded(w, config) || !w.enabled {
            continue;
        }
        let last = activity.get(&w.app_id).copied().flatten();
        // No sign-in on record: an app registered here within the period is new, not dormant.
        let young = last.is_none()
            && apps
                .get(w.app_id.as_str())
                .and_then(|a| a.created)
                .is_some_and(|c| now - c < threshold);
        let dormant = !young && last.is_none_or(|t| now - t >= threshold);
        if !dormant {
            continue;
        }
        seen.insert(w.id.clone());
        *counts.entry(population(w)).or_default() += 1;
        let line = json!({
            "subject": w.subject(),
            "evidence": {
                "population": population(w),
                "lastActivity": last.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
                "daysInactive": last.map(|t| (now - t).num_days()),
                "reasons": [match last {
                    Some(_) => format!("no sign-in of any kind for {} days or more", config.dormant_days),
                    None => "no sign-in on record in the service principal sign-in activity report".to_string(),
                }],
            },
        });
        let finding = match open.get(&w.id) {
            Some(f)
                if f.last_notified
                    .is_some_and(|n| ctx.now_epoch() - n < renotify) =>
            {
                continue;
            }
            Some(f) => {
                outcome.reminded += 1;
                Finding {
                    data: line.clone(),
                    last_notified: Some(ctx.now_epoch()),
                    ..f.clone()
                }
            }
            None => {
                outcome.new += 1;
                Finding {
                    tenant: tenant.to_string(),
                    job: FINDINGS.to_string(),
                    key: w.id.clone(),
                    status: FindingStatus::Open,
                    first_seen: ctx.now_epoch(),
                    last_notified: Some(ctx.now_epoch()),
                    resolved_at: None,
                    data: line.clone(),
                    expires_at: None,
                }
            }
        };
        if lines.len() < MAX_DIGEST_ITEMS {
            lines.push(line);
        }
        updates.push(finding);
    }
    let listed: std::collections::HashSet<&str> = inventory
        .service_principals()
        .map(|w| w.id.as_str())
        .collect();
    let mut resolved_lines = Vec::new();
    for (key, f) in &open {
        if seen.contains(key) {
            continue;
        }
        if !listed.contains(key.as_str()) && !inventory.unreadable.is_empty() {
            continue;
        }
        let why = if listed.contains(key.as_str()) {
            "signed in, disabled or excluded"
        } else {
            "removed"
        };
        outcome.resolved += 1;
        if resolved_lines.len() < MAX_DIGEST_ITEMS {
            resolved_lines.push(json!({"subject": f.data["subject"], "resolution": why}));
        }
        let mut done = f.clone();
        done.status = FindingStatus::Resolved;
        done.resolved_at = Some(ctx.now_epoch());
        done.expires_at = Some(ctx.now_epoch() + RESOLVED_TTL_SECS);
        done.data["resolution"] = json!(why);
        updates.push(done);
    }
    outcome.open = counts.values().sum();
    // The digest is recorded before the findings move on: a run that stops in between sends it again rather than
    // never.
    if outcome.new + outcome.reminded + outcome.resolved > 0 {
        let alert = digest(ctx, &outcome, &counts, lines, resolved_lines);
        ctx.outbox.record(&alert, ctx.now_epoch()).await?;
        outcome.digest = true;
    }
    for f in updates {
        store.put_finding(&f).await?;
    }
    Ok(outcome)
}

fn digest(
    ctx: &JobContext,
    outcome: &IdleOutcome,
    counts: &BTreeMap<&str, u64>,
    findings: Vec<Value>,
    resolved: Vec<Value>,
) -> Alert {
    let title = format!(
        "{} dormant service principal{} in {}: {} new, {} reminder{}, {} resolved",
        outcome.open,
        if outcome.open == 1 { "" } else { "s" },
        ctx.tenant.name,
        outcome.new,
        outcome.reminded,
        if outcome.reminded == 1 { "" } else { "s" },
        outcome.resolved
    );
    let listed = (findings.len() + resolved.len()) as u64;
    let news = outcome.new + outcome.reminded + outcome.resolved;
    Alert::new(
        types::WORKLOAD_DORMANT,
        Severity::Low,
        ctx.tenant.clone(),
        &format!("digest#{}", ctx.now_epoch()),
        title,
        ctx.now,
    )
    .with_data("findings", Value::Array(findings))
    .with_data(
        "counts",
        json!({"application": counts.get("application").copied().unwrap_or(0),
               "managed_identity": counts.get("managed_identity").copied().unwrap_or(0)}),
    )
    .with_data("resolved", Value::Array(resolved))
    .with_data(
        "totals",
        json!({"open": outcome.open, "new": outcome.new, "reminded": outcome.reminded,
               "resolved": outcome.resolved, "omitted": news.saturating_sub(listed)}),
    )
    .with_link("Enterprise applications", SP_LINK)
}
