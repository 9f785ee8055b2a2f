//! Every real Graph response in `tests/fixtures/graph-examples/` (copied from Microsoft's Graph docs; sources in its
//! README) parses into its model, with the quirks the README lists.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use entrawatch_core::graph::model::{
    DirectoryAudit, DirectoryObjectKind, RoleAssignment, RoleEligibilitySchedule,
    RoleEligibilityScheduleInstance, SignIn, User,
};
use entrawatch_core::graph::Page;
use serde::de::DeserializeOwned;

fn examples_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/graph-examples"
    ))
}

fn page<T: DeserializeOwned>(file: &str) -> Page<T> {
    let path = examples_dir().join(file);
    let body =
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Page::from_json(&body).unwrap_or_else(|e| panic!("{file} does not parse: {e}"))
}

fn at(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[test]
fn every_example_file_is_covered_by_a_model_test() {
    let covered = [
        "README.md",
        "schema-extract-from-msgraph-metadata.json",
        "directoryaudit-list.v1.0.example1.json",
        "directoryaudit-list.v1.0.example2-filter-initiatedBy.json",
        "rbacapplication-list-roleassignments.v1.0.example1-expand-principal.json",
        "rbacapplication-list-roleassignments.v1.0.example2-filter-principalId.json",
        "rbacapplication-list-roleeligibilityscheduleinstances.v1.0.example.json",
        "rbacapplication-list-roleeligibilityschedules.v1.0.example.json",
        "signin-list.beta.example1-fido-mfa-ca.json",
        "signin-list.beta.example2-password-singlefactor.json",
        "signin-list.v1.0.example1.json",
        "user-list.beta.example6-filter-lastSignInDateTime-le.json",
        "user-list.v1.0.example11-signInActivity.json",
    ];
    let dir = std::fs::read_dir(examples_dir())
        .unwrap_or_else(|e| panic!("cannot list the examples: {e}"));
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(covered.contains(&name.as_str()), "{name} has no model test");
    }
}

#[test]
fn users_with_never_shapes_read_as_none() {
    let users: Page<User> = page("user-list.v1.0.example11-signInActivity.json");
    assert_eq!(users.items.len(), 2);
    assert_eq!(users.next_link, None);
    let adele = &users.items[0];
    assert_eq!(adele.id, "1aecaf40-dc3a-461f-88a8-d06994e12898");
    assert_eq!(
        adele.user_principal_name.as_deref(),
        Some("AdeleV@contoso.com")
    );
    let activity = adele.sign_in_activity.clone().unwrap_or_default();
    assert_eq!(activity.last_sign_in, at("2021-06-17T16:41:33Z"));
    assert_eq!(
        activity.last_sign_in_request_id.as_deref(),
        Some("d4d31c40-4c36-4775-ad59-7d1e6a171f00")
    );
    // "0001-01-01T00:00:00Z" and "" both mean never.
    assert_eq!(activity.last_non_interactive_sign_in, None);
    assert_eq!(activity.last_successful_sign_in, None);
    assert_eq!(activity.last_successful_sign_in_request_id, None);
}

#[test]
fn beta_users_without_ids_still_parse() {
    let users: Page<User> = page("user-list.beta.example6-filter-lastSignInDateTime-le.json");
    let alex = &users.items[1];
    assert_eq!(alex.id, "");
    let activity = alex.sign_in_activity.clone().unwrap_or_default();
    assert_eq!(
        activity.last_non_interactive_sign_in,
        at("2021-07-29T17:53:42Z")
    );
    assert_eq!(activity.last_successful_sign_in, None);
}

#[test]
fn v1_sign_in_keeps_status_location_and_next_link() {
    let sign_ins: Page<SignIn> = page("signin-list.v1.0.example1.json");
    assert!(sign_ins
        .next_link
        .as_deref()
        .is_some_and(|l| l.contains("$skiptoken=")));
    let s = &sign_ins.items[0];
    assert_eq!(s.id, "66ea54eb-6301-4ee5-be62-ff5a759b0100");
    assert_eq!(
        s.created_date_time,
        at("2020-03-13T19:15:41.6195833Z").unwrap_or_default()
    );
    assert_eq!(s.user_id, "26be570a-ae82-4189-b4e2-a37c6808512d");
    assert_eq!(s.status.error_code, Some(0));
    assert!(s.status.succeeded());
    assert_eq!(s.is_interactive, Some(true));
    assert_eq!(
        s.location.as_ref().and_then(|l| l.city.as_deref()),
        Some("Redmond")
    );
    assert_eq!(s.risk_level_during_sign_in.as_deref(), Some("none"));
    assert_eq!(s.applied_conditional_access_policies.len(), 2);
    assert!(s.sign_in_event_types.is_empty());
}

#[test]
fn beta_sign_in_with_empty_status_and_odd_case_keeps_values() {
    let sign_ins: Page<SignIn> = page("signin-list.beta.example2-password-singlefactor.json");
    let s = &sign_ins.items[0];
    assert_eq!(s.status.error_code, None);
    assert!(!s.status.succeeded());
    assert_eq!(s.conditional_access_status.as_deref(), Some("applied"));
    assert_eq!(s.risk_level_during_sign_in.as_deref(), Some("none"));
    assert_eq!(
        s.authentication_requirement.as_deref(),
        Some("singleFactorAuthentication")
    );
    assert_eq!(
        s.device_detail.as_ref().and_then(|d| d.device_id.clone()),
        None
    );
}

