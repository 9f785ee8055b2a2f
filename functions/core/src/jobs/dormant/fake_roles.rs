//! An in-memory Graph port over role definitions, assignments, eligibilities and group members, for the
//! privilege tests in `populations.rs`. Rows are shaped like Graph's (assignment rows as in Graph docs
//! `rbacapplication-list-roleassignments.md` example 1: `roleDefinitionId`, `principalId`, expanded `principal`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::graph::model::{
    DirectoryAudit, DirectoryObject, GroupEligibilitySchedule, RoleAssignment, RoleDefinition,
    RoleEligibilitySchedule, SignIn, User,
};
use crate::graph::{AuditQuery, GraphError, GraphPort, Page, SignInQuery, TenantLabel, UserQuery};

pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
pub const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

#[derive(Default)]
pub struct FakeRoles {
    pub definitions: Vec<Value>,
    pub assignments: Vec<Value>,
    pub eligibilities: Vec<Value>,
    /// Group id → member rows.
    pub members: Vec<(String, Vec<Value>)>,
    pub group_eligibilities: Vec<Value>,
    /// Answer 400 to the roleDefinitions `$select`.
    pub refuse_definitions: bool,
    /// Answer 403 to PIM for Groups eligibility.
    pub forbid_group_eligibility: bool,
    /// Answer 400 to PIM for Groups eligibility (a Graph that refuses the request's shape).
    pub refuse_group_eligibility: bool,
}

pub fn definition(id: &str, name: &str, privileged: Option<bool>) -> Value {
    let mut v = json!({"id": id, "templateId": id, "displayName": name});
    if let Some(p) = privileged {
        v["isPrivileged"] = json!(p);
    }
    v
}

pub fn user(id: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": id, "displayName": id})
}

pub fn group(id: &str, name: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.group", "id": id, "displayName": name})
}

/// An assignment (or eligibility) row of `role` to `principal` (a [`user`] or [`group`] row).
pub fn holding(role: &str, principal: Value) -> Value {
    json!({"id": format!("{role}-{}", principal["id"].as_str().unwrap_or_default()),
           "principalId": principal["id"], "roleDefinitionId": role, "directoryScopeId": "/",
           "principal": principal})
}

/// A PIM for Groups eligibility (Graph docs `resources/privilegedaccessgroupeligibilityschedule.md`).
pub fn group_eligibility(group_id: &str, access: &str, principal: Value) -> Value {
    json!({"id": format!("{group_id}-{access}"), "groupId": group_id, "accessId": access,
           "principalId": principal["id"], "memberType": "direct", "status": "Provisioned",
           "principal": principal})
}

fn page<T: serde::de::DeserializeOwned>(rows: &[Value]) -> Page<T> {
    serde_json::from_value(json!({ "value": rows })).expect("a page body")
}

fn label() -> Arc<TenantLabel> {
    Arc::new(TenantLabel {
        name: "contoso".into(),
        id: "t1".into(),
    })
}

#[async_trait]
impl GraphPort for FakeRoles {
    async fn list_users(&self, _: &UserQuery, _: Option<&str>) -> Result<Page<User>, GraphError> {
        unimplemented!("privilege reads list no users")
    }
    async fn get_user(&self, _: &str) -> Result<Option<User>, GraphError> {
        unimplemented!("privilege reads get no user")
    }
    async fn list_sign_ins(
        &self,
        _: &SignInQuery,
        _: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        unimplemented!("privilege reads read no sign-ins")
    }
    async fn list_directory_audits(
        &self,
        _: &AuditQuery,
        _: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        unimplemented!("privilege reads read no audits")
    }
    async fn list_role_assignments(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        Ok(page(&self.assignments))
    }
    async fn list_role_eligibility_schedules(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        Ok(page(&self.eligibilities))
    }
    async fn list_group_members(
        &self,
        group_id: &str,
        _: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        let rows = self
            .members
            .iter()
            .find(|(g, _)| g == group_id)
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        Ok(page(&rows))
    }
    async fn list_role_definitions(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleDefinition>, GraphError> {
        if self.refuse_definitions {
            return Err(GraphError::Api {
                tenant: label(),
                status: 400,
                code: "BadRequest".into(),
                message: "Could not find a property named 'isPrivileged'".into(),
                path: "/v1.0/roleManagement/directory/roleDefinitions".into(),
            });
        }
        Ok(page(&self.definitions))
    }
    async fn list_group_eligibility_schedules(
        &self,
        group_id: &str,
        _: Option<&str>,
    ) -> Result<Page<GroupEligibilitySchedule>, GraphError> {
        if self.refuse_group_eligibility {
            return Err(GraphError::Api {
                tenant: label(),
                status: 400,
                code: "BadRequest".into(),
                message: "Invalid $expand".into(),
                path: "/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules".into(),
            });
        }
        if self.forbid_group_eligibility {
            return Err(GraphError::PermissionMissing {
                tenant: label(),
                permission: "PrivilegedEligibilitySchedule.Read.AzureADGroup".into(),
                code: "Authorization_RequestDenied".into(),
                path: "/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules".into(),
            });
        }
        let rows: Vec<Value> = self
            .group_eligibilities
            .iter()
            .filter(|s| s["groupId"] == json!(group_id))
            .cloned()
            .collect();
        Ok(page(&rows))
    }
}
