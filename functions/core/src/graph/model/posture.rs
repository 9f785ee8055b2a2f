//! What the emergency-account posture checks read (REFERENCE.md §12): Conditional Access policies (Graph docs
//! `resources/conditionalaccesspolicy.md`, `resources/conditionalaccessusers.md`,
//! `resources/conditionalaccessgrantcontrols.md`), a user's authentication methods
//! (`resources/authenticationmethod.md`) and active role assignment schedule instances
//! (`resources/unifiedroleassignmentscheduleinstance.md`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::null_as_empty;

/// One Conditional Access policy, with what the posture checks judge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessPolicy {
    pub id: String,
    pub display_name: Option<String>,
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`; kept verbatim.
    pub state: Option<String>,
    pub conditions: Option<ConditionalAccessConditions>,
    pub grant_controls: Option<GrantControls>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessConditions {
    pub users: Option<ConditionalAccessUsers>,
}

/// Who a policy applies to: ids, or `All`, `None`, `GuestsOrExternalUsers` in `includeUsers`; role template ids in
/// the role lists.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessUsers {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_users: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_users: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_groups: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_groups: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub include_roles: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_roles: Vec<String>,
}

/// What a policy requires: built-in controls (`block`, `mfa`, `compliantDevice`, ...) and an authentication
/// strength.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    pub operator: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub built_in_controls: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub custom_authentication_factors: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub terms_of_use: Vec<String>,
    pub authentication_strength: Option<AuthenticationStrength>,
}

/// An authentication strength policy as a grant control names it (Graph docs
/// `resources/authenticationstrengthpolicy.md`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrength {
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// Combinations of `authenticationMethodModes` (`fido2`, `x509CertificateMultiFactor`, `password,sms`, ...).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub allowed_combinations: Vec<String>,
}

/// One registered authentication method of a user; the concrete kind is in `@odata.type`
/// (`#microsoft.graph.fido2AuthenticationMethod`, `...microsoftAuthenticatorAuthenticationMethod`, ...). Nothing
/// else is read: phone numbers and device names stay in Graph.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationMethod {
    #[serde(rename = "@odata.type")]
    pub odata_type: Option<String>,
    pub id: String,
}

impl AuthenticationMethod {
    /// The type without its namespace: `fido2AuthenticationMethod`.
    pub fn kind(&self) -> &str {
        self.odata_type
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches("#microsoft.graph.")
    }
}

/// An active role assignment as PIM schedules it: `assignmentType` `Assigned` (a standing assignment) or
/// `Activated` (an eligible role turned on for a while); `endDateTime` empty for a permanent one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentScheduleInstance {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    pub assignment_type: Option<String>,
    pub member_type: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub end_date_time: Option<DateTime<Utc>>,
}
