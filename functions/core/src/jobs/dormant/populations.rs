//! Who holds privilege (REFERENCE.md §3): principals of active role assignments, members (transitive) of
//! role-assignable groups that hold one, and PIM-eligible principals when the tenant has P2. `directoryRoles`
//! lists only activated roles, so it is not used. All of this is read through the directory path (cheap pacing
//! family), once per invocation.

use std::collections::{BTreeSet, HashMap};

use crate::graph::model::{DirectoryObject, DirectoryObjectKind};
use crate::graph::{GraphError, GraphPort};

/// How an account came to be privileged; its finding lists each distinct way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    Direct,
    ThroughGroup(String),
    Eligible,
}

impl Privilege {
    pub fn reason(&self) -> String {
        match self {
            Privilege::Direct => "privileged: active role assignment".into(),
            Privilege::ThroughGroup(group) => {
                format!("privileged: active role assignment through group {group}")
            }
            Privilege::Eligible => "privileged: eligible for a role through PIM".into(),
        }
    }
}

/// User object id → the ways it holds privilege.
#[derive(Debug, Default)]
pub struct PrivilegedHolders {
    holders: HashMap<String, BTreeSet<Privilege>>,
    /// False when the tenant has no P2 and PIM eligibility could not be read.
    pub eligibility_read: bool,
}

impl PrivilegedHolders {
    pub fn of(&self, user_id: &str) -> Option<&BTreeSet<Privilege>> {
        self.holders.get(user_id)
    }

    pub fn count(&self) -> usize {
        self.holders.len()
    }

    /// Up to `n` holder ids sorting after `after`, in order: a resumable walk over the holders.
    pub fn ids_after(&self, after: Option<&str>, n: usize) -> Vec<String> {
        let mut ids: Vec<&String> = self
            .holders
            .keys()
            .filter(|id| after.is_none_or(|a| id.as_str() > a))
            .collect();
        ids.sort();
        ids.into_iter().take(n).cloned().collect()
    }

    /// Reads role assignments, PIM eligibility (a 403 for lack of P2 is not an error) and the groups' members.
    pub async fn read(graph: &dyn GraphPort) -> Result<PrivilegedHolders, GraphError> {
        let mut holders = PrivilegedHolders::default();
        let mut principals: Vec<(Option<DirectoryObject>, String, bool)> = Vec::new();
        let mut link: Option<String> = None;
        loop {
            let page = graph.list_role_assignments(link.as_deref()).await?;
            principals.extend(
                page.items
                    .into_iter()
                    .map(|a| (a.principal, a.principal_id, false)),
            );
            match page.next_link {
                Some(next) => link = Some(next),
                None => break,
            }
        }
        holders.eligibility_read = true;
        let mut link: Option<String> = None;
        loop {
            match graph.list_role_eligibility_schedules(link.as_deref()).await {
                Ok(page) => {
                    principals.extend(
                        page.items
                            .into_iter()
                            .map(|s| (s.principal, s.principal_id, true)),
                    );
                    match page.next_link {
                        Some(next) => link = Some(next),
                        None => break,
                    }
                }
                Err(GraphError::LicenceRequired { .. }) => {
                    holders.eligibility_read = false;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        for (principal, principal_id, eligible) in principals {
            let kind = principal
                .as_ref()
                .map_or(DirectoryObjectKind::Unknown, DirectoryObject::kind);
            match kind {
                DirectoryObjectKind::Group => {
                    let name = principal
                        .as_ref()
                        .and_then(|p| p.display_name.clone())
                        .unwrap_or_else(|| principal_id.clone());
                    let via = if eligible {
                        Privilege::Eligible
                    } else {
                        Privilege::ThroughGroup(name)
                    };
                    for member in group_members(graph, &principal_id).await? {
                        if member.kind() == DirectoryObjectKind::User {
                            holders.add(member.id, via.clone());
                        }
                    }
                }
                // Users, and principals Graph sent without a type: an id that is not a user never matches one.
                DirectoryObjectKind::User | DirectoryObjectKind::Unknown => {
                    let via = if eligible {
                        Privilege::Eligible
                    } else {
                        Privilege::Direct
                    };
                    holders.add(principal_id, via);
                }
                DirectoryObjectKind::ServicePrincipal | DirectoryObjectKind::Other(_) => {}
            }
        }
        Ok(holders)
    }

    fn add(&mut self, user_id: String, via: Privilege) {
        self.holders.entry(user_id).or_default().insert(via);
    }
}

/// Every member of a group, nested groups expanded by Graph (`transitiveMembers`).
pub async fn group_members(
    graph: &dyn GraphPort,
    group_id: &str,
) -> Result<Vec<DirectoryObject>, GraphError> {
    let mut members = Vec::new();
    let mut link: Option<String> = None;
    loop {
        let page = graph.list_group_members(group_id, link.as_deref()).await?;
        members.extend(page.items);
        match page.next_link {
            Some(next) => link = Some(next),
            None => return Ok(members),
        }
    }
}
