//! Federated identity credentials of privileged app registrations, read each sweep: one added since the last
//! sweep is `workload.credential_added` even if its audit row was missed (the audit watch is the fast path; this
//! is the net under it). Federated credentials do not expire, so they have no expiry stage.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::inventory::{Inventory, OwnerKind};
use super::privilege::Privileged;
use crate::alert::{types, Alert, Severity};
use crate::graph::GraphError;
use crate::jobs::{JobContext, JobError};

pub const CURSOR: &str = "workloads-federated";

/// Lists the federated credentials of every privileged app registration; alerts those not seen by the last sweep
/// (none on the first sweep: everything is new then). Returns the alerts recorded.
pub async fn check(
    ctx: &JobContext,
    inventory: &Inventory,
    privileged: &Privileged,
    notes: &mut Vec<String>,
) -> Result<usize, JobError> {
    let tenant = ctx.tenant.id.as_str();
    let cursors = ctx.stores.cursors.as_ref();
    let known: Option<BTreeMap<String, BTreeSet<String>>> = cursors
        .get_cursor(tenant, CURSOR)
        .await?
        .and_then(|v| serde_json::from_value(v).ok());
    let mut now_known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut alerts = 0;
    for app in inventory
        .workloads
        .iter()
        .filter(|w| w.kind == OwnerKind::Application)
    {
        let Some(reasons) = privileged.apps.get(&app.app_id) else {
            continue;
        };
        let mut ids = BTreeSet::new();
        let mut link: Option<String> = None;
        loop {
            let page = match ctx
                .graph
                .list_federated_credentials(&app.id, link.as_deref())
                .await
            {
                Ok(page) => page,
                Err(GraphError::NotFound { .. }) => break,
                Err(e) => return Err(e.into()),
            };
            for fic in page.items {
                let id = fic.id.to_ascii_lowercase();
                let new = known
                    .as_ref()
                    .is_some_and(|k| !k.get(&app.id).is_some_and(|s| s.contains(&id)));
                if new {
                    let alert = Alert::new(
                        types::WORKLOAD_CREDENTIAL_ADDED,
                        Severity::High,
                        ctx.tenant.clone(),
                        &format!("federated#{}#{id}", app.id),
                        format!(
                            "Federated credential added to privileged app {}",
                            app.name()
                        ),
                        ctx.now,
                    )
                    .with_subject(app.subject())
                    .with_evidence("keyId", id.clone())
                    .with_evidence("credentialType", "federated")
                    .with_evidence("credentialName", fic.name.clone())
                    .with_evidence("issuer", fic.issuer.clone())
                    .with_evidence("federatedSubject", fic.subject.clone())
                    .with_evidence("source", "federatedIdentityCredentials (daily sweep)")
                    .with_evidence("privilege", json!(reasons));
                    if ctx.outbox.record(&alert, ctx.now_epoch()).await?
                        == crate::state::Recorded::New
                    {
                        alerts += 1;
                    }
                }
                ids.insert(id);
            }
            match page.next_link {
                Some(next) => link = Some(next),
                None => break,
            }
        }
        now_known.insert(app.id.clone(), ids);
    }
    if known.is_none() && !now_known.is_empty() {
        notes.push(format!(
            "first sweep: {} federated credentials of privileged apps recorded; later additions are alerted",
            now_known.values().map(BTreeSet::len).sum::<usize>()
        ));
    }
    cursors
        .put_cursor(
            tenant,
            CURSOR,
            &serde_json::to_value(&now_known).unwrap_or_default(),
        )
        .await?;
    Ok(alerts)
}
