//! `userRegistrationDetails`: the methods a user registered (Graph docs `resources/userregistrationdetails.md`,
//! `api/authenticationmethodsroot-list-userregistrationdetails.md`; REFERENCE.md §12).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One user's row of the registration report. The method names stay text: the documented list is not complete
/// (REFERENCE.md §12), and an unknown name is shown as Graph sent it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRegistrationDetails {
    /// The user's object id.
    pub id: String,
    pub user_principal_name: Option<String>,
    pub is_admin: Option<bool>,
    pub is_mfa_registered: Option<bool>,
    pub is_mfa_capable: Option<bool>,
    pub is_passwordless_capable: Option<bool>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub methods_registered: Vec<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub last_updated_date_time: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_null_methods_parses_as_none_registered() -> Result<(), serde_json::Error> {
        let row: UserRegistrationDetails = serde_json::from_str(
            r#"{"id":"u1","isMfaRegistered":false,"methodsRegistered":null,"lastUpdatedDateTime":null}"#,
        )?;
        assert!(row.methods_registered.is_empty());
        assert_eq!(row.is_mfa_registered, Some(false));
        Ok(())
    }
}
