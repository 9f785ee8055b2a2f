//! What the posture rules judge, read from Graph for each emergency account. A permission or licence Graph
//! refuses leaves that check unjudged (a note naming what is missing), never the job failed.

use std::collections::HashSet;

use crate::graph::model::{
    AuthenticationMethod, ConditionalAccessPolicy, RoleAssignmentScheduleInstance,
};
use crate::graph::{GraphError, Page};

use super::super::super::{JobContext, JobError};
use super::rules::AccountScope;

/// A read that Graph refused for a reason the operator fixes (permission, licence): the note says which.
pub(super) enum Read<T> {
    Got(T),
    Refused(String),
}

/// Follows `@odata.nextLink` to the end.
async fn all<T, F, Fut>(mut page: F) -> Result<Vec<T>, GraphError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, GraphError>>,
{
    let mut items = Vec::new();
    let mut next = None;
    loop {
        let p = page(next).await?;
        items.extend(p.items);
        match p.next_link {
            Some(link) => next = Some(link),
            None => return Ok(items),
        }
    }
}

fn refused<T>(what: &str, e: GraphError) -> Result<Read<T>, JobError> {
    match e {
        GraphError::PermissionMissing { permission, .. } => Ok(Read::Refused(format!(
            "{what} not checked: the app lacks {permission}"
        ))),
        GraphError::LicenceRequired { needs, .. } => Ok(Read::Refused(format!(
            "{what} not checked: it needs {needs}"
        ))),
        other => Err(other.into()),
    }
}

pub(super) async fn policies(
    ctx: &JobContext,
) -> Result<Read<Vec<ConditionalAccessPolicy>>, JobError> {
    let graph = ctx.graph.clone();
    match all(|next| {
        let graph = graph.clone();
        async move {
            graph
                .list_conditional_access_policies(next.as_deref())
                .await
        }
    })
    .await
    {
        Ok(p) => Ok(Read::Got(p)),
        Err(e) => refused("Conditional Access exclusions (ca_exclusion)", e),
    }
}

/// The account's transitive groups and the role template ids it holds actively (directly assigned).
pub(super) async fn scope(ctx: &JobContext, id: &str) -> Result<Read<AccountScope>, JobError> {
    let graph = ctx.graph.clone();
    let groups = match all(|next| {
        let graph = graph.clone();
        async move { graph.list_user_groups(id, next.as_deref()).await }
    })
    .await
    {
        Ok(g) => g,
        Err(e) => return refused("Conditional Access exclusions (ca_exclusion)", e),
    };
    let roles = match all(|next| {
        let graph = graph.clone();
        async move { graph.list_role_assignments_of(id, next.as_deref()).await }
    })
    .await
    {
        Ok(r) => r,
        Err(e) => return refused("Conditional Access exclusions (ca_exclusion)", e),
    };
    Ok(Read::Got(AccountScope {
        id: id.to_ascii_lowercase(),
        groups: groups.iter().map(|g| g.id.to_ascii_lowercase()).collect(),
        roles: roles
            .iter()
            .map(|r| r.role_definition_id.to_ascii_lowercase())
            .collect::<HashSet<_>>(),
    }))
}

pub(super) async fn methods(
    ctx: &JobContext,
    id: &str,
) -> Result<Read<Vec<AuthenticationMethod>>, JobError> {
    let graph = ctx.graph.clone();
    match all(|next| {
        let graph = graph.clone();
        async move { graph.list_authentication_methods(id, next.as_deref()).await }
    })
    .await
    {
        Ok(m) => Ok(Read::Got(m)),
        Err(e) => refused("phishing-resistant methods (phishing_resistant_method)", e),
    }
}

/// PIM's active assignment instances of the account. Without P2 there is no PIM and so no time-bound
/// assignment: every active assignment is standing and permanent, and the plain role assignments say it.
pub(super) async fn standing_roles(
    ctx: &JobContext,
    id: &str,
) -> Result<Read<Vec<RoleAssignmentScheduleInstance>>, JobError> {
    let graph = ctx.graph.clone();
    let instances = all(|next| {
        let graph = graph.clone();
        async move {
            graph
                .list_role_assignment_instances_of(id, next.as_deref())
                .await
        }
    })
    .await;
    match instances {
        Ok(i) => Ok(Read::Got(i)),
        Err(GraphError::LicenceRequired { .. }) => {
            let assignments = all(|next| {
                let graph = graph.clone();
                async move { graph.list_role_assignments_of(id, next.as_deref()).await }
            })
            .await;
            match assignments {
                Ok(a) => Ok(Read::Got(
                    a.into_iter()
                        .map(|a| RoleAssignmentScheduleInstance {
                            id: a.id,
                            principal_id: a.principal_id,
                            role_definition_id: a.role_definition_id,
                            directory_scope_id: a.directory_scope_id,
                            assignment_type: Some("Assigned".into()),
                            member_type: None,
                            end_date_time: None,
                        })
                        .collect(),
                )),
                Err(e) => refused("permanent Global Administrator (permanent_role)", e),
            }
        }
        Err(e) => refused("permanent Global Administrator (permanent_role)", e),
    }
}
