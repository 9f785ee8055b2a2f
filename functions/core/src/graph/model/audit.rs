//! `directoryAudit` records (Graph docs `resources/directoryaudit.md`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One directory audit event: a change made in the tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryAudit {
    /// Not a GUID in general (`SSGM_...` in the docs example).
    pub id: String,
    pub activity_date_time: DateTime<Utc>,
    /// E.g. `Reset password (by admin)`, `Add member to role`; `""` when Graph sends `null` (the row is still a
    /// change to alert on).
    #[serde(default, deserialize_with = "super::null_as_empty_string")]
    pub activity_display_name: String,
    pub category: Option<String>,
    /// `success`, `failure`, `timeout`, ... kept as text.
    pub result: Option<String>,
    pub result_reason: Option<String>,
    pub correlation_id: Option<String>,
    pub logged_by_service: Option<String>,
    pub operation_type: Option<String>,
    pub initiated_by: Option<AuditActivityInitiator>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub target_resources: Vec<TargetResource>,
}

/// Who made the change: a user, an app, or neither (system).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuditActivityInitiator {
    pub user: Option<UserIdentity>,
    pub app: Option<AppIdentity>,
}

/// A user that initiated an audited change.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub ip_address: Option<String>,
}

/// An app that initiated an audited change.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppIdentity {
    pub app_id: Option<String>,
    pub display_name: Option<String>,
    pub service_principal_id: Option<String>,
    pub service_principal_name: Option<String>,
}

/// An object the change applied to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    pub id: Option<String>,
    pub display_name: Option<String>,
    /// `User`, `Group`, `N/A`, ... The v1.0 docs example spells the property `Type`; both are read.
    #[serde(rename = "type", alias = "Type")]
    pub resource_type: Option<String>,
    pub user_principal_name: Option<String>,
    #[serde(default, deserialize_with = "super::null_as_empty")]
    pub modified_properties: Vec<ModifiedProperty>,
}

/// One property change; values are JSON-encoded text as Graph sends them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    pub display_name: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}
