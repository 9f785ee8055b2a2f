//! Workload identities: app registrations, service principals, their credentials and sign-in activity (Graph docs
//! `resources/application.md`, `resources/serviceprincipal.md`, `resources/passwordcredential.md`,
//! `resources/keycredential.md`, `resources/federatedidentitycredential.md`, `resources/approleassignment.md`, beta
//! `resources/appcredentialsigninactivity.md`, `resources/serviceprincipalsigninactivity.md`; REFERENCE.md §11).
//!
//! Credential material never enters these types: `secretText` (only returned by `addPassword`) and a certificate's
//! `key` (only when selected, and never selected) are not fields, so they cannot be logged by accident. What is kept
//! to name a credential is its `keyId`, `displayName` and `hint` (the first three characters of a secret, which
//! Graph itself shows in the portal).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A client secret (`passwordCredential`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    pub key_id: String,
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub end_date_time: Option<DateTime<Utc>>,
    pub hint: Option<String>,
}

/// A certificate or symmetric key (`keyCredential`); `key` is never selected.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub key_id: String,
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub end_date_time: Option<DateTime<Utc>>,
    /// `AsymmetricX509Cert` or `Symmetric`.
    #[serde(rename = "type")]
    pub key_type: Option<String>,
    /// `Verify` (a credential the app signs in with) or `Sign` (SAML token signing).
    pub usage: Option<String>,
    /// The certificate thumbprint (base64).
    pub custom_key_identifier: Option<String>,
}

/// An app registration (`application`) with the properties the workloads job selects.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    pub app_id: String,
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub key_credentials: Vec<KeyCredential>,
}

/// A service principal (the app's identity in one tenant).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub display_name: Option<String>,
    /// `Application`, `ManagedIdentity`, `Legacy`, `SocialIdp`.
    pub service_principal_type: Option<String>,
    /// The tenant that owns the app: Microsoft's for first-party apps (REFERENCE §11).
    pub app_owner_organization_id: Option<String>,
    pub account_enabled: Option<bool>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub password_credentials: Vec<PasswordCredential>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub key_credentials: Vec<KeyCredential>,
}

/// A federated identity credential of an app registration: a trust, not a secret.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedIdentityCredential {
    pub id: String,
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
}

/// An app role granted to a principal (`appRoleAssignment`): with Microsoft Graph as the resource, an application
/// permission.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    pub id: String,
    pub app_role_id: String,
    pub principal_id: String,
    pub principal_type: Option<String>,
    pub principal_display_name: Option<String>,
    pub resource_id: String,
}

/// When a credential, or a service principal in one role, last signed in.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastSignIn {
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub last_sign_in_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub last_sign_in_request_id: Option<String>,
}

/// Beta `appCredentialSignInActivity`: when one credential was last used.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppCredentialSignInActivity {
    pub key_id: String,
    pub app_id: Option<String>,
    /// `clientSecret` or `certificate` (the doc's own sample says `"secret"`: kept as sent).
    pub key_type: Option<String>,
    /// The doc's property is `expirationDateTime`; its sample says `expirationDate`: both are read.
    #[serde(
        default,
        alias = "expirationDate",
        deserialize_with = "super::never::deserialize"
    )]
    pub expiration_date_time: Option<DateTime<Utc>>,
    pub sign_in_activity: Option<LastSignIn>,
}

/// Beta `servicePrincipalSignInActivity`: a service principal's last sign-in, as client and as resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipalSignInActivity {
    pub app_id: String,
    pub last_sign_in_activity: Option<LastSignIn>,
    pub delegated_client_sign_in_activity: Option<LastSignIn>,
    pub delegated_resource_sign_in_activity: Option<LastSignIn>,
    pub application_authentication_client_sign_in_activity: Option<LastSignIn>,
    pub application_authentication_resource_sign_in_activity: Option<LastSignIn>,
}

impl ServicePrincipalSignInActivity {
    /// The newest sign-in of any kind.
    pub fn newest(&self) -> Option<DateTime<Utc>> {
        [
            &self.last_sign_in_activity,
            &self.delegated_client_sign_in_activity,
            &self.delegated_resource_sign_in_activity,
            &self.application_authentication_client_sign_in_activity,
            &self.application_authentication_resource_sign_in_activity,
        ]
        .into_iter()
        .flatten()
        .filter_map(|a| a.last_sign_in_date_time)
        .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_docs_sample_quirks_of_credential_activity_parse() {
        // Shaped after the quirks of the beta docs' own sample (REFERENCE.md §11: `expirationDate` for the
        // documented `expirationDateTime`, `keyType` "secret"); the ids are made up.
        let row: AppCredentialSignInActivity = serde_json::from_value(json!({
            "id": "ODNmNDUyOTYtZmI4Zi00YWFhLWEzOTktYWM1MTA4NGUwMmI3fGFwcGxpY2F0aW9u",
            "keyId": "83f45296-fb8f-4aaa-a399-ac51084e02b7",
            "keyType": "secret",
            "keyUsage": "sign",
            "appId": "f4d9654f-0305-4072-878c-8bf266dfe146",
            "expirationDate": "2021-12-31T00:00:00Z",
            "credentialOrigin": "application",
            "signInActivity": {"lastSignInDateTime": "2021-04-01T00:00:00-08:00",
                               "lastSignInRequestId": "b0a282a3-68ec-4ec8-aef0-290ed4350271"}
        }))
        .expect("parses");
        assert_eq!(row.key_type.as_deref(), Some("secret"));
        assert_eq!(
            row.expiration_date_time.map(|d| d.to_rfc3339()),
            Some("2021-12-31T00:00:00+00:00".to_string())
        );
        assert!(row
            .sign_in_activity
            .and_then(|a| a.last_sign_in_date_time)
            .is_some());
    }

    #[test]
    fn a_service_principal_s_newest_sign_in_is_of_any_kind() {
        let row: ServicePrincipalSignInActivity = serde_json::from_value(json!({
            "appId": "a",
            "lastSignInActivity": {"lastSignInDateTime": "2026-01-01T00:00:00Z"},
            "applicationAuthenticationResourceSignInActivity": {"lastSignInDateTime": "2026-03-01T00:00:00Z"},
            "delegatedClientSignInActivity": {"lastSignInDateTime": null}
        }))
        .expect("parses");
        assert_eq!(
            row.newest().map(|d| d.to_rfc3339()),
            Some("2026-03-01T00:00:00+00:00".to_string())
        );
    }
}