#[test]
fn beta_sign_in_keeps_mfa_authentication_steps() {
    let sign_ins: Page<SignIn> = page("signin-list.beta.example1-fido-mfa-ca.json");
    let s = &sign_ins.items[0];
    assert_eq!(
        s.authentication_requirement.as_deref(),
        Some("multiFactorAuthentication")
    );
    let methods: Vec<_> = s
        .authentication_details
        .iter()
        .filter_map(|d| d.authentication_method.as_deref())
        .collect();
    assert_eq!(methods, ["FIDO2", "Claim in access token"]);
}

#[test]
fn audits_read_target_type_in_either_case() {
    let audits: Page<DirectoryAudit> = page("directoryaudit-list.v1.0.example1.json");
    let a = &audits.items[0];
    assert_eq!(a.activity_display_name, "Add member to group");
    assert_eq!(a.result.as_deref(), Some("success"));
    let initiator = a
        .initiated_by
        .as_ref()
        .and_then(|i| i.user.as_ref())
        .and_then(|u| u.user_principal_name.as_deref());
    assert_eq!(initiator, Some("bob@wingtiptoysonline.com"));
    let types: Vec<_> = a
        .target_resources
        .iter()
        .filter_map(|t| t.resource_type.as_deref())
        .collect();
    assert_eq!(types, ["Group", "User"]);
    assert_eq!(
        a.target_resources[0].modified_properties[0]
            .new_value
            .as_deref(),
        Some("DirectorySync")
    );

    let audits: Page<DirectoryAudit> =
        page("directoryaudit-list.v1.0.example2-filter-initiatedBy.json");
    let a = &audits.items[0];
    assert_eq!(
        a.id,
        "SSGM_b662f17a-4e4d-4e1c-9248-cdec180024b2_MCDC4_88453290"
    );
    assert_eq!(a.target_resources[0].resource_type.as_deref(), Some("N/A"));
    assert_eq!(
        a.activity_date_time,
        at("2024-12-27T10:01:19.5796748Z").unwrap_or_default()
    );
}

#[test]
fn role_assignments_keep_non_guid_ids_and_expanded_principals() {
    let expanded: Page<RoleAssignment> =
        page("rbacapplication-list-roleassignments.v1.0.example1-expand-principal.json");
    assert_eq!(expanded.items.len(), 3);
    let first = &expanded.items[0];
    assert_eq!(first.id, "lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1");
    assert_eq!(
        first.role_definition_id,
        "62e90394-69f5-4237-9190-012177145e10"
    );
    let principal = first
        .principal
        .as_ref()
        .map(|p| (p.kind(), p.display_name.clone()));
    assert_eq!(
        principal,
        Some((DirectoryObjectKind::User, Some("Joey Cruz".into())))
    );
    assert_eq!(
        expanded.items[1]
            .principal
            .as_ref()
            .and_then(|p| p.user_type.as_deref()),
        Some("Guest")
    );

    let plain: Page<RoleAssignment> =
        page("rbacapplication-list-roleassignments.v1.0.example2-filter-principalId.json");
    assert!(
        plain
            .items
            .iter()
            .all(|a| a.principal.is_none()
                && a.principal_id == "f1847572-48aa-47aa-96a3-2ec61904f41f")
    );
}

#[test]
fn eligibility_schedules_read_expiry_and_treat_min_date_as_none() {
    let schedules: Page<RoleEligibilitySchedule> =
        page("rbacapplication-list-roleeligibilityschedules.v1.0.example.json");
    let s = &schedules.items[0];
    assert_eq!(s.principal_id, "071cc716-8147-4397-a5ba-b2105951cc0b");
    assert_eq!(s.member_type.as_deref(), Some("Direct"));
    let expiration = s.schedule_info.as_ref().and_then(|i| i.expiration.clone());
    assert_eq!(
        expiration
            .as_ref()
            .and_then(|e| e.expiration_type.as_deref()),
        Some("afterDateTime")
    );
    assert_eq!(
        expiration.and_then(|e| e.end_date_time),
        at("2024-04-10T00:00:00Z")
    );

    let instances: Page<RoleEligibilityScheduleInstance> =
        page("rbacapplication-list-roleeligibilityscheduleinstances.v1.0.example.json");
    let i = &instances.items[0];
    assert_eq!(
        i.role_eligibility_schedule_id.as_deref(),
        Some("77f71919-62f3-4d0c-9f88-0a0391b665cd")
    );
    assert_eq!(i.start_date_time, at("2022-04-12T14:44:50.287Z"));
}

#[test]
fn model_property_names_exist_in_the_graph_schema() {
    let path = examples_dir().join("schema-extract-from-msgraph-metadata.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema: serde_json::Value =
        serde_json::from_str(&text).expect("the schema extract is JSON");
    let names = |entity: &str| -> Vec<String> {
        let list = schema["v1.0"][entity]
            .as_array()
            .cloned()
            .unwrap_or_default();
        list.iter()
            .filter_map(|p| p[0].as_str().map(str::to_string))
            .collect()
    };
    for property in [
        "lastSignInDateTime",
        "lastNonInteractiveSignInDateTime",
        "lastSuccessfulSignInDateTime",
    ] {
        assert!(
            names("signInActivity").contains(&property.to_string()),
            "{property}"
        );
    }
    for property in [
        "riskLevelDuringSignIn",
        "conditionalAccessStatus",
        "isInteractive",
        "ipAddress",
        "userId",
    ] {
        assert!(
            names("signIn").contains(&property.to_string()),
            "{property}"
        );
    }
    assert!(names("targetResource").contains(&"type".to_string()));
    let beta = schema["beta.signIn.properties"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(beta.iter().any(|p| p == "signInEventTypes"));
    assert!(beta.iter().any(|p| p == "authenticationRequirement"));
}
