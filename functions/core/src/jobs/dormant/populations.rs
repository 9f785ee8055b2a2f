//! Who holds privilege (REFERENCE.md §3, issue 14): principals of active assignments of a privileged role (see
//! `roles`), members (transitive) of role-assignable groups that hold one, PIM-eligible principals when the tenant
//! has P2, and principals eligible through PIM for Groups for membership or ownership of such a group. A
//! read-only role (Global Reader, Directory Readers) makes nobody privileged. `directoryRoles` lists only
//! activated roles, so it is not used. All of this is read through the directory path (cheap pacing family),
//! once per invocation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::roles::PrivilegedRoles;
use crate::graph::model::{DirectoryObject, DirectoryObjectKind};
use crate::graph::{GraphError, GraphPort};

/// The permission PIM for Groups eligibility needs (Graph docs `privilegedaccessgroup-list-eligibilityschedules.md`).
pub const GROUP_ELIGIBILITY_PERMISSION: &str = "PrivilegedEligibilitySchedule.Read.AzureADGroup";

/// How an account came to be privileged, with the role; its finding lists each distinct way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    Direct(String),
    ThroughGroup {
        group: String,
        role: String,
    },
    Eligible(String),
    /// PIM for Groups: eligible to activate `access` ("member" or "owner") of a group holding a privileged role.
    EligibleThroughGroup {
        group: String,
        access: String,
    },
}

impl Privilege {
    pub fn reason(&self) -> String {
        match self {
            Privilege::Direct(role) => format!("privileged: active {role} assignment"),
            Privilege::ThroughGroup { group, role } => {
                format!("privileged: active {role} assignment through group {group}")
            }
            Privilege::Eligible(role) => format!("privileged: eligible for {role} through PIM"),
            Privilege::EligibleThroughGroup { group, access } => format!(
                "privileged: eligible through PIM for Groups for {} of group {group}, which holds a privileged role",
                if access == "owner" { "ownership" } else { "membership" }
            ),
        }
    }
}

/// A principal holding a privileged role: the role, and whether only eligibly.
struct Holding {
    principal: Option<DirectoryObject>,
    principal_id: String,
    role: String,
    eligible: bool,
}

/// User object id → the ways it holds privilege.
#[derive(Debug, Default)]
pub struct PrivilegedHolders {
    holders: HashMap<String, BTreeSet<Privilege>>,
    /// False when the tenant has no P2 and PIM eligibility could not be read.
    pub eligibility_read: bool,
    /// For the run line: how roles were judged, what could not be read.
    pub notes: Vec<String>,
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

