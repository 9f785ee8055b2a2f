//! What a break-glass alert shows: SPEC.md "Alerts" evidence, the meaning of common sign-in error
//! codes and links into the Entra admin center.

use serde_json::{json, Value};

use crate::graph::model::{SignIn, SignInLocation};

/// What the common sign-in error codes mean (REFERENCE.md §2; Entra docs `reference-error-codes`,
/// "AADSTS error codes"). Unknown codes keep Graph's own `failureReason`.
pub(super) fn error_code_meaning(code: i32) -> Option<&'static str> {
    Some(match code {
        0 => "success",
        50034 => "the user account does not exist in the directory",
        50053 => "account locked (too many failed attempts, or sign-in from a blocked IP)",
        50055 => "password expired",
        50057 => "account disabled",
        50074 => "strong authentication (MFA) required",
        50076 => "MFA required by policy or location",
        50126 => "invalid username or password",
        50158 => "external security challenge not satisfied",
        53003 => "blocked by Conditional Access",
        500121 => "strong authentication (MFA) failed",
        _ => return None,
    })
}

/// "Seattle, Washington, US", skipping the parts Graph left empty.
pub(crate) fn location_text(location: Option<&SignInLocation>) -> Option<String> {
    let l = location?;
    let parts: Vec<&str> = [&l.city, &l.state, &l.country_or_region]
        .into_iter()
        .filter_map(|p| p.as_deref().filter(|s| !s.is_empty()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `data.subject` for an account: id plus whatever names the record carried.
pub(crate) fn subject(id: &str, upn: Option<&str>, display_name: Option<&str>) -> Value {
    json!({"id": id, "userPrincipalName": upn, "displayName": display_name})
}

/// The sign-in evidence of SPEC.md plus what an investigator needs next (CA status,
/// authentication requirement from beta, correlation id).
pub(crate) fn sign_in_evidence(s: &SignIn, interactive: bool) -> serde_json::Map<String, Value> {
    let code = s.status.error_code;
    let mut e = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        e.insert(k.to_string(), v);
    };
    put("signInId", json!(s.id));
    put(
        "createdDateTime",
        json!(s
            .created_date_time
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    put("ipAddress", json!(s.ip_address));
    put("location", json!(location_text(s.location.as_ref())));
    put("appDisplayName", json!(s.app_display_name));
    put("clientAppUsed", json!(s.client_app_used));
    put("errorCode", json!(code));
    put(
        "errorMeaning",
        json!(code
            .and_then(error_code_meaning)
            .map(str::to_string)
            .or_else(|| s.status.failure_reason.clone())),
    );
    put("failureReason", json!(s.status.failure_reason));
    put("interactive", json!(interactive));
    put(
        "conditionalAccessStatus",
        json!(s.conditional_access_status),
    );
    put(
        "authenticationRequirement",
        json!(s.authentication_requirement),
    );
    put("correlationId", json!(s.correlation_id));
    put("resourceDisplayName", json!(s.resource_display_name));
    e
}

/// The Entra admin center has no documented deep link to one sign-in entry: this opens the
/// account's sign-in log, where `signInId` is the entry's "Request ID" (unconfirmed that the two
/// always match). Global cloud host; national clouds use their own portals.
pub(crate) fn sign_in_log_link(user_id: &str) -> String {
    format!(
        "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/SignIns/userId/{user_id}"
    )
}

/// The account's audit log in the Entra admin center (same caveats as [`sign_in_log_link`]).
pub(crate) fn audit_log_link(user_id: &str) -> String {
    format!(
        "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/AuditLogs/userId/{user_id}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_failure_codes_are_explained() {
        assert_eq!(
            error_code_meaning(50126),
            Some("invalid username or password")
        );
        assert_eq!(
            error_code_meaning(53003),
            Some("blocked by Conditional Access")
        );
        assert_eq!(error_code_meaning(123456), None);
    }

    #[test]
    fn location_skips_empty_parts() {
        let l = SignInLocation {
            city: Some("".into()),
            state: None,
            country_or_region: Some("NL".into()),
        };
        assert_eq!(location_text(Some(&l)).as_deref(), Some("NL"));
    }
}
