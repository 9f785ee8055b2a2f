//! Service principals and managed identities, from the workloads job's reads (REFERENCE.md §11): the listing
//! with credentials (`jobs::workloads::inventory`), which are privileged (`privilege`), and the beta service
//! principal sign-in activity report (`idle::read_activity`).
//!
//! Unlike users these are held for the run, as the workloads job holds them: a tenant has thousands of them, not
//! millions, and the app registrations must be at hand to give each service principal its app's credentials.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::findings::FindingIndex;
use super::row::{IdentityRow, Kind};
use super::{Emit, InventoryError};
use crate::graph::{GraphError, GraphPort};
use crate::jobs::workloads::idle::read_activity;
use crate::jobs::workloads::inventory::{Inventory, OwnerKind, Workload};
use crate::jobs::workloads::privilege::Privileged;
use crate::progress::Task;

/// Every service principal to `emit`; returns how many.
pub(super) async fn stream(
    graph: &dyn GraphPort,
    findings: &FindingIndex,
    now: DateTime<Utc>,
    emit: &mut Emit<'_>,
    task: &Task,
    notes: &mut Vec<String>,
) -> Result<u64, InventoryError> {
    let inventory = match Inventory::read(graph).await {
        Ok(inventory) => inventory,
        Err(GraphError::PermissionMissing { permission, .. }) => {
            notes.push(format!(
                "service principals and managed identities not listed: the app lacks {permission}"
            ));
            return Ok(0);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(first) = inventory.unreadable.first() {
        notes.push(format!(
            "{} app or service principal records did not parse (e.g. {first}): not in the inventory",
            inventory.unreadable.len()
        ));
    }
    let privileged = Privileged::read(graph, &inventory).await?;
    notes.extend(privileged.notes.iter().cloned());
    let mut activity_notes = Vec::new();
    let activity = read_activity(graph, &mut activity_notes).await?;
    for note in activity_notes {
        let why = note.split_once(": ").map_or(note.as_str(), |(_, why)| why);
        notes.push(format!("service principal last activity empty: {why}"));
    }
    let apps = inventory.applications_by_app_id();
    let mut written = 0;
    for sp in inventory.service_principals() {
        let last = activity
            .as_ref()
            .and_then(|a: &HashMap<String, Option<DateTime<Utc>>>| a.get(&sp.app_id).copied())
            .flatten();
        let app = apps.get(sp.app_id.as_str()).copied();
        let ends = credential_ends(sp, app);
        let row = IdentityRow {
            kind: Some(if sp.managed_identity {
                Kind::ManagedIdentity
            } else {
                Kind::ServicePrincipal
            }),
            id: sp.id.clone(),
            name: sp.name().to_string(),
            display_name: sp.display_name.clone(),
            app_id: Some(sp.app_id.clone()),
            enabled: Some(sp.enabled),
            created: sp.created.or(app.and_then(|a| a.created)),
            last_activity: last,
            days_inactive: last.map(|at| IdentityRow::days_since(at, now)),
            activity_read: activity.is_some(),
            privileged_roles: privileged
                .service_principals
                .get(&sp.id)
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            mfa_registered: None,
            methods: Vec::new(),
            credentials: Some(ends.len() as u32),
            nearest_expiry: nearest(&ends, now),
            synced: None,
            first_party: sp.first_party,
            findings: findings.of(&sp.id, Some(&sp.app_id)),
        };
        task.advance(1);
        emit(row)?;
        written += 1;
    }
    Ok(written)
}

/// End dates of the secrets and certificates on the service principal and on its app registration.
fn credential_ends(sp: &Workload, app: Option<&Workload>) -> Vec<Option<DateTime<Utc>>> {
    debug_assert_eq!(sp.kind, OwnerKind::ServicePrincipal);
    sp.credentials
        .iter()
        .chain(app.into_iter().flat_map(|a| a.credentials.iter()))
        .map(|c| c.end)
        .collect()
}

/// The credential that expires next: the earliest end still ahead, else the latest one past (all expired).
fn nearest(ends: &[Option<DateTime<Utc>>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let ends = ends.iter().flatten().copied();
    ends.clone()
        .filter(|end| *end >= now)
        .min()
        .or_else(|| ends.max())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_nearest_expiry_is_the_next_one_ahead_or_the_last_one_past() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let day = |d| Some(now + chrono::Duration::days(d));
        assert_eq!(nearest(&[day(40), day(-3), day(12), None], now), day(12));
        assert_eq!(nearest(&[day(-40), day(-3)], now), day(-3));
        assert_eq!(nearest(&[None], now), None);
    }
}
