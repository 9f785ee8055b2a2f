//! Turning a Graph error response into the [`GraphError`] a user can act on.
//!
//! Graph error bodies are `{"error":{"code":"...","message":"..."}}` (Graph docs `errors.md`).

use std::sync::Arc;

use serde::Deserialize;

use super::error::{body_start, GraphError};
use super::settings::TenantLabel;

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

/// `(code, message)` of a Graph error body, if it is one.
pub(crate) fn graph_error(body: &[u8]) -> Option<(String, String)> {
    let envelope: ErrorEnvelope = serde_json::from_slice(body).ok()?;
    Some((envelope.error.code, envelope.error.message))
}

/// What a failed response was about: enough to word the error, nothing secret (`path` has no query string).
pub(crate) struct FailedResponse<'a> {
    pub tenant: &'a Arc<TenantLabel>,
    pub status: u16,
    pub path: &'a str,
    pub content_type: &'a str,
    pub body: &'a [u8],
    /// Values to blank out if the body echoes them (the access token, the query string).
    pub hide: &'a [&'a str],
}

impl FailedResponse<'_> {
    /// An [`GraphError::UnexpectedResponse`] for a body that is not what Graph sends.
    pub fn unexpected(&self) -> GraphError {
        GraphError::UnexpectedResponse {
            tenant: self.tenant.clone(),
            status: self.status,
            content_type: self.content_type_or_none(),
            body_start: body_start(self.body, self.hide),
        }
    }

    fn content_type_or_none(&self) -> String {
        if self.content_type.is_empty() {
            "(none)".to_string()
        } else {
            self.content_type.to_string()
        }
    }

    /// The error for a non-success, non-retried Graph response.
    pub fn diagnose(&self) -> GraphError {
        let Some((code, message)) = graph_error(self.body) else {
            return self.unexpected();
        };
        let tenant = self.tenant.clone();
        let path = self.path.to_string();
        match self.status {
            401 => GraphError::Unauthorized { tenant, code },
            403 if is_licence_code(&code, &message) => GraphError::LicenceRequired {
                tenant,
                needs: licence_for(self.path).to_string(),
                code,
                path,
            },
            403 if is_permission_code(&code) => {
                let permission = permission_named_in(&message)
                    .unwrap_or_else(|| permission_for(self.path).to_string());
                GraphError::PermissionMissing {
                    tenant,
                    permission,
                    code,
                    path,
                }
            }
            404 => GraphError::NotFound { tenant, code, path },
            status => GraphError::Api {
                tenant,
                status,
                code,
                message: one_line(&message),
                path,
            },
        }
    }
}

/// Graph's licence refusal for report APIs is `Authentication_RequestFromNonPremiumTenantOrB2CTenant`, message
/// "Neither tenant is B2C or tenant doesn't have premium license" (REFERENCE §1); PIM answers with other codes that
/// still talk about a premium licence, so the message is checked too.
fn is_licence_code(code: &str, message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    code == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        || code.contains("PremiumLicense")
        || lower.contains("premium license")
        || lower.contains("premium licence")
}

/// Codes Graph uses when the app lacks a permission (Graph docs `errors.md`; `Authentication_MSGraphPermissionMissing`
/// seen on audit log APIs).
fn is_permission_code(code: &str) -> bool {
    matches!(
        code,
        "Authorization_RequestDenied"
            | "Authentication_MSGraphPermissionMissing"
            | "Forbidden"
            | "accessDenied"
    )
}

/// PIM schedules (for roles and for groups) need P2 (Entra docs `privileged-identity-management/subscription-requirements.md`); the report
/// APIs need P1 or P2 (REFERENCE §1, §2).
fn licence_for(path: &str) -> &'static str {
    if path.contains("/roleManagement/directory/roleEligibility")
        || path.contains("/privilegedAccess/group/")
    {
        "Entra ID P2"
    } else {
        "Entra ID P1 or P2"
    }
}

