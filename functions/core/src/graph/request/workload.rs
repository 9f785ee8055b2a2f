//! Requests of the workloads job and of the frequent watches (REFERENCE.md §11, §13).

use super::{ApiVersion, GraphRequest, TimeWindow, LOGS_PAGE};
use crate::graph::odata::{odata_date, odata_string, path_segment};

/// `/applications` and `/servicePrincipals` allow 999 a page (Graph docs `application-list.md`,
/// `serviceprincipal-list.md`); selecting `keyCredentials` is limited to 150 requests a minute per tenant, so
/// large pages matter.
pub const WORKLOADS_PAGE: u32 = 999;
/// The beta reports' page size is undocumented; asking for Graph's common reports maximum is refused by no
/// documented rule, and the emulator enforces what it serves.
pub const WORKLOAD_REPORTS_PAGE: u32 = 999;

/// The app registration properties read; never `key` (certificate material).
pub const APPLICATION_PROPERTIES: &str =
    "id,appId,displayName,createdDateTime,passwordCredentials,keyCredentials";
/// The service principal properties read; never `key`.
pub const SERVICE_PRINCIPAL_PROPERTIES: &str = "id,appId,displayName,servicePrincipalType,appOwnerOrganizationId,accountEnabled,passwordCredentials,keyCredentials";

/// Which directory audits a watch reads: one category or one logging service, in a window (Graph docs
/// `directoryaudit-list.md`: `$filter` on `category` and `loggedByService` with `eq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditSource {
    Category(&'static str),
    LoggedByService(&'static str),
}

impl GraphRequest {
    pub fn applications() -> Self {
        GraphRequest::new(ApiVersion::V1, "/applications")
            .param("$select", APPLICATION_PROPERTIES)
            .top(WORKLOADS_PAGE)
    }

    pub fn service_principals() -> Self {
        GraphRequest::new(ApiVersion::V1, "/servicePrincipals")
            .param("$select", SERVICE_PRINCIPAL_PROPERTIES)
            .top(WORKLOADS_PAGE)
    }

    /// One app registration by object id; only what names it (Graph docs `application-get.md`).
    pub fn application(id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!("/applications/{}", path_segment(id)),
        )
        .param("$select", "id,appId,displayName")
    }

    /// The service principal of `app_id` in this tenant (at most one).
    pub fn service_principal_of_app(app_id: &str) -> Self {
        GraphRequest::new(ApiVersion::V1, "/servicePrincipals")
            .param("$filter", format!("appId eq {}", odata_string(app_id)))
            .param("$select", SERVICE_PRINCIPAL_PROPERTIES)
    }

    /// Federated identity credentials of one app registration (Graph docs
    /// `application-list-federatedidentitycredentials.md`).
    pub fn federated_credentials(application_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!(
                "/applications/{}/federatedIdentityCredentials",
                path_segment(application_id)
            ),
        )
    }

    /// Every app role of the resource `resource_id` granted to anyone (Graph docs
    /// `serviceprincipal-list-approleassignedto.md`): for Microsoft Graph's service principal, every application
    /// permission on Graph in the tenant, in one listing.
    pub fn app_role_assigned_to(resource_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!(
                "/servicePrincipals/{}/appRoleAssignedTo",
                path_segment(resource_id)
            ),
        )
        .top(WORKLOADS_PAGE)
    }

    /// The app roles granted to one service principal (Graph docs `serviceprincipal-list-approleassignments.md`).
    pub fn app_role_assignments_of(principal_id: &str) -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            &format!(
                "/servicePrincipals/{}/appRoleAssignments",
                path_segment(principal_id)
            ),
        )
    }

    /// Beta `reports/appCredentialSignInActivities` (REFERENCE.md §11).
    pub fn app_credential_sign_in_activities() -> Self {
        GraphRequest::new(ApiVersion::Beta, "/reports/appCredentialSignInActivities")
            .top(WORKLOAD_REPORTS_PAGE)
    }

    /// Beta `reports/servicePrincipalSignInActivities` (REFERENCE.md §11).
    pub fn service_principal_sign_in_activities() -> Self {
        GraphRequest::new(
            ApiVersion::Beta,
            "/reports/servicePrincipalSignInActivities",
        )
        .top(WORKLOAD_REPORTS_PAGE)
    }

    /// Successful interactive sign-ins of every user in a window (`status/errorCode eq 0`, Graph docs
    /// `signin-list.md`): what the reactivation watch matches against open dormant findings.
    pub fn successful_sign_ins(window: &TimeWindow) -> Self {
        GraphRequest::new(ApiVersion::V1, "/auditLogs/signIns")
            .param(
                "$filter",
                format!(
                    "createdDateTime ge {} and createdDateTime le {} and status/errorCode eq 0",
                    odata_date(window.from),
                    odata_date(window.to)
                ),
            )
            .top(LOGS_PAGE)
    }

    /// Directory audits of one category or service in a window.
    pub fn audits_from(source: AuditSource, window: &TimeWindow) -> Self {
        let clause = match source {
            AuditSource::Category(c) => format!("category eq {}", odata_string(c)),
            AuditSource::LoggedByService(s) => format!("loggedByService eq {}", odata_string(s)),
        };
        GraphRequest::new(ApiVersion::V1, "/auditLogs/directoryAudits")
            .param(
                "$filter",
                format!(
                    "activityDateTime ge {} and activityDateTime le {} and {clause}",
                    odata_date(window.from),
                    odata_date(window.to)
                ),
            )
            .top(LOGS_PAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_watch_requests_filter_what_graph_documents() {
        let window = TimeWindow {
            from: chrono::Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
            to: chrono::Utc.with_ymd_and_hms(2026, 12, 1, 10, 5, 0).unwrap(),
        };
        assert_eq!(
            GraphRequest::successful_sign_ins(&window).path_and_query(),
            "/v1.0/auditLogs/signIns?$filter=createdDateTime%20ge%202026-12-01T10:00:00Z%20and%20createdDateTime%20le%202026-12-01T10:05:00Z%20and%20status/errorCode%20eq%200&$top=1000"
        );
        assert_eq!(
            GraphRequest::audits_from(AuditSource::Category("ApplicationManagement"), &window).path_and_query(),
            "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime%20ge%202026-12-01T10:00:00Z%20and%20activityDateTime%20le%202026-12-01T10:05:00Z%20and%20category%20eq%20%27ApplicationManagement%27&$top=1000"
        );
        assert_eq!(
            GraphRequest::service_principal_of_app("o'brien").path_and_query(),
            "/v1.0/servicePrincipals?$filter=appId%20eq%20%27o%27%27brien%27&$select=id,appId,displayName,servicePrincipalType,appOwnerOrganizationId,accountEnabled,passwordCredentials,keyCredentials"
        );
    }
}
