//! The Graph port of a tenant whose credential cannot be resolved or used (a deleted Secrets
//! Manager secret, an unreadable PEM): every read fails with
//! [`GraphError::CredentialUnavailable`], so the jobs run their usual failure path and the
//! break-glass job raises the tenant's `monitoring.blind` once per outage, as for any other
//! credential failure, instead of the run failing before the job.

use std::sync::Arc;

use async_trait::async_trait;

use super::model::{
    DirectoryAudit, DirectoryObject, GroupEligibilitySchedule, RoleAssignment, RoleDefinition,
    RoleEligibilitySchedule, SignIn, User,
};
use super::{AuditQuery, GraphError, GraphPort, Page, SignInQuery, TenantLabel, UserQuery};

pub struct UnavailableGraph {
    tenant: Arc<TenantLabel>,
    reason: String,
}

impl UnavailableGraph {
    /// `reason` says what failed; it must not contain a secret (secret errors name the reference).
    pub fn new(tenant: TenantLabel, reason: impl Into<String>) -> UnavailableGraph {
        UnavailableGraph {
            tenant: Arc::new(tenant),
            reason: reason.into(),
        }
    }

    fn error(&self) -> GraphError {
        GraphError::CredentialUnavailable {
            tenant: self.tenant.clone(),
            reason: self.reason.clone(),
        }
    }
}

#[async_trait]
impl GraphPort for UnavailableGraph {
    async fn list_users(&self, _: &UserQuery, _: Option<&str>) -> Result<Page<User>, GraphError> {
        Err(self.error())
    }

    async fn get_user(&self, _: &str) -> Result<Option<User>, GraphError> {
        Err(self.error())
    }

    async fn list_sign_ins(
        &self,
        _: &SignInQuery,
        _: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        Err(self.error())
    }

    async fn list_directory_audits(
        &self,
        _: &AuditQuery,
        _: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        Err(self.error())
    }

    async fn list_role_assignments(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        Err(self.error())
    }

    async fn list_role_eligibility_schedules(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        Err(self.error())
    }

    async fn list_group_members(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        Err(self.error())
    }

    async fn list_role_definitions(
        &self,
        _: Option<&str>,
    ) -> Result<Page<RoleDefinition>, GraphError> {
        Err(self.error())
    }

    async fn list_group_eligibility_schedules(
        &self,
        _: &str,
        _: Option<&str>,
    ) -> Result<Page<GroupEligibilitySchedule>, GraphError> {
        Err(self.error())
    }
}
