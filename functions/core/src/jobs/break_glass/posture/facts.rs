//! What the posture rules judge, read from Graph for each emergency account. A permission or licence Graph
//! refuses leaves that check unjudged (a note naming what is missing), never the job failed.

use std::collections::HashSet;

use crate::graph::model::{
    AuthenticationMethod, ConditionalAccessPolicy, RoleAssignment, RoleAssignmentScheduleInstance,
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

/// Why Graph refused for a reason the operator fixes ("the app lacks Policy.Read.All"); any other error is the
/// caller's.
fn reason(e: GraphError) -> Result<String, JobError> {
    match e {
        GraphError::PermissionMissing { permission, .. } => {
            Ok(format!("the app lacks {permission}"))
        }
        GraphError::LicenceRequired { needs, .. } => Ok(format!("it needs {needs}")),
        other => Err(other.into()),
    }
}

fn refused<T>(what: &str, e: GraphError) -> Result<Read<T>, JobError> {
    Ok(Read::Refused(format!("{what} not checked: {}", reason(e)?)))
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

/// The account's active role assignments (directly assigned): what a policy's roles reach, and without P2 what
/// says whether Global Administrator is standing. Read once per account and check.
pub(super) async fn assignments(
    ctx: &JobContext,
    id: &str,
) -> Result<Result<Vec<RoleAssignment>, String>, JobError> {
    let graph = ctx.graph.clone();
    let read = all(|next| {
        let graph = graph.clone();
        async move { graph.list_role_assignments_of(id, next.as_deref()).await }
    })
    .await;
    match read {
        Ok(a) => Ok(Ok(a)),
        Err(e) => Ok(Err(reason(e)?)),
    }
}

/// The account's transitive groups and the role template ids it holds actively (`assignments`).
pub(super) async fn scope(
    ctx: &JobContext,
    id: &str,
    assignments: &Result<Vec<RoleAssignment>, String>,
) -> Result<Read<AccountScope>, JobError> {
    const CHECK: &str = "Conditional Access exclusions (ca_exclusion)";
    let graph = ctx.graph.clone();
    let groups = match all(|next| {
        let graph = graph.clone();
        async move { graph.list_user_groups(id, next.as_deref()).await }
    })
    .await
    {
        Ok(g) => g,
        Err(e) => return refused(CHECK, e),
    };
    let roles = match assignments {
        Ok(r) => r,
        Err(why) => return Ok(Read::Refused(format!("{CHECK} not checked: {why}"))),
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
    assignments: &Result<Vec<RoleAssignment>, String>,
) -> Result<Read<Vec<RoleAssignmentScheduleInstance>>, JobError> {
    const CHECK: &str = "permanent Global Administrator (permanent_role)";
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
        Err(GraphError::LicenceRequired { .. }) => match assignments {
            Ok(a) => Ok(Read::Got(
                a.iter()
                    .map(|a| RoleAssignmentScheduleInstance {
                        id: a.id.clone(),
                        principal_id: a.principal_id.clone(),
                        role_definition_id: a.role_definition_id.clone(),
                        directory_scope_id: a.directory_scope_id.clone(),
                        assignment_type: Some("Assigned".into()),
                        member_type: None,
                        end_date_time: None,
                    })
                    .collect(),
            )),
            Err(why) => Ok(Read::Refused(format!("{CHECK} not checked: {why}"))),
        },
        Err(e) => refused(CHECK, e),
    }
}