    /// Reads role definitions, assignments, PIM eligibility (a 403 for lack of P2 is not an error), the groups'
    /// members and PIM for Groups eligibility of the groups that hold a privileged role.
    pub async fn read(graph: &dyn GraphPort) -> Result<PrivilegedHolders, GraphError> {
        let roles = PrivilegedRoles::read(graph).await?;
        let mut holders = PrivilegedHolders {
            notes: roles.notes.clone(),
            ..PrivilegedHolders::default()
        };
        let mut held: Vec<Holding> = Vec::new();
        let mut link: Option<String> = None;
        loop {
            let page = graph.list_role_assignments(link.as_deref()).await?;
            for a in page.items {
                if let Some(role) = roles.privileged(&a.role_definition_id) {
                    held.push(Holding {
                        principal: a.principal,
                        principal_id: a.principal_id,
                        role,
                        eligible: false,
                    });
                }
            }
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
                    for s in page.items {
                        if let Some(role) = roles.privileged(&s.role_definition_id) {
                            held.push(Holding {
                                principal: s.principal,
                                principal_id: s.principal_id,
                                role,
                                eligible: true,
                            });
                        }
                    }
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
        // Group id → name, for the groups holding a privileged role (actively or eligibly).
        let mut groups: BTreeMap<String, String> = BTreeMap::new();
        for h in held {
            let kind = h
                .principal
                .as_ref()
                .map_or(DirectoryObjectKind::Unknown, DirectoryObject::kind);
            match kind {
                DirectoryObjectKind::Group => {
                    let name = h
                        .principal
                        .as_ref()
                        .and_then(|p| p.display_name.clone())
                        .unwrap_or_else(|| h.principal_id.clone());
                    let via = if h.eligible {
                        Privilege::Eligible(h.role)
                    } else {
                        Privilege::ThroughGroup {
                            group: name.clone(),
                            role: h.role,
                        }
                    };
                    holders.add_members(graph, &h.principal_id, &via).await?;
                    groups.insert(h.principal_id, name);
                }
                // Users, and principals Graph sent without a type: an id that is not a user never matches one.
                DirectoryObjectKind::User | DirectoryObjectKind::Unknown => {
                    let via = if h.eligible {
                        Privilege::Eligible(h.role)
                    } else {
                        Privilege::Direct(h.role)
                    };
                    holders.add(h.principal_id, via);
                }
                DirectoryObjectKind::ServicePrincipal | DirectoryObjectKind::Other(_) => {}
            }
        }
        holders.read_group_eligibility(graph, &groups).await?;
        Ok(holders)
    }

    /// PIM for Groups: principals eligible for membership of a privileged group will hold its roles once they
    /// activate; owners are counted too, since an owner can add themselves (or anyone) as a member. A 403 (the
    /// permission not granted, or no P2) is a note: the rest of the job does not need it.
    async fn read_group_eligibility(
        &mut self,
        graph: &dyn GraphPort,
        groups: &BTreeMap<String, String>,
    ) -> Result<(), GraphError> {
        for (group_id, name) in groups {
            let mut link: Option<String> = None;
            loop {
                let page = match graph
                    .list_group_eligibility_schedules(group_id, link.as_deref())
                    .await
                {
                    Ok(page) => page,
                    Err(
                        GraphError::PermissionMissing { .. }
                        | GraphError::LicenceRequired { .. }
                        | GraphError::Api { status: 403, .. },
                    ) => {
                        self.notes.push(format!(
                            "PIM for Groups eligibility not read (Graph answered 403: the app needs \
                             {GROUP_ELIGIBILITY_PERMISSION}, the tenant Entra ID P2): principals eligible for \
                             privileged groups are not counted as privileged"
                        ));
                        return Ok(());
                    }
                    // The request's shape (`$expand=principal` with the `groupId` filter) is read from Graph's
                    // docs, not tried on a live tenant: a refusal must cost this one reading, not the scan.
                    Err(GraphError::Api {
                        status: 400,
                        message,
                        ..
                    }) => {
                        self.notes.push(format!(
                            "PIM for Groups eligibility not read (Graph refused the request: {message}): principals \
                             eligible for privileged groups are not counted as privileged"
                        ));
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                };
                for s in page.items {
                    let access = s
                        .access_id
                        .as_deref()
                        .unwrap_or("member")
                        .to_ascii_lowercase();
                    if access != "member" && access != "owner" {
                        continue;
                    }
                    let via = Privilege::EligibleThroughGroup {
                        group: name.clone(),
                        access,
                    };
                    let kind = s
                        .principal
                        .as_ref()
                        .map_or(DirectoryObjectKind::Unknown, DirectoryObject::kind);
                    match kind {
                        DirectoryObjectKind::Group => {
                            self.add_members(graph, &s.principal_id, &via).await?
                        }
                        DirectoryObjectKind::User | DirectoryObjectKind::Unknown => {
                            self.add(s.principal_id, via)
                        }
                        DirectoryObjectKind::ServicePrincipal | DirectoryObjectKind::Other(_) => {}
                    }
                }
                match page.next_link {
                    Some(next) => link = Some(next),
                    None => break,
                }
            }
        }
        Ok(())
    }

    async fn add_members(
        &mut self,
        graph: &dyn GraphPort,
        group_id: &str,
        via: &Privilege,
    ) -> Result<(), GraphError> {
        for member in group_members(graph, group_id).await? {
            if member.kind() == DirectoryObjectKind::User {
                self.add(member.id, via.clone());
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::super::fake_roles::*;
    use super::*;

    fn roles() -> Vec<serde_json::Value> {
        vec![
            definition(GLOBAL_ADMIN, "Global Administrator", Some(true)),
            definition(GLOBAL_READER, "Global Reader", Some(false)),
        ]
    }

    fn reasons(holders: &PrivilegedHolders, id: &str) -> Vec<String> {
        holders
            .of(id)
            .map(|set| set.iter().map(Privilege::reason).collect())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_read_only_role_makes_nobody_privileged() {
        let graph = FakeRoles {
            definitions: roles(),
            assignments: vec![
                holding(GLOBAL_READER, user("reader")),
                holding(GLOBAL_ADMIN, user("admin")),
            ],
            eligibilities: vec![holding(GLOBAL_READER, user("eligible-reader"))],
            ..FakeRoles::default()
        };
        let holders = PrivilegedHolders::read(&graph).await.unwrap();
        assert_eq!(holders.of("reader"), None);
        assert_eq!(holders.of("eligible-reader"), None);
        assert_eq!(
            reasons(&holders, "admin"),
            ["privileged: active Global Administrator assignment"]
        );
        assert!(holders.notes.is_empty(), "{:?}", holders.notes);
    }

    #[tokio::test]
    async fn pim_for_groups_eligibility_for_a_privileged_group_makes_members_and_owners_privileged()
    {
        let tier0 = group("g-tier0", "Tier0 Admins");
        let graph = FakeRoles {
            definitions: roles(),
            assignments: vec![holding(GLOBAL_ADMIN, tier0.clone())],
            members: vec![
                ("g-tier0".into(), vec![user("standing")]),
                ("g-oncall".into(), vec![user("oncall-1")]),
            ],
            group_eligibilities: vec![
                group_eligibility("g-tier0", "member", user("candidate")),
                group_eligibility("g-tier0", "owner", user("owner")),
                group_eligibility("g-tier0", "member", group("g-oncall", "On-call")),
                // A group holding only a read-only role: its eligibility is never read.
                group_eligibility("g-readers", "member", user("reader-candidate")),
            ],
            ..FakeRoles::default()
        };
        let holders = PrivilegedHolders::read(&graph).await.unwrap();
        assert_eq!(
            reasons(&holders, "standing"),
            ["privileged: active Global Administrator assignment through group Tier0 Admins"]
        );
        assert_eq!(
            reasons(&holders, "candidate"),
            ["privileged: eligible through PIM for Groups for membership of group Tier0 Admins, which holds a \
              privileged role"]
        );
        assert!(reasons(&holders, "owner")[0].contains("for ownership of group Tier0 Admins"));
        assert!(
            holders.of("oncall-1").is_some(),
            "a group principal is expanded"
        );
        assert_eq!(holders.of("reader-candidate"), None);
    }

    #[tokio::test]
    async fn definitions_without_is_privileged_fall_back_to_the_template_list() {
        let graph = FakeRoles {
            definitions: vec![
                definition(GLOBAL_ADMIN, "Global Administrator", None),
                definition(GLOBAL_READER, "Global Reader", None),
            ],
            assignments: vec![
                holding(GLOBAL_ADMIN, user("admin")),
                holding(GLOBAL_READER, user("reader")),
            ],
            ..FakeRoles::default()
        };
        let holders = PrivilegedHolders::read(&graph).await.unwrap();
        assert!(holders.of("admin").is_some());
        assert_eq!(
            holders.of("reader"),
            None,
            "Global Reader is not in the list"
        );
        assert_eq!(
            holders.notes,
            ["2 role definitions carry no isPrivileged (e.g. Global Administrator): judged by entrawatch's \
              list of built-in privileged roles"]
        );
    }

    #[tokio::test]
    async fn a_refused_select_falls_back_to_the_template_list_with_its_names() {
        let graph = FakeRoles {
            refuse_definitions: true,
            assignments: vec![
                holding(GLOBAL_ADMIN, user("admin")),
                holding(GLOBAL_READER, user("reader")),
            ],
            ..FakeRoles::default()
        };
        let holders = PrivilegedHolders::read(&graph).await.unwrap();
        assert_eq!(
            reasons(&holders, "admin"),
            ["privileged: active Global Administrator assignment"]
        );
        assert_eq!(holders.of("reader"), None);
        assert!(
            holders.notes[0].starts_with("Graph refused isPrivileged on roleDefinitions"),
            "{:?}",
            holders.notes
        );
    }

    /// Global Administrator held directly by "admin" and through group Tier0 Admins by "standing".
    fn tier0_admins() -> FakeRoles {
        FakeRoles {
            definitions: roles(),
            assignments: vec![
                holding(GLOBAL_ADMIN, group("g-tier0", "Tier0 Admins")),
                holding(GLOBAL_ADMIN, user("admin")),
            ],
            members: vec![("g-tier0".into(), vec![user("standing")])],
            ..FakeRoles::default()
        }
    }

    #[tokio::test]
    async fn a_403_on_group_eligibility_is_a_note_naming_the_permission() {
        let graph = FakeRoles {
            forbid_group_eligibility: true,
            ..tier0_admins()
        };
        let holders = PrivilegedHolders::read(&graph).await.unwrap();
        assert!(holders.of("admin").is_some() && holders.of("standing").is_some());
        assert_eq!(holders.notes.len(), 1);
        assert!(
            holders.notes[0].contains(GROUP_ELIGIBILITY_PERMISSION),
            "{:?}",
            holders.notes
        );
    }

    #[tokio::test]
    async fn a_400_on_group_eligibility_is_a_note_and_the_rest_is_read() {
        let graph = FakeRoles {
            refuse_group_eligibility: true,
            ..tier0_admins()
        };
        let holders = PrivilegedHolders::read(&graph).await.unwrap();
        assert!(holders.of("admin").is_some() && holders.of("standing").is_some());
        assert_eq!(
            holders.notes,
            ["PIM for Groups eligibility not read (Graph refused the request: Invalid $expand): principals \
              eligible for privileged groups are not counted as privileged"]
        );
    }
}
