//! Typed Microsoft Graph records, shaped after the real responses in `tests/fixtures/graph-examples/`.
//!
//! Rules every model follows, because real Graph data breaks stricter ones:
//! - unknown properties are ignored (Graph adds properties without a version bump);
//! - enum-like values (`conditionalAccessStatus`, `riskLevel`, `userType`, ...) stay `String`, so a value outside
//!   the documented enum (the docs' own examples carry `"applied"`) is kept, never rejected;
//! - dates that mean "never" come in four shapes and all become `None` (see [`never`]).

mod audit;
mod directory;
mod never;
mod posture;
mod registration;
mod role;
mod sign_in;
mod user;
mod workload;

pub use audit::{
    AppIdentity, AuditActivityInitiator, DirectoryAudit, ModifiedProperty, TargetResource,
    UserIdentity,
};
pub use directory::{DirectoryObject, DirectoryObjectKind};
pub use posture::{
    AuthenticationMethod, AuthenticationStrength, ConditionalAccessConditions,
    ConditionalAccessPolicy, ConditionalAccessUsers, GrantControls, RoleAssignmentScheduleInstance,
};
pub use registration::UserRegistrationDetails;
pub use role::{
    GroupEligibilitySchedule, RoleAssignment, RoleDefinition, RoleEligibilitySchedule,
    RoleEligibilityScheduleInstance, ScheduleExpiration, ScheduleInfo,
};
pub use sign_in::{
    AppliedConditionalAccessPolicy, AuthenticationDetail, DeviceDetail, SignIn, SignInLocation,
    SignInStatus,
};
pub use user::{AssignedLicense, SignInActivity, User};
pub use workload::{
    AppCredentialSignInActivity, AppRoleAssignment, Application, FederatedIdentityCredential,
    KeyCredential, LastSignIn, PasswordCredential, ServicePrincipal,
    ServicePrincipalSignInActivity,
};

use serde::{Deserialize, Deserializer};

/// A JSON array that Graph may also send as `null`: both read as a `Vec`, empty for `null` or missing.
pub(crate) fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string Graph may send as `null`: `""` then.
pub(crate) fn null_as_empty_string<'de, D>(deserializer: D) -> Result<String, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A string where Graph uses `""` for "no value" (request ids in `signInActivity`, `deviceId`): `None` for `""`.
pub(crate) fn empty_as_none<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}
