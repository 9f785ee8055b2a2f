use super::*;
use serde_json::json;

const BG: &str = "0b000000-0000-4000-8000-000000000001";
const EXCLUDED: &str = "9a000000-0000-4000-8000-000000000001";
const OTHER: &str = "9a000000-0000-4000-8000-000000000002";

fn policy(value: serde_json::Value) -> ConditionalAccessPolicy {
    serde_json::from_value(value).unwrap()
}

fn require_mfa(state: &str, users: serde_json::Value) -> ConditionalAccessPolicy {
    policy(json!({
        "id": "p1", "displayName": "Require MFA", "state": state,
        "conditions": {"users": users},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    }))
}

fn account(groups: &[&str]) -> AccountScope {
    AccountScope {
        id: BG.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        roles: HashSet::new(),
    }
}

#[test]
fn all_users_excluding_a_group_the_account_is_in_passes_and_excluding_another_applies() {
    let in_group = account(&[EXCLUDED]);
    let p = require_mfa(
        "enabled",
        json!({"includeUsers": ["All"], "excludeGroups": [EXCLUDED]}),
    );
    assert_eq!(judge(&p, &in_group), Verdict::Passes);
    let p = require_mfa(
        "enabled",
        json!({"includeUsers": ["All"], "excludeGroups": [OTHER]}),
    );
    assert_eq!(judge(&p, &in_group), Verdict::Applies(Reach::AllUsers));
}

#[test]
fn groups_roles_and_the_account_itself_reach_it_and_exclusions_win() {
    let mut a = account(&["g-admins"]);
    a.roles.insert(GLOBAL_ADMINISTRATOR.into());
    let by_group = require_mfa("enabled", json!({"includeGroups": ["G-ADMINS"]}));
    assert_eq!(
        judge(&by_group, &a),
        Verdict::Applies(Reach::Group("G-ADMINS".into()))
    );
    let by_role = require_mfa("enabled", json!({"includeRoles": [GLOBAL_ADMINISTRATOR]}));
    assert_eq!(
        judge(&by_role, &a),
        Verdict::Applies(Reach::Role(GLOBAL_ADMINISTRATOR.into()))
    );
    let excluded_by_role = require_mfa(
        "enabled",
        json!({"includeUsers": [BG.to_uppercase()], "excludeRoles": [GLOBAL_ADMINISTRATOR]}),
    );
    assert_eq!(judge(&excluded_by_role, &a), Verdict::Passes);
    let excluded_directly = require_mfa(
        "enabled",
        json!({"includeUsers": ["All"], "excludeUsers": [BG]}),
    );
    assert_eq!(judge(&excluded_directly, &a), Verdict::Passes);
    let elsewhere = require_mfa("enabled", json!({"includeGroups": ["g-sales"]}));
    assert_eq!(judge(&elsewhere, &a), Verdict::Passes);
}

#[test]
fn disabled_passes_and_report_only_is_listed_not_applied() {
    let a = account(&[]);
    let users = json!({"includeUsers": ["All"]});
    assert_eq!(
        judge(&require_mfa("disabled", users.clone()), &a),
        Verdict::Passes
    );
    assert_eq!(
        judge(&require_mfa("enabledForReportingButNotEnforced", users), &a),
        Verdict::ReportOnly(Reach::AllUsers)
    );
}

#[test]
fn only_a_phishing_resistant_strength_with_nothing_else_covers_the_account() {
    let a = account(&[]);
    let with = |grant: serde_json::Value| {
        policy(json!({"id": "p", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}}, "grantControls": grant}))
    };
    let built_in = with(json!({"operator": "OR", "builtInControls": [],
        "authenticationStrength": {"id": PHISHING_RESISTANT_STRENGTH, "displayName": "Phishing-resistant MFA"}}));
    assert_eq!(judge(&built_in, &a), Verdict::Passes);
    let custom = with(json!({"builtInControls": [],
        "authenticationStrength": {"id": "c1", "allowedCombinations": ["fido2", "x509CertificateMultiFactor"]}}));
    assert_eq!(judge(&custom, &a), Verdict::Passes);
    let weaker = with(json!({"builtInControls": [],
        "authenticationStrength": {"id": "00000000-0000-0000-0000-000000000002", "allowedCombinations": ["password,sms", "fido2"]}}));
    assert_eq!(judge(&weaker, &a), Verdict::Applies(Reach::AllUsers));
    let also_a_device = with(json!({"builtInControls": ["compliantDevice"],
        "authenticationStrength": {"id": PHISHING_RESISTANT_STRENGTH}}));
    assert_eq!(judge(&also_a_device, &a), Verdict::Applies(Reach::AllUsers));
    let block = with(json!({"builtInControls": ["block"]}));
    assert_eq!(judge(&block, &a), Verdict::Applies(Reach::AllUsers));
}

#[test]
fn methods_and_roles() {
    let m = |t: &str| AuthenticationMethod {
        odata_type: Some(format!("#microsoft.graph.{t}")),
        id: "m".into(),
    };
    assert!(!has_phishing_resistant_method(&[
        m("passwordAuthenticationMethod"),
        m("microsoftAuthenticatorAuthenticationMethod")
    ]));
    assert!(has_phishing_resistant_method(&[m(
        "fido2AuthenticationMethod"
    )]));
    let instance = |kind: &str, end: Option<&str>| {
        serde_json::from_value::<RoleAssignmentScheduleInstance>(json!({
            "id": "i", "principalId": BG, "roleDefinitionId": GLOBAL_ADMINISTRATOR,
            "directoryScopeId": "/", "assignmentType": kind, "endDateTime": end
        }))
        .unwrap()
    };
    assert!(permanent_global_admin(&[instance("Assigned", None)]));
    assert!(!permanent_global_admin(&[instance(
        "Activated",
        Some("2026-12-03T10:00:00Z")
    )]));
    assert!(!permanent_global_admin(&[instance(
        "Assigned",
        Some("2027-01-01T00:00:00Z")
    )]));
    assert!(!permanent_global_admin(&[]));
}
