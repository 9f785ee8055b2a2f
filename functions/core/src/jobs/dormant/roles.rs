//! Which directory roles are privileged (issue 14): those Entra ID marks `isPrivileged` (Graph docs
//! `resources/unifiedroledefinition.md`: "Microsoft Entra ID defines whether a role is privileged"), read from
//! `roleDefinitions` through the directory path. Read-only roles (Global Reader, Directory Readers, Reports Reader)
//! are not. When Graph refuses the `$select` (400) or a definition carries no `isPrivileged`, that role is judged
//! by REFERENCE.md §3's list of built-in privileged roles, and the run says so.

use std::collections::HashMap;

use crate::graph::model::RoleDefinition;
use crate::graph::{GraphError, GraphPort};

/// REFERENCE.md §3: built-in privileged roles by template id (a built-in role's definition id is its template id).
pub const PRIVILEGED_TEMPLATES: [(&str, &str); 13] = [
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
    ),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
    ),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    (
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        "Authentication Administrator",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
    ),
    (
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
        "Hybrid Identity Administrator",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
    ),
    (
        "3a2c62db-5318-420d-8d74-23affee5d9d5",
        "Intune Administrator",
    ),
];

fn listed(id: &str) -> Option<&'static str> {
    PRIVILEGED_TEMPLATES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(id))
        .map(|(_, name)| *name)
}

/// The tenant's role definitions, judged privileged or not.
#[derive(Debug, Default)]
pub struct PrivilegedRoles {
    /// Lower-cased definition id and template id → definition.
    definitions: HashMap<String, RoleDefinition>,
    /// What the run line says about how roles were judged.
    pub notes: Vec<String>,
}

impl PrivilegedRoles {
    /// Reads every role definition (following `nextLink`); a 400 to the `$select` falls back to the list.
    pub async fn read(graph: &dyn GraphPort) -> Result<PrivilegedRoles, GraphError> {
        let mut roles = PrivilegedRoles::default();
        let mut link: Option<String> = None;
        loop {
            let page = match graph.list_role_definitions(link.as_deref()).await {
                Ok(page) => page,
                Err(GraphError::Api { status: 400, .. }) if link.is_none() => {
                    roles.notes.push(format!(
                        "Graph refused isPrivileged on roleDefinitions: only the {} built-in privileged roles of \
                         entrawatch's list count as privileged",
                        PRIVILEGED_TEMPLATES.len()
                    ));
                    return Ok(roles);
                }
                Err(e) => return Err(e),
            };
            for definition in page.items {
                for key in std::iter::once(&definition.id).chain(definition.template_id.as_ref()) {
                    roles
                        .definitions
                        .insert(key.to_ascii_lowercase(), definition.clone());
                }
            }
            match page.next_link {
                Some(next) => link = Some(next),
                None => break,
            }
        }
        // Sorted: the definitions are a map, and the note names the same example on every run.
        let mut unmarked: Vec<&str> = roles
            .unique_definitions()
            .filter(|d| d.is_privileged.is_none())
            .map(|d| d.display_name.as_deref().unwrap_or(&d.id))
            .collect();
        unmarked.sort_unstable();
        if !unmarked.is_empty() {
            let note = format!(
                "{} role definitions carry no isPrivileged (e.g. {}): judged by entrawatch's list of built-in \
                 privileged roles",
                unmarked.len(),
                unmarked[0]
            );
            roles.notes.push(note);
        }
        Ok(roles)
    }

    fn unique_definitions(&self) -> impl Iterator<Item = &RoleDefinition> {
        self.definitions
            .iter()
            .filter(|(key, d)| **key == d.id.to_ascii_lowercase())
            .map(|(_, d)| d)
    }

    /// The role's name when `role_definition_id` is a privileged role, `None` when it is not.
    pub fn privileged(&self, role_definition_id: &str) -> Option<String> {
        match self
            .definitions
            .get(&role_definition_id.to_ascii_lowercase())
        {
            Some(d) => {
                let template = d.template_id.as_deref().unwrap_or(&d.id);
                let privileged = d
                    .is_privileged
                    .unwrap_or_else(|| listed(template).is_some() || listed(&d.id).is_some());
                privileged.then(|| {
                    d.display_name
                        .clone()
                        .or_else(|| listed(template).map(str::to_string))
                        .unwrap_or_else(|| d.id.clone())
                })
            }
            None => listed(role_definition_id).map(str::to_string),
        }
    }
}
