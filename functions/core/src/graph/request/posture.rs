//! Requests of the emergency-account posture checks (REFERENCE.md §12).

use super::{ApiVersion, GraphRequest};
use crate::graph::odata::{odata_string, path_segment};

impl GraphRequest {
    /// Every Conditional Access policy of the tenant (Graph docs `conditionalaccessroot-list-policies.md`,
    /// `Policy.Read.All`); one request a second per tenant.
    pub fn conditional_access_policies() -> Self {
        GraphRequest::new(ApiVersion::V1, "/identity/conditionalAccess/policies")
    }

    /// The groups `user_id` is a member of, directly or through nested groups (Graph docs
    /// `user-list-transitivememberof.md`): what a policy's `includeGroups` / `excludeGroups` reach.
    pub fn user_transitive_groups(user_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!(
                "/users/{}/transitiveMemberOf/microsoft.graph.group",
                path_segment(user_id)
            ),
        )
        .param("$select", "id,displayName")
        .top(999)
    }

    /// The authentication methods registered for one user (Graph docs `authentication-list-methods.md`,
    /// `UserAuthenticationMethod.Read.All`; "not for iterating over your entire user population": only the few
    /// emergency accounts are asked).
    pub fn user_authentication_methods(user_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!("/users/{}/authentication/methods", path_segment(user_id)),
        )
    }

    /// The active role assignments of one principal (Graph docs `rbacapplication-list-roleassignments.md`,
    /// example "filter principalId").
    pub fn role_assignments_of(principal_id: &str) -> Self {
        GraphRequest::new(ApiVersion::V1, "/roleManagement/directory/roleAssignments").param(
            "$filter",
            format!("principalId eq {}", odata_string(principal_id)),
        )
    }

    /// PIM's view of the same: whether each active assignment is standing (`Assigned`) or an activation, and
    /// until when (Graph docs `rbacapplication-list-roleassignmentscheduleinstances.md`; needs P2).
    pub fn role_assignment_schedule_instances_of(principal_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            "/roleManagement/directory/roleAssignmentScheduleInstances",
        )
        .param(
            "$filter",
            format!("principalId eq {}", odata_string(principal_id)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posture_requests_quote_ids_and_ask_for_groups_only() {
        assert_eq!(
            GraphRequest::user_transitive_groups("a/b").path_and_query(),
            "/v1.0/users/a%2Fb/transitiveMemberOf/microsoft.graph.group?$select=id,displayName&$top=999"
        );
        assert_eq!(
            GraphRequest::role_assignments_of("o'k").path_and_query(),
            "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20%27o%27%27k%27"
        );
        assert_eq!(
            GraphRequest::conditional_access_policies().path_and_query(),
            "/v1.0/identity/conditionalAccess/policies"
        );
    }
}
