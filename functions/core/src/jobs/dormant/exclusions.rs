//! Accounts never reported as dormant. Emergency-access accounts come first: Microsoft says they must stay out of
//! automated cleanup for lack of use (Entra docs `security-emergency-access.md`, REFERENCE.md §1), and reporting
//! them is the most common complaint about existing tools (REFERENCE.md §9). They are matched by object id, the
//! one list the whole product uses; UPN patterns are the only name-based rule and are configured explicitly.

use std::collections::HashSet;

use super::populations::group_members;
use crate::alert::glob_matches;
use crate::config::DormantConfig;
use crate::graph::model::{DirectoryObjectKind, User};
use crate::graph::{GraphError, GraphPort};

/// Why an account is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    BreakGlass,
    User,
    Group,
    UpnPattern,
}

#[derive(Debug, Default)]
pub struct Exclusions {
    break_glass: HashSet<String>,
    users: HashSet<String>,
    group_members: HashSet<String>,
    /// Lower-cased: UPNs compare case-insensitively in Entra ID.
    upn_patterns: Vec<String>,
}

impl Exclusions {
    /// Reads the members (transitive) of `exclude_groups` through the directory path.
    pub async fn read(
        graph: &dyn GraphPort,
        config: &DormantConfig,
        break_glass: &[String],
    ) -> Result<Exclusions, GraphError> {
        let mut group_members_set = HashSet::new();
        for group in &config.exclude_groups {
            for member in group_members(graph, group).await? {
                if member.kind() == DirectoryObjectKind::User {
                    group_members_set.insert(lower(&member.id));
                }
            }
        }
        Ok(Exclusions {
            break_glass: break_glass.iter().map(|id| lower(id)).collect(),
            users: config.exclude_users.iter().map(|id| lower(id)).collect(),
            group_members: group_members_set,
            upn_patterns: config
                .exclude_upn_patterns
                .iter()
                .map(|p| p.to_lowercase())
                .collect(),
        })
    }

    pub fn check(&self, user: &User) -> Option<Exclusion> {
        let id = lower(&user.id);
        if self.break_glass.contains(&id) {
            return Some(Exclusion::BreakGlass);
        }
        if self.users.contains(&id) {
            return Some(Exclusion::User);
        }
        if self.group_members.contains(&id) {
            return Some(Exclusion::Group);
        }
        let upn = user
            .user_principal_name
            .as_deref()
            .unwrap_or("")
            .to_lowercase();
        if !upn.is_empty() && self.upn_patterns.iter().any(|p| glob_matches(p, &upn)) {
            return Some(Exclusion::UpnPattern);
        }
        None
    }
}

/// Object ids are GUIDs: compare them case-insensitively.
fn lower(id: &str) -> String {
    id.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, upn: &str) -> User {
        serde_json::from_value(serde_json::json!({"id": id, "userPrincipalName": upn}))
            .unwrap_or_else(|e| panic!("user: {e}"))
    }

    #[test]
    fn break_glass_wins_and_patterns_ignore_case() {
        let x = Exclusions {
            break_glass: ["bg".to_string()].into(),
            users: ["bg".to_string(), "u1".to_string()].into(),
            group_members: HashSet::new(),
            upn_patterns: vec!["svc-*@contoso.com".into()],
        };
        assert_eq!(x.check(&user("BG", "a@b")), Some(Exclusion::BreakGlass));
        assert_eq!(x.check(&user("u1", "a@b")), Some(Exclusion::User));
        assert_eq!(
            x.check(&user("u2", "SVC-backup@Contoso.com")),
            Some(Exclusion::UpnPattern)
        );
        assert_eq!(x.check(&user("u3", "alice@contoso.com")), None);
    }
}
