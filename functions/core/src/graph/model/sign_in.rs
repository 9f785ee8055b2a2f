//! `signIn` records, v1.0 and beta (Graph docs `resources/signin.md`, v1.0 and beta).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One sign-in event. Beta-only properties (`signInEventTypes`, `authenticationRequirement`, ...) are empty or
/// `None` on v1.0 responses.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    /// The sign-in id: the deduplication key across overlapping look-back windows.
    pub id: String,
    pub created_date_time: DateTime<Utc>,
    #[serde(default)]
    pub user_id: String,
    pub user_principal_name: Option<String>,
    pub user_display_name: Option<String>,
    pub app_id: Option<String>,
    pub app_display_name: Option<String>,
    pub ip_address: Option<String>,
    pub client_app_used: Option<String>,
    pub correlation_id: Option<String>,
    /// `success`, `failure`, `notApplied`, ... and values outside the documented enum (`applied` appears in the
    /// beta docs example), so kept as text.
    pub conditional_access_status: Option<String>,
    pub is_interactive: Option<bool>,
    /// May be `{}`: then `error_code` is `None` (beta docs example 2).
    #[serde(default)]
    pub status: SignInStatus,
    pub location: Option<SignInLocation>,
    pub device_detail: Option<DeviceDetail>,
    pub user_agent: Option<String>,
    pub resource_display_name: Option<String>,
    pub resource_id: Option<String>,
    /// Beta: `interactiveUser`, `nonInteractiveUser`, `servicePrincipal`, `managedIdentity`.
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub sign_in_event_types: Vec<String>,
    /// Beta: `singleFactorAuthentication` or `multiFactorAuthentication`.
    pub authentication_requirement: Option<String>,
    /// The beta docs spell it `riskLevelDuringsignIn` in one example; both spellings are read.
    #[serde(alias = "riskLevelDuringsignIn")]
    pub risk_level_during_sign_in: Option<String>,
    pub risk_level_aggregated: Option<String>,
    pub risk_state: Option<String>,
    pub risk_detail: Option<String>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub risk_event_types: Vec<String>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub applied_conditional_access_policies: Vec<AppliedConditionalAccessPolicy>,
    /// Beta: each authentication step (method, result).
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub authentication_details: Vec<AuthenticationDetail>,
}

impl SignIn {
    /// Whether the row says it is an interactive user sign-in: beta's `signInEventTypes` first (what the
    /// combined-kinds filter matched on), then `isInteractive` (Graph docs `resources/signin.md`, beta).
    /// `None` when the row says neither, as on a v1.0 answer, where the request itself decides the kind.
    pub fn interactive(&self) -> Option<bool> {
        let says = |t: &str| self.sign_in_event_types.iter().any(|e| e == t);
        if says("interactiveUser") {
            Some(true)
        } else if says("nonInteractiveUser") {
            Some(false)
        } else {
            self.is_interactive
        }
    }
}

/// Outcome of a sign-in. `error_code` 0 means success (Graph docs `resources/signinstatus.md`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInStatus {
    pub error_code: Option<i32>,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
}

impl SignInStatus {
    /// True when Graph reported error code 0. An empty status (`{}`) is not known to be a success.
    pub fn succeeded(&self) -> bool {
        self.error_code == Some(0)
    }
}

/// Where a sign-in came from, as Entra geolocated its IP address.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInLocation {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country_or_region: Option<String>,
}

/// The device used, as reported by the client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDetail {
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub device_id: Option<String>,
    pub display_name: Option<String>,
    pub operating_system: Option<String>,
    pub browser: Option<String>,
    pub is_compliant: Option<bool>,
    pub is_managed: Option<bool>,
    pub trust_type: Option<String>,
}

/// A Conditional Access policy evaluated for the sign-in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedConditionalAccessPolicy {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub result: Option<String>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub enforced_grant_controls: Vec<String>,
}

/// One authentication step of a beta sign-in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationDetail {
    pub authentication_method: Option<String>,
    pub authentication_method_detail: Option<String>,
    pub succeeded: Option<bool>,
    pub authentication_step_requirement: Option<String>,
    pub authentication_step_result_detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_and_fields_are_kept_or_ignored() -> Result<(), serde_json::Error> {
        let json = r#"{"id":"s1","createdDateTime":"2026-01-01T00:00:00Z","conditionalAccessStatus":"brandNew",
                       "futureProperty":{"x":1},"status":{"errorCode":50126}}"#;
        let sign_in: SignIn = serde_json::from_str(json)?;
        assert_eq!(
            sign_in.conditional_access_status.as_deref(),
            Some("brandNew")
        );
        assert_eq!(sign_in.status.error_code, Some(50126));
        assert!(!sign_in.status.succeeded());
        Ok(())
    }

    #[test]
    fn a_row_says_its_kind_by_event_type_then_by_is_interactive() -> Result<(), serde_json::Error> {
        let row = |extra: &str| {
            serde_json::from_str::<SignIn>(&format!(
                r#"{{"id":"s1","createdDateTime":"2026-01-01T00:00:00Z"{extra}}}"#
            ))
        };
        let both = r#","signInEventTypes":["nonInteractiveUser"],"isInteractive":true"#;
        assert_eq!(row(both)?.interactive(), Some(false), "the event type wins");
        let typed = r#","signInEventTypes":["interactiveUser"]"#;
        assert_eq!(row(typed)?.interactive(), Some(true));
        assert_eq!(row(r#","isInteractive":false"#)?.interactive(), Some(false));
        assert_eq!(row(r#","signInEventTypes":null"#)?.interactive(), None);
        Ok(())
    }
}
