//! The registration report (REFERENCE.md §12): `GET /v1.0/reports/authenticationMethods/userRegistrationDetails`.

use super::{ApiVersion, GraphRequest};

/// The page size is undocumented; `$top` is what the Graph PowerShell SDK's `-Top`/`-PageSize` send for this
/// report. 999 is the common directory maximum; a client follows `@odata.nextLink` whatever it gets.
pub const REGISTRATION_PAGE: u32 = 999;

/// What the inventory reads of each row.
pub const REGISTRATION_PROPERTIES: &str =
    "id,userPrincipalName,isAdmin,isMfaRegistered,isMfaCapable,isPasswordlessCapable,methodsRegistered,lastUpdatedDateTime";

impl GraphRequest {
    /// Every user's registered methods (a reports request: `AuditLog.Read.All`, Entra ID P1/P2).
    pub fn user_registration_details() -> Self {
        GraphRequest::new(
            ApiVersion::V1,
            "/reports/authenticationMethods/userRegistrationDetails",
        )
        .param("$select", REGISTRATION_PROPERTIES)
        .top(REGISTRATION_PAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registration_report_selects_what_the_inventory_shows() {
        assert_eq!(
            GraphRequest::user_registration_details().path_and_query(),
            "/v1.0/reports/authenticationMethods/userRegistrationDetails?$select=id,userPrincipalName,isAdmin,isMfaRegistered,isMfaCapable,isPasswordlessCapable,methodsRegistered,lastUpdatedDateTime&$top=999"
        );
    }
}
