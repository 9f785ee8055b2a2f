//! Role definitions, assignments and PIM eligibility (Graph docs `resources/unifiedroledefinition.md`,
//! `resources/unifiedroleassignment.md`, `resources/unifiedroleeligibilityschedule.md`,
//! `resources/unifiedroleeligibilityscheduleinstance.md`, `resources/privilegedaccessgroupeligibilityschedule.md`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::DirectoryObject;

/// An active directory role assignment. `principal` is present with `$expand=principal`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// Not a GUID (`lAPpYvVp...-1` in the docs).
    pub id: String,
    pub principal_id: String,
    /// The role template id for built-in roles (REFERENCE §3).
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    pub app_scope_id: Option<String>,
    pub principal: Option<DirectoryObject>,
}

/// A PIM eligibility schedule: who may activate a role, and until when.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleEligibilitySchedule {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    pub app_scope_id: Option<String>,
    pub status: Option<String>,
    /// `Direct` or `Group` (eligible through a group).
    pub member_type: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub created_date_time: Option<DateTime<Utc>>,
    pub schedule_info: Option<ScheduleInfo>,
    pub principal: Option<DirectoryObject>,
}

/// When a schedule starts and how it expires.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleInfo {
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub start_date_time: Option<DateTime<Utc>>,
    pub expiration: Option<ScheduleExpiration>,
}

/// `noExpiration`, `afterDateTime` or `afterDuration`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleExpiration {
    #[serde(rename = "type")]
    pub expiration_type: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub end_date_time: Option<DateTime<Utc>>,
    pub duration: Option<String>,
}

/// One occurrence of an eligibility schedule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleEligibilityScheduleInstance {
    pub id: String,
    pub principal_id: String,
    pub role_definition_id: String,
    pub directory_scope_id: Option<String>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::never::deserialize")]
    pub end_date_time: Option<DateTime<Utc>>,
    pub member_type: Option<String>,
    pub role_eligibility_schedule_id: Option<String>,
}

/// A directory role definition. `isPrivileged`: "Microsoft Entra ID defines whether a role is privileged"
/// (Graph docs `resources/unifiedroledefinition.md`); `None` when Graph sent no such property.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    pub id: String,
    pub template_id: Option<String>,
    pub display_name: Option<String>,
    pub is_privileged: Option<bool>,
}

/// A PIM for Groups eligibility: `principal_id` may activate membership (`accessId` "member") or ownership
/// ("owner") of `group_id`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupEligibilitySchedule {
    pub id: String,
    pub group_id: String,
    pub principal_id: String,
    pub access_id: Option<String>,
    pub status: Option<String>,
    /// Present with `$expand=principal`.
    pub principal: Option<DirectoryObject>,
}
