//! Which service principals are privileged: those holding a privileged directory role (directly or through a
//! group) or a Microsoft Graph application permission Microsoft warns lets an app grant itself more (REFERENCE.md
//! §11, Graph docs `permissions-notes`; ids from `permissions-ids.md`). A credential added to one of them is
//! `workload.credential_added`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::inventory::{Inventory, MICROSOFT_GRAPH_APP_ID};
use crate::graph::model::DirectoryObjectKind;
use crate::graph::{GraphError, GraphPort};
use crate::jobs::dormant::populations::group_members;
use crate::jobs::dormant::roles::PrivilegedRoles;

/// Microsoft Graph application permissions (app role id, name) that let an app raise its own or others'
/// privileges, or act as anyone (REFERENCE.md §11).
pub const PRIVILEGED_APP_ROLES: [(&str, &str); 11] = [
    (
        "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
        "RoleManagement.ReadWrite.Directory",
    ),
    (
        "06b708a9-e830-4db3-a914-8e69da51d44f",
        "AppRoleAssignment.ReadWrite.All",
    ),
    (
        "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        "Application.ReadWrite.All",
    ),
    (
        "18a4783c-866b-4cc7-a460-3d5e5662c884",
        "Application.ReadWrite.OwnedBy",
    ),
    (
        "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
        "Directory.ReadWrite.All",
    ),
    ("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All"),
    (
        "50483e42-d915-4231-9639-7fdb7fd190e5",
        "UserAuthenticationMethod.ReadWrite.All",
    ),
    (
        "62a82d76-70ea-41e2-9197-370581804d09",
        "Group.ReadWrite.All",
    ),
    (
        "dbaae8cf-10b5-4b86-a4a1-f871c94c6695",
        "GroupMember.ReadWrite.All",
    ),
    (
        "2f6817f8-7b12-4f0f-bc18-eeaf60705a9e",
        "PrivilegedAccess.ReadWrite.AzureADGroup",
    ),
    (
        "7e05723c-0bb0-42da-be95-ae9f08a6e53c",
        "Domain.ReadWrite.All",
    ),
];

/// The permission's name when `app_role_id` is one of [`PRIVILEGED_APP_ROLES`].
pub fn privileged_app_role(app_role_id: &str) -> Option<&'static str> {
    PRIVILEGED_APP_ROLES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(app_role_id))
        .map(|(_, name)| *name)
}

/// Privileged service principals (object id, lower case) and apps (appId) with why, as the last sweep found
/// them; kept in the cursor store so the frequent watch knows them between sweeps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Privileged {
    pub service_principals: BTreeMap<String, BTreeSet<String>>,
    /// appId → the privileged service principal's reasons: an app registration is privileged when its service
    /// principal here is.
    pub apps: BTreeMap<String, BTreeSet<String>>,
    /// Application object id → appId, so an audit naming an app registration finds its service principal.
    #[serde(default)]
    pub application_app_ids: BTreeMap<String, String>,
    #[serde(skip)]
    pub notes: Vec<String>,
}

impl Privileged {
    pub async fn read(
        graph: &dyn GraphPort,
        inventory: &Inventory,
    ) -> Result<Privileged, GraphError> {
        let mut found = Privileged::default();
        match inventory
            .service_principals()
            .find(|w| w.app_id == MICROSOFT_GRAPH_APP_ID)
        {
            Some(graph_sp) => found.read_app_permissions(graph, &graph_sp.id).await?,
            None => found.notes.push(
                "Microsoft Graph's service principal was not listed: application permissions not checked".into(),
            ),
        }
        match found.read_roles(graph).await {
            Ok(()) => {}
            Err(GraphError::PermissionMissing { permission, .. }) => found.notes.push(format!(
                "directory roles of service principals not read: the app lacks {permission}"
            )),
            Err(e) => return Err(e),
        }
        for w in inventory.service_principals() {
            if let Some(reasons) = found.service_principals.get(&w.id) {
                found.apps.insert(w.app_id.clone(), reasons.clone());
            }
        }
        for w in &inventory.workloads {
            if w.kind == super::inventory::OwnerKind::Application {
                found
                    .application_app_ids
                    .insert(w.id.clone(), w.app_id.clone());
            }
        }
        Ok(found)
    }

    async fn read_app_permissions(
        &mut self,
        graph: &dyn GraphPort,
        graph_sp: &str,
    ) -> Result<(), GraphError> {
        let mut link: Option<String> = None;
        loop {
            let page = graph
                .list_app_role_assigned_to(graph_sp, link.as_deref())
                .await?;
            for grant in page.items {
                if let Some(name) = privileged_app_role(&grant.app_role_id) {
                    self.add(
                        &grant.principal_id,
                        format!("application permission {name}"),
                    );
                }
            }
            match page.next_link {
                Some(next) => link = Some(next),
                None => return Ok(()),
            }
        }
    }

    async fn read_roles(&mut self, graph: &dyn GraphPort) -> Result<(), GraphError> {
        let roles = PrivilegedRoles::read(graph).await?;
        let mut link: Option<String> = None;
        let mut groups: Vec<(String, String, String)> = Vec::new();
        loop {
            let page = graph.list_role_assignments(link.as_deref()).await?;
            for a in page.items {
                let Some(role) = roles.privileged(&a.role_definition_id) else {
                    continue;
                };
                let kind = a
                    .principal
                    .as_ref()
                    .map_or(DirectoryObjectKind::Unknown, |p| p.kind());
                match kind {
                    DirectoryObjectKind::ServicePrincipal | DirectoryObjectKind::Unknown => {
                        self.add(&a.principal_id, format!("directory role {role}"))
                    }
                    DirectoryObjectKind::Group => {
                        let name = a
                            .principal
                            .as_ref()
                            .and_then(|p| p.display_name.clone())
                            .unwrap_or_else(|| a.principal_id.clone());
                        groups.push((a.principal_id.clone(), name, role));
                    }
                    _ => {}
                }
            }
            match page.next_link {
                Some(next) => link = Some(next),
                None => break,
            }
        }
        for (group, name, role) in groups {
            for member in group_members(graph, &group).await? {
                if member.kind() == DirectoryObjectKind::ServicePrincipal {
                    self.add(
                        &member.id,
                        format!("directory role {role} through group {name}"),
                    );
                }
            }
        }
        Ok(())
    }

    fn add(&mut self, service_principal: &str, reason: String) {
        self.service_principals
            .entry(service_principal.to_ascii_lowercase())
            .or_default()
            .insert(reason);
    }
}

/// The privileged application permissions one service principal holds now (one directory request): the frequent
/// watch asks it for the target of a credential audit, so a grant made since the last sweep counts.
pub async fn live_permissions(
    graph: &dyn GraphPort,
    service_principal: &str,
) -> Result<BTreeSet<String>, GraphError> {
    let mut reasons = BTreeSet::new();
    let mut link: Option<String> = None;
    loop {
        let page = graph
            .list_app_role_assignments_of(service_principal, link.as_deref())
            .await?;
        for grant in page.items {
            if let Some(name) = privileged_app_role(&grant.app_role_id) {
                reasons.insert(format!("application permission {name}"));
            }
        }
        match page.next_link {
            Some(next) => link = Some(next),
            None => return Ok(reasons),
        }
    }
}