/// The application permissions each endpoint needs, from each API page's "Permissions" table (Graph docs
/// `user-list.md`, `signin-list.md`, `directoryaudit-list.md`, `rbacapplication-list-roleassignments.md`,
/// `rbacapplication-list-roleeligibilityschedules.md`, `group-list-transitivemembers.md`). Sign-ins also need
/// Directory.Read.All (known issue, REFERENCE §2).
pub(crate) fn permission_for(path: &str) -> &'static str {
    if path.contains("/auditLogs/signIns") {
        "AuditLog.Read.All and Directory.Read.All"
    } else if path.contains("/auditLogs/") || path.contains("/reports/") {
        // The beta credential and service principal activity reports (REFERENCE.md §11).
        "AuditLog.Read.All"
    } else if path.contains("/applications") || path.contains("/servicePrincipals") {
        // Graph docs `application-list.md`, `serviceprincipal-list.md`, `serviceprincipal-list-approleassignedto.md`.
        "Application.Read.All"
    } else if path.contains("/identity/conditionalAccess/") {
        // Graph docs `conditionalaccessroot-list-policies.md`.
        "Policy.Read.All"
    } else if path.contains("/authentication/methods") {
        // Graph docs `authentication-list-methods.md`.
        "UserAuthenticationMethod.Read.All"
    } else if path.contains("/privilegedAccess/group/") {
        "PrivilegedEligibilitySchedule.Read.AzureADGroup"
    } else if path.contains("/roleManagement/") {
        "RoleManagement.Read.Directory"
    } else if path.contains("/transitiveMembers") || path.contains("/transitiveMemberOf") {
        "GroupMember.Read.All"
    } else {
        "User.Read.All and AuditLog.Read.All"
    }
}

/// A permission name such as `AuditLog.Read.All` mentioned in a Graph error message, when there is one.
fn permission_named_in(message: &str) -> Option<String> {
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
        .map(|word| word.trim_end_matches('.'))
        .find(|word| {
            let parts: Vec<&str> = word.split('.').collect();
            parts.len() >= 3
                && parts
                    .iter()
                    .all(|p| p.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
                && matches!(parts[1], "Read" | "ReadWrite" | "ReadBasic")
        })
        .map(str::to_string)
}

fn one_line(message: &str) -> String {
    message
        .chars()
        .take(300)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed<'a>(
        tenant: &'a Arc<TenantLabel>,
        status: u16,
        path: &'a str,
        body: &'a [u8],
    ) -> FailedResponse<'a> {
        FailedResponse {
            tenant,
            status,
            path,
            content_type: "application/json",
            body,
            hide: &[],
        }
    }

    fn contoso() -> Arc<TenantLabel> {
        Arc::new(TenantLabel {
            name: "contoso".into(),
            id: "t1".into(),
        })
    }

    #[test]
    fn permission_is_taken_from_the_message_when_named() {
        let body = br#"{"error":{"code":"Authentication_MSGraphPermissionMissing","message":"Calling principal does not have required MSGraph permissions AuditLog.Read.All"}}"#;
        let tenant = contoso();
        let e = failed(&tenant, 403, "/v1.0/auditLogs/directoryAudits", body).diagnose();
        assert!(
            matches!(&e, GraphError::PermissionMissing { permission, .. } if permission == "AuditLog.Read.All")
        );
    }

    #[test]
    fn permission_falls_back_to_the_endpoint_table() {
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#;
        let tenant = contoso();
        let e = failed(&tenant, 403, "/v1.0/groups/g/transitiveMembers", body).diagnose();
        assert_eq!(
            e.to_string(),
            "tenant contoso (t1): the app lacks the Graph application permission GroupMember.Read.All (Graph answered \
             403 Authorization_RequestDenied on /v1.0/groups/g/transitiveMembers): grant it and give admin consent"
        );
    }

    #[test]
    fn pim_licence_refusal_asks_for_p2() {
        let body = br#"{"error":{"code":"AadPremiumLicenseRequired","message":"The tenant needs an AAD Premium 2 license."}}"#;
        let tenant = contoso();
        let e = failed(
            &tenant,
            403,
            "/v1.0/roleManagement/directory/roleEligibilitySchedules",
            body,
        )
        .diagnose();
        assert!(matches!(&e, GraphError::LicenceRequired { needs, .. } if needs == "Entra ID P2"));
    }

    #[test]
    fn html_body_is_an_unexpected_response() {
        let tenant = contoso();
        let mut response = failed(
            &tenant,
            502,
            "/v1.0/users",
            b"<html><body>Bad Gateway</body></html>",
        );
        response.content_type = "text/html";
        assert_eq!(
            response.diagnose().to_string(),
            "tenant contoso (t1): unexpected response: status 502, content-type text/html, body starts: \
             <html><body>Bad Gateway</body></html>"
        );
    }
}
