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
    AppCredentialSignInActivity, AppRoleAssignment, Application, AuthenticationMethod,
    ConditionalAccessPolicy, DirectoryAudit, DirectoryObject, FederatedIdentityCredential,
    GroupEligibilitySchedule, RoleAssignment, RoleAssignmentScheduleInstance, RoleDefinition,
    RoleEligibilitySchedule, ServicePrincipal, ServicePrincipalSignInActivity, SignIn, User,
    UserRegistrationDetails,
};
use super::pacing::Family;
use super::pager::Page;
use super::request::{AuditQuery, AuditSource, GraphRequest, SignInQuery, TimeWindow, UserQuery};

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

    /// App registrations with their secrets and certificates. The workload reads default to "none here" so test
    /// fakes of the user jobs need not implement them.
    async fn list_applications(
        &self,
        _next_link: Option<&str>,
    ) -> Result<Page<Application>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Service principals with their secrets and certificates.
    async fn list_service_principals(
        &self,
        _next_link: Option<&str>,
    ) -> Result<Page<ServicePrincipal>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// One app registration by object id (id, appId, displayName), `None` if it does not exist.
    async fn get_application(&self, _id: &str) -> Result<Option<Application>, GraphError> {
        Ok(None)
    }

    /// The service principal of an app in this tenant, if there is one.
    async fn service_principal_of_app(
        &self,
        _app_id: &str,
    ) -> Result<Option<ServicePrincipal>, GraphError> {
        Ok(None)
    }

    /// Federated identity credentials of an app registration (by object id).
    async fn list_federated_credentials(
        &self,
        _application_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<FederatedIdentityCredential>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// App roles of the resource service principal `resource_id` granted to anyone.
    async fn list_app_role_assigned_to(
        &self,
        _resource_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<AppRoleAssignment>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// App roles granted to the service principal `principal_id`.
    async fn list_app_role_assignments_of(
        &self,
        _principal_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<AppRoleAssignment>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Beta: when each app credential was last used (P1; a reports request).
    async fn list_app_credential_sign_in_activities(
        &self,
        _next_link: Option<&str>,
    ) -> Result<Page<AppCredentialSignInActivity>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Beta: each service principal's last sign-ins (P1; a reports request).
    async fn list_service_principal_sign_in_activities(
        &self,
        _next_link: Option<&str>,
    ) -> Result<Page<ServicePrincipalSignInActivity>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Successful interactive sign-ins of every user in a window.
    async fn list_successful_sign_ins(
        &self,
        _window: &TimeWindow,
        _next_link: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Directory audits of one category or logging service in a window.
    async fn list_audits_from(
        &self,
        _source: AuditSource,
        _window: &TimeWindow,
        _next_link: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Conditional Access policies (posture checks). Defaults, like the workload reads, to "none here" for
    /// test fakes of the other jobs.
    async fn list_conditional_access_policies(
        &self,
        _next_link: Option<&str>,
    ) -> Result<Page<ConditionalAccessPolicy>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// The groups a user is a transitive member of.
    async fn list_user_groups(
        &self,
        _user_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// The authentication methods registered for a user.
    async fn list_authentication_methods(
        &self,
        _user_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<AuthenticationMethod>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Active role assignments of one principal.
    async fn list_role_assignments_of(
        &self,
        _principal_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// PIM's active role assignment instances of one principal (P2).
    async fn list_role_assignment_instances_of(
        &self,
        _principal_id: &str,
        _next_link: Option<&str>,
    ) -> Result<Page<RoleAssignmentScheduleInstance>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

    /// Every user's registered authentication methods (the registration report: P1, `AuditLog.Read.All`; a
    /// reports request). The default is "none here", for fakes of the jobs that do not read it.
    async fn list_user_registration_details(
        &self,
        _next_link: Option<&str>,
    ) -> Result<Page<UserRegistrationDetails>, GraphError> {
        Ok(Page::of(Vec::new(), None))
    }

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

    async fn list_applications(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<Application>, GraphError> {
        self.page(&GraphRequest::applications(), next_link).await
    }

    async fn list_service_principals(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<ServicePrincipal>, GraphError> {
        self.page(&GraphRequest::service_principals(), next_link)
            .await
    }

    async fn get_application(&self, id: &str) -> Result<Option<Application>, GraphError> {
        self.get_optional(&GraphRequest::application(id)).await
    }

    async fn service_principal_of_app(
        &self,
        app_id: &str,
    ) -> Result<Option<ServicePrincipal>, GraphError> {
        let page = self
            .page(&GraphRequest::service_principal_of_app(app_id), None)
            .await?;
        Ok(page.items.into_iter().next())
    }

    async fn list_federated_credentials(
        &self,
        application_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<FederatedIdentityCredential>, GraphError> {
        self.page(
            &GraphRequest::federated_credentials(application_id),
            next_link,
        )
        .await
    }

    async fn list_app_role_assigned_to(
        &self,
        resource_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<AppRoleAssignment>, GraphError> {
        self.page(&GraphRequest::app_role_assigned_to(resource_id), next_link)
            .await
    }

    async fn list_app_role_assignments_of(
        &self,
        principal_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<AppRoleAssignment>, GraphError> {
        self.page(
            &GraphRequest::app_role_assignments_of(principal_id),
            next_link,
        )
        .await
    }

    async fn list_app_credential_sign_in_activities(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<AppCredentialSignInActivity>, GraphError> {
        self.page(
            &GraphRequest::app_credential_sign_in_activities(),
            next_link,
        )
        .await
    }

    async fn list_service_principal_sign_in_activities(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<ServicePrincipalSignInActivity>, GraphError> {
        self.page(
            &GraphRequest::service_principal_sign_in_activities(),
            next_link,
        )
        .await
    }

    async fn list_successful_sign_ins(
        &self,
        window: &TimeWindow,
        next_link: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        self.page(&GraphRequest::successful_sign_ins(window), next_link)
            .await
    }

    async fn list_audits_from(
        &self,
        source: AuditSource,
        window: &TimeWindow,
        next_link: Option<&str>,
    ) -> Result<Page<DirectoryAudit>, GraphError> {
        self.page(&GraphRequest::audits_from(source, window), next_link)
            .await
    }

    async fn list_conditional_access_policies(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<ConditionalAccessPolicy>, GraphError> {
        self.page(&GraphRequest::conditional_access_policies(), next_link)
            .await
    }

    async fn list_user_groups(
        &self,
        user_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        self.page(&GraphRequest::user_transitive_groups(user_id), next_link)
            .await
    }

    async fn list_authentication_methods(
        &self,
        user_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<AuthenticationMethod>, GraphError> {
        self.page(
            &GraphRequest::user_authentication_methods(user_id),
            next_link,
        )
        .await
    }

    async fn list_role_assignments_of(
        &self,
        principal_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        self.page(&GraphRequest::role_assignments_of(principal_id), next_link)
            .await
    }

    async fn list_role_assignment_instances_of(
        &self,
        principal_id: &str,
        next_link: Option<&str>,
    ) -> Result<Page<RoleAssignmentScheduleInstance>, GraphError> {
        let request = GraphRequest::role_assignment_schedule_instances_of(principal_id);
        self.page(&request, next_link).await
    }

    async fn list_user_registration_details(
        &self,
        next_link: Option<&str>,
    ) -> Result<Page<UserRegistrationDetails>, GraphError> {
        self.page(&GraphRequest::user_registration_details(), next_link)
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
