//! `user` and its `signInActivity` (Graph docs `resources/user.md`, `resources/signinactivity.md`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A directory user. Every property but `id` is optional because `$select` decides what Graph sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Object id. Empty only when a request did not `$select` it (the beta docs example omits it).
    #[serde(default)]
    pub id: String,
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    /// `Member` or `Guest` (kept as text: other values are kept, not rejected).
    pub user_type: Option<String>,
    pub account_enabled: Option<bool>,
    /// Null when Entra could not determine it (Graph docs `resources/user.md`).
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub created_date_time: Option<DateTime<Utc>>,
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub assigned_licenses: Vec<AssignedLicense>,
    /// `PendingAcceptance` or `Accepted` for invited guests.
    pub external_user_state: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub external_user_state_change_date_time: Option<DateTime<Utc>>,
    pub sign_in_activity: Option<SignInActivity>,
}

/// One licence assigned to a user.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: Option<String>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub disabled_plans: Vec<String>,
}

/// Last sign-in dates. `None` means "never" in any of its four shapes.
///
/// `last_sign_in` counts interactive *attempts*, failed ones included; `last_successful_sign_in` counts
/// successes only and exists for sign-ins since 2023-12-01 (Graph docs `resources/signinactivity.md`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SignInActivity {
    #[serde(
        rename = "lastSignInDateTime",
        default,
        deserialize_with = "super::never::deserialize"
    )]
    pub last_sign_in: Option<DateTime<Utc>>,
    #[serde(
        rename = "lastSignInRequestId",
        default,
        deserialize_with = "super::empty_as_none"
    )]
    pub last_sign_in_request_id: Option<String>,
    #[serde(
        rename = "lastNonInteractiveSignInDateTime",
        default,
        deserialize_with = "super::never::deserialize"
    )]
    pub last_non_interactive_sign_in: Option<DateTime<Utc>>,
    #[serde(
        rename = "lastNonInteractiveSignInRequestId",
        default,
        deserialize_with = "super::empty_as_none"
    )]
    pub last_non_interactive_sign_in_request_id: Option<String>,
    #[serde(
        rename = "lastSuccessfulSignInDateTime",
        default,
        deserialize_with = "super::never::deserialize"
    )]
    pub last_successful_sign_in: Option<DateTime<Utc>>,
    #[serde(
        rename = "lastSuccessfulSignInRequestId",
        default,
        deserialize_with = "super::empty_as_none"
    )]
    pub last_successful_sign_in_request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_without_sign_in_activity_or_licences_parses() -> Result<(), serde_json::Error> {
        let user: User =
            serde_json::from_str(r#"{"id":"u1","assignedLicenses":null,"createdDateTime":null}"#)?;
        assert_eq!(user.id, "u1");
        assert!(user.assigned_licenses.is_empty());
        assert_eq!(user.created_date_time, None);
        assert_eq!(user.sign_in_activity, None);
        Ok(())
    }

    #[test]
    fn null_and_missing_sign_in_fields_are_never() -> Result<(), serde_json::Error> {
        let activity: SignInActivity = serde_json::from_str(
            r#"{"lastSignInDateTime":null,"lastSuccessfulSignInRequestId":null}"#,
        )?;
        assert_eq!(activity, SignInActivity::default());
        Ok(())
    }
}
