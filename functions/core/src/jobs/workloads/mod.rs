//! The `workloads` job (issue 15): service principals and app registrations, the identities no HR-driven IAM
//! system governs (SPEC.md `[tenants.workloads]`, REFERENCE.md §11).
//!
//! One sweep reads every app registration and service principal with its credentials, judges which are
//! privileged, and raises `workload.credential_expiring` / `workload.credential_expired` per credential and stage
//! (`expiry`), `workload.dormant` as a digest (`idle`), and `workload.credential_added` for a federated credential
//! new on a privileged app (`federated`). The audit watch (`added`), which raises `workload.credential_added` from
//! the directory audits within minutes, runs with every sweep and on the frequent schedule ([`crate::jobs::watch`]).
//!
//! A missing permission or licence is a note naming it; the rest of the job runs.

pub mod added;
mod expiry;
mod federated;
pub(crate) mod idle;
pub(crate) mod inventory;
pub(crate) mod privilege;

pub use expiry::Stage;
pub use inventory::{FIRST_PARTY_OWNERS, MICROSOFT_GRAPH_APP_ID};
pub use privilege::PRIVILEGED_APP_ROLES;

use super::{JobContext, JobError, JobReport};
use crate::config::WorkloadsConfig;
use crate::graph::GraphError;
use inventory::Inventory;
use privilege::Privileged;

/// The cursor holding the last sweep's privileged workloads, for the frequent watch.
pub const PRIVILEGED_CURSOR: &str = "workloads-privileged";

/// One sweep and one audit watch for the tenant of `ctx`.
pub async fn run(ctx: &JobContext, config: &WorkloadsConfig) -> Result<JobReport, JobError> {
    let mut report = JobReport {
        complete: true,
        ..JobReport::default()
    };
    match Inventory::read(ctx.graph.as_ref()).await {
        Ok(inventory) => sweep(ctx, config, &inventory, &mut report).await?,
        Err(GraphError::PermissionMissing { permission, .. }) => report.notes.push(format!(
            "app registrations and service principals not read: the app lacks {permission} (no credential expiry \
             or dormancy checked)"
        )),
        Err(e) => return Err(e.into()),
    }
    let (examined, alerts, notes) = added::watch(ctx).await?;
    report.examined += examined;
    report.alerts_recorded += alerts;
    report.notes.extend(notes);
    Ok(report)
}

async fn sweep(
    ctx: &JobContext,
    config: &WorkloadsConfig,
    inventory: &Inventory,
    report: &mut JobReport,
) -> Result<(), JobError> {
    report.examined += inventory.workloads.len();
    report.unreadable += inventory.unreadable.len();
    if let Some(first) = inventory.unreadable.first() {
        report.notes.push(format!(
            "{} app or service principal records did not parse (e.g. {first}): nothing is resolved as removed this sweep",
            inventory.unreadable.len()
        ));
    }
    let privileged = Privileged::read(ctx.graph.as_ref(), inventory).await?;
    report.notes.extend(privileged.notes.iter().cloned());
    let value = serde_json::to_value(&privileged).unwrap_or_default();
    ctx.stores
        .cursors
        .put_cursor(&ctx.tenant.id, PRIVILEGED_CURSOR, &value)
        .await?;
    let expiry = expiry::check(ctx, config, inventory).await?;
    report.alerts_recorded += expiry.alerts + expiry.resolved;
    report.notes.extend(expiry.notes);
    let idle = idle::check(ctx, config, inventory).await?;
    report.alerts_recorded += usize::from(idle.digest);
    report.notes.extend(idle.notes);
    let federated = federated::check(ctx, inventory, &privileged, &mut report.notes).await?;
    report.alerts_recorded += federated;
    let service_principals = inventory.service_principals().count();
    report.notes.push(format!(
        "{} app registrations, {service_principals} service principals ({} privileged), {} credentials checked; \
         {} credential alerts, {} resolved; {} dormant service principals ({} new)",
        inventory.workloads.len() - service_principals,
        privileged.service_principals.len(),
        expiry.checked,
        expiry.alerts,
        expiry.resolved,
        idle.open,
        idle.new
    ));
    Ok(())
}
