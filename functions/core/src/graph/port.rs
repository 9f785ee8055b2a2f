//! The Graph port: the narrow reads the jobs make, so detections can be tested against an in-memory fake.
//!
//! Each list method returns one page given the previous page's `next_link` (`None` for the first page): a job
//! loops until `next_link` is `None` and can checkpoint the link between pages.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::client::GraphClient;
use super::error::GraphError;
use super::model::{
    DirectoryAudit, DirectoryObject, GroupEligibilitySchedule, RoleAssignment, RoleDefinition,
    RoleEligibilitySchedule, SignIn, User,
};
use super::pacing::Family;
use super::pager::Page;
use super::request::{AuditQuery, GraphRequest, SignInQuery, UserQuery};

/// Reads the jobs need from Microsoft Graph, for one tenant.
#[async_trait]
pub trait GraphPort: Send + Sync {
    /// Users (with `signInActivity` when selected), 500 or 999 a page.
    async fn list_users(
        &self,
        query: &UserQuery,
        next_link: Option<&str>,
    ) -> Result<Page<User>, GraphError>;

    /// One user by object id with `signInActivity`; `None` if it does not exist.
    async fn get_user(&self, id: &str) -> Result<Option<User>, GraphError>;

    /// Users by object id (at most [`super::IDS_PER_LOOKUP`]) with `signInActivity`, in one request sent only
    /// if Graph's budget has room for it now: `None` (nothing sent) means "not now, ask in a later run". An id
    /// with no user is absent from the answer. The default asks [`GraphPort::get_user`] for each (test fakes).
    async fn lookup_users_if_affordable(
        &self,
        ids: &[String],
    ) -> Result<Option<Vec<User>>, GraphError> {
        let mut users = Vec::new();
        for id in ids {
            users.extend(self.get_user(id).await?);
        }
        Ok(Some(users))
    }

    /// Sign-ins of some users in a window (interactive on v1.0, non-interactive on beta).
    async fn list_sign_ins(
        &self,
        query: &SignInQuery,
        next_link: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError>;

    /// Directory audits targeting one object in a window.
    async fn list_directory_audits(
        &self,
        query: &AuditQuery,
        next_link: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError>;

    /// Active role assignments with their principal.
    async fn list_role_assignments(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError>;

    /// PIM eligibility schedules. A tenant without P2 gives [`GraphError::LicenceRequired`].
    async fn list_role_eligibility_schedules(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError>;

    /// Members of a group, nested groups expanded.
    async fn list_group_members(
        &self,
        group_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError>;

    /// Directory role definitions with `isPrivileged`. Graph may refuse the `$select` (400).
    async fn list_role_definitions(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<RoleDefinition>, GraphError>;

    /// PIM for Groups eligibility schedules of one group. Without the permission (or P2) Graph answers 403.
    async fn list_group_eligibility_schedules(
        &self,
        group_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<GroupEligibilitySchedule>, GraphError>;

    /// How many users the tenant has, for progress only (a directory read). `None` when this port cannot
    /// count (test fakes): progress then shows a count without a total.
    async fn count_users(&self) -> Result<Option<u64>, GraphError> {
        Ok(None)
    }

    /// What Graph's budget says `requests` more requests of `families` take at least, from now: the client's
    /// pacing replayed over them. `None` when this port does not pace (test fakes).
    fn budget_time(&self, _families: &[Family], _requests: u64) -> Option<Duration> {
        None
    }
}

#[async_trait]
impl GraphPort for GraphClient {
    async fn list_users(
        &self,
        query: &UserQuery,
        next_link: Option<&str>,
    ) -> Result<Page<User>, GraphError> {
        self.page(&GraphRequest::users(query), next_link).await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, GraphError> {
        self.get_optional(&GraphRequest::user(id)).await
    }

    async fn lookup_users_if_affordable(
        &self,
        ids: &[String],
    ) -> Result<Option<Vec<User>>, GraphError> {
        let url = self.request_url(&GraphRequest::users_by_id(ids))?;
        let page: Option<Page<User>> = self.get_json_if_affordable(&url).await?;
        Ok(page.map(|p| p.items))
    }

    async fn list_sign_ins(
        &self,
        query: &SignInQuery,
        next_link: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        self.page(&GraphRequest::sign_ins(query), next_link).await
    }

    async fn list_directory_audits(
        &self,
        query: &AuditQuery,
        next_link: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        self.page(&GraphRequest::directory_audits(query), next_link)
            .await
    }

    async fn list_role_assignments(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        self.page(&GraphRequest::role_assignments(), next_link)
            .await
    }

    async fn list_role_eligibility_schedules(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        self.page(&GraphRequest::role_eligibility_schedules(), next_link)
            .await
    }

    async fn list_group_members(
        &self,
        group_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        self.page(&GraphRequest::group_transitive_members(group_id), next_link)
            .await
    }

    async fn list_role_definitions(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<RoleDefinition>, GraphError> {
        self.page(&GraphRequest::role_definitions(), next_link)
            .await
    }

    async fn list_group_eligibility_schedules(
        &self,
        group_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<GroupEligibilitySchedule>, GraphError> {
        self.page(
            &GraphRequest::group_eligibility_schedules(group_id),
            next_link,
        )
        .await
    }

    async fn count_users(&self) -> Result<Option<u64>, GraphError> {
        self.user_count().await.map(Some)
    }

    fn budget_time(&self, families: &[Family], requests: u64) -> Option<Duration> {
        Some(
            self.inner
                .pacer
                .time_for(families, requests, Instant::now()),
        )
    }
}
