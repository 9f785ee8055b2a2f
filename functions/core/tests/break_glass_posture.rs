//! Emergency-account posture (issue 16) against the emulator, state on SQLite and DynamoDB: a policy for all users
//! that excludes a group the account is a transitive member of passes, the same policy excluding only another
//! group alerts `ca_exclusion` naming it, a policy requiring only phishing-resistant authentication passes; an
//! account with only the Authenticator app alerts `phishing_resistant_method`; an eligible-only Global
//! Administrator alerts `permanent_role`; an "Update Conditional Access policy" audit re-checks in the same run;
//! each alert resolves when fixed; the Conditional Access read never goes faster than one request a second.

mod break_glass_support;
mod state_support;

use std::sync::Arc;

use break_glass_support::*;
use chrono::Duration;
use entrawatch_core::alert::{types, Alert, Severity};
use entrawatch_core::config::GraphLimitsConfig;
use entrawatch_core::graph::{GraphPort, SharedBudget};
use entrawatch_core::state::Stores;
use entrawatch_emulator::{Emulator, Scenario};
use state_support::fixtures::Fixture;

const GA: &str = "62e90394-69f5-4237-9190-012177145e10";
/// "Emergency access" holds "Emergency access (nested)", which holds bg1: bg1 is a transitive member.
const EMERGENCY_GROUP: &str = "06000000-0000-4000-8000-0000000000e1";
const NESTED_GROUP: &str = "06000000-0000-4000-8000-0000000000e2";
const OTHER_GROUP: &str = "06000000-0000-4000-8000-0000000000e3";
const PHISHING_RESISTANT: &str = "00000000-0000-0000-0000-000000000004";

/// A P1 + P2 tenant with [`USERS`], the groups above, `body` appended, the clock frozen at `now` (RFC 3339).
fn tenant(now: &str, throttle: bool, body: &str) -> Scenario {
    let toml = format!(
        r#"now = "{now}"
freeze_clock = true
[throttle]
enabled = {throttle}

[[tenants]]
id = "{TENANT}"
name = "contoso"
premium = true
p2 = true

[[tenants.apps]]
client_id = "{CLIENT}"
secret = "{SECRET}"
{USERS}
[[tenants.groups]]
id = "{EMERGENCY_GROUP}"
displayName = "Emergency access"
members = ["{NESTED_GROUP}"]

[[tenants.groups]]
id = "{NESTED_GROUP}"
displayName = "Emergency access (nested)"
members = ["{BG1}"]

[[tenants.groups]]
id = "{OTHER_GROUP}"
displayName = "Contractors"
members = ["{OTHER}"]
{body}
"#
    );
    Scenario::from_toml_str(&toml).unwrap_or_else(|e| panic!("posture scenario: {e}"))
}

/// A permanent Global Administrator (PIM: standing, no end) and a passkey for `user`.
fn well_kept(user: &str) -> String {
    format!(
        r##"
[[tenants.role_assignments]]
id = "ra-{user}"
roleDefinitionId = "{GA}"
principalId = "{user}"

[[tenants.role_assignment_schedule_instances]]
id = "rasi-{user}"
principalId = "{user}"
roleDefinitionId = "{GA}"
directoryScopeId = "/"
assignmentType = "Assigned"
memberType = "Direct"

[[tenants.authentication_methods]]
userId = "{user}"
"@odata.type" = "#microsoft.graph.fido2AuthenticationMethod"
id = "fido-{user}"
displayName = "Security key"
"##
    )
}

/// An enabled policy requiring MFA of all users except `excluded_group`.
fn all_users_except(id: &str, name: &str, excluded_group: &str) -> String {
    format!(
        r#"
[[tenants.conditional_access_policies]]
id = "{id}"
displayName = "{name}"
state = "enabled"
conditions = {{ users = {{ includeUsers = ["All"], excludeUsers = [], includeGroups = [], excludeGroups = ["{excluded_group}"], includeRoles = [], excludeRoles = [] }} }}
grantControls = {{ operator = "OR", builtInControls = ["mfa"] }}
"#
    )
}

fn phishing_resistant_for(user: &str) -> String {
    format!(
        r#"
[[tenants.conditional_access_policies]]
id = "c4000000-0000-4000-8000-0000000000f1"
displayName = "Emergency accounts: phishing-resistant MFA"
state = "enabled"
conditions = {{ users = {{ includeUsers = ["{user}"] }} }}
grantControls = {{ operator = "OR", builtInControls = [], authenticationStrength = {{ id = "{PHISHING_RESISTANT}", displayName = "Phishing-resistant MFA" }} }}
"#
    )
}

fn posture_alerts(alerts: &[Alert]) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|a| a.kind == types::BREAK_GLASS_POSTURE)
        .collect()
}

fn check(a: &Alert) -> &str {
    a.evidence["check"].as_str().unwrap_or_default()
}

async fn run(emu: &Emulator, stores: &Stores, accounts: &[&str]) -> Vec<String> {
    let config = bg_config(accounts, "posture = true");
    let report = run_once(emu, stores, &config)
        .await
        .unwrap_or_else(|e| panic!("break-glass run: {e}"));
    report.notes
}

async fn group_exclusions_and_phishing_resistant_policies_pass_another_group_alerts_and_resolves<
    F: Fixture,
>(
    f: F,
) {
    let stores = Stores::new(f.open().await);
    let policies = |second_excludes: &str| {
        format!(
            "{}{}{}{}",
            well_kept(BG1),
            all_users_except(
                "c4000000-0000-4000-8000-000000000001",
                "Require MFA for everyone",
                EMERGENCY_GROUP
            ),
            all_users_except(
                "c4000000-0000-4000-8000-000000000002",
                "Block legacy authentication",
                second_excludes
            ),
            phishing_resistant_for(BG1),
        )
    };
    let emu = start(tenant(START, false, &policies(OTHER_GROUP))).await;
    let notes = run(&emu, &stores, &[BG1]).await;
    let alerts = recorded(&stores).await;
    let posture = posture_alerts(&alerts);
    assert_eq!(posture.len(), 1, "{posture:?} {notes:?}");
    let a = posture[0];
    assert_eq!((check(a), a.severity), ("ca_exclusion", Severity::High));
    assert_eq!(a.evidence["policyName"], "Block legacy authentication");
    assert_eq!(
        a.evidence["policyId"],
        "c4000000-0000-4000-8000-000000000002"
    );
    assert_eq!(a.evidence["rule"], "includeUsers: All");
    assert!(
        a.title.contains("Block legacy authentication"),
        "{}",
        a.title
    );
    assert_eq!(a.subject.as_ref().unwrap()["id"], BG1);
    // The next run (not due yet) and one an hour later (due, still failing) add nothing.
    emu.clock().advance(Duration::minutes(5));
    run(&emu, &stores, &[BG1]).await;
    emu.clock().advance(Duration::minutes(61));
    run(&emu, &stores, &[BG1]).await;
    assert_eq!(posture_alerts(&recorded(&stores).await).len(), 1);
    let later = emu.clock().now();
    emu.stop().await;

    // Fixed: the policy now excludes the emergency group too. The hourly check resolves the alert, once.
    let fixed_at = (later + Duration::minutes(61)).to_rfc3339();
    let emu = start(tenant(&fixed_at, false, &policies(EMERGENCY_GROUP))).await;
    run(&emu, &stores, &[BG1]).await;
    emu.clock().advance(Duration::minutes(61));
    run(&emu, &stores, &[BG1]).await;
    let alerts = recorded(&stores).await;
    let posture = posture_alerts(&alerts);
    assert_eq!(posture.len(), 2, "{posture:?}");
    let resolution = posture[1];
    assert_eq!(resolution.severity, Severity::Info);
    assert_eq!(resolution.resolves.as_deref(), Some(posture[0].id.as_str()));
    assert_eq!(resolution.evidence["resolution"], "fixed");
    assert_eq!(
        resolution.evidence["policyName"],
        "Block legacy authentication"
    );
}

async fn authenticator_only_and_eligible_only_global_admin_alert_and_resolve_when_fixed<
    F: Fixture,
>(
    f: F,
) {
    let stores = Stores::new(f.open().await);
    // bg1: a permanent Global Administrator with only the Authenticator app. bg2: a passkey, and Global
    // Administrator only as an eligible role (PIM), never active.
    let broken = format!(
        r##"
[[tenants.role_assignments]]
id = "ra-bg1"
roleDefinitionId = "{GA}"
principalId = "{BG1}"

[[tenants.role_assignment_schedule_instances]]
id = "rasi-bg1"
principalId = "{BG1}"
roleDefinitionId = "{GA}"
directoryScopeId = "/"
assignmentType = "Assigned"

[[tenants.authentication_methods]]
userId = "{BG1}"
"@odata.type" = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
id = "auth-bg1"
displayName = "iPhone"

[[tenants.authentication_methods]]
userId = "{BG2}"
"@odata.type" = "#microsoft.graph.fido2AuthenticationMethod"
id = "fido-bg2"

[[tenants.role_eligibility_schedules]]
id = "res-bg2"
principalId = "{BG2}"
roleDefinitionId = "{GA}"
memberType = "Direct"
status = "Provisioned"
scheduleInfo = {{ startDateTime = "-10d", expiration = {{ type = "noExpiration" }} }}
"##
    );
    let emu = start(tenant(START, false, &broken)).await;
    run(&emu, &stores, &[BG1, BG2]).await;
    let alerts = recorded(&stores).await;
    let mut found: Vec<(String, String)> = posture_alerts(&alerts)
        .iter()
        .map(|a| {
            (
                a.subject.as_ref().unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                check(a).to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            (BG1.to_string(), "phishing_resistant_method".to_string()),
            (BG2.to_string(), "permanent_role".to_string()),
        ]
    );
    let method = posture_alerts(&alerts)
        .into_iter()
        .find(|a| check(a) == "phishing_resistant_method")
        .unwrap();
    assert_eq!(
        method.evidence["methodsRegistered"],
        serde_json::json!(["microsoftAuthenticatorAuthenticationMethod"])
    );
    let later = emu.clock().now();
    emu.stop().await;

    // Fixed: bg1 registers a passkey, bg2 becomes a permanent Global Administrator.
    let fixed_at = (later + Duration::minutes(61)).to_rfc3339();
    let emu = start(tenant(
        &fixed_at,
        false,
        &format!("{}{}", well_kept(BG1), well_kept(BG2)),
    ))
    .await;
    run(&emu, &stores, &[BG1, BG2]).await;
    let alerts = recorded(&stores).await;
    let resolutions: Vec<&Alert> = posture_alerts(&alerts)
        .into_iter()
        .filter(|a| a.resolves.is_some())
        .collect();
    assert_eq!(resolutions.len(), 2, "{resolutions:?}");
    emu.clock().advance(Duration::minutes(61));
    run(&emu, &stores, &[BG1, BG2]).await;
    assert_eq!(
        posture_alerts(&recorded(&stores).await).len(),
        4,
        "nothing after the fix"
    );
}

async fn without_p2_a_plain_global_admin_assignment_is_permanent<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    // No P2, so no PIM: PIM's instances answer a licence error and every active assignment is standing. bg1 holds
    // Global Administrator, bg2 nothing; both have a passkey.
    let body = format!(
        r##"
[[tenants.role_assignments]]
id = "ra-bg1"
roleDefinitionId = "{GA}"
principalId = "{BG1}"

[[tenants.authentication_methods]]
userId = "{BG1}"
"@odata.type" = "#microsoft.graph.fido2AuthenticationMethod"
id = "fido-bg1"

[[tenants.authentication_methods]]
userId = "{BG2}"
"@odata.type" = "#microsoft.graph.fido2AuthenticationMethod"
id = "fido-bg2"
"##
    );
    let mut scenario = tenant(START, false, &body);
    scenario.tenants[0].p2 = false;
    let emu = start(scenario).await;
    let notes = run(&emu, &stores, &[BG1, BG2]).await;
    let alerts = recorded(&stores).await;
    let found: Vec<(&str, &str)> = posture_alerts(&alerts)
        .iter()
        .map(|a| {
            (
                a.subject.as_ref().unwrap()["id"].as_str().unwrap(),
                check(a),
            )
        })
        .collect();
    assert_eq!(found, vec![(BG2, "permanent_role")], "{notes:?}");
}

async fn a_policy_update_audit_rechecks_in_the_same_run<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let good = format!(
        "{}{}",
        well_kept(BG1),
        all_users_except(
            "c4000000-0000-4000-8000-000000000001",
            "Require MFA for everyone",
            EMERGENCY_GROUP
        )
    );
    let emu = start(tenant(START, false, &good)).await;
    run(&emu, &stores, &[BG1]).await;
    assert!(posture_alerts(&recorded(&stores).await).is_empty());
    let first = emu.clock().now();
    emu.stop().await;

    // Ten minutes later someone changed the policy to exclude another group: the posture is not due by the hour,
    // but the run that reads the policy's audit checks again.
    let changed = format!(
        "{}{}",
        well_kept(BG1),
        all_users_except(
            "c4000000-0000-4000-8000-000000000001",
            "Require MFA for everyone",
            OTHER_GROUP
        )
    );
    let audit = r#"
[[tenants.audits]]
id = "ca-update-1"
activityDateTime = "-5m"
activityDisplayName = "Update Conditional Access policy"
category = "Policy"
loggedByService = "Conditional Access"
result = "success"
initiatedBy = { user = { id = "0a000000-0000-4000-8000-00000000000b", userPrincipalName = "someone@contoso.onmicrosoft.com" } }
targetResources = [{ id = "c4000000-0000-4000-8000-000000000001", displayName = "Require MFA for everyone", type = "Policy", modifiedProperties = [] }]
"#;
    let at = (first + Duration::minutes(10)).to_rfc3339();
    // Without the audit the change waits for the hourly check ...
    let quiet_stores = Stores::new(f.open().await);
    let emu = start(tenant(START, false, &good)).await;
    run(&emu, &quiet_stores, &[BG1]).await;
    emu.stop().await;
    let emu = start(tenant(&at, false, &changed)).await;
    let notes = run(&emu, &quiet_stores, &[BG1]).await;
    assert!(
        posture_alerts(&recorded(&quiet_stores).await).is_empty(),
        "{notes:?}"
    );
    emu.stop().await;
    // ... with it, the same run alerts.
    let emu = start(tenant(&at, false, &format!("{changed}{audit}"))).await;
    let notes = run(&emu, &stores, &[BG1]).await;
    let alerts = recorded(&stores).await;
    let posture = posture_alerts(&alerts);
    assert_eq!(posture.len(), 1, "{notes:?}");
    assert_eq!(
        posture[0].evidence["policyName"],
        "Require MFA for everyone"
    );
    assert!(
        notes
            .iter()
            .any(|n| n == "a Conditional Access policy changed: posture checked again"),
        "{notes:?}"
    );
    // The policy audit is no change to an emergency account.
    assert!(alerts
        .iter()
        .all(|a| a.kind != types::BREAK_GLASS_ACCOUNT_CHANGED));
}

async fn conditional_access_reads_never_exceed_one_a_second<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let emu = start(tenant(START, true, &well_kept(BG1))).await;
    // Four clients on one store, as four workers would be, each reading the policies twice at once. The emulator
    // answers a second read within a second with 429 (and no Retry-After, as Graph does).
    let budget = SharedBudget::new(
        stores.budget.clone(),
        GraphLimitsConfig::default().shared_limits(),
    );
    let started = std::time::Instant::now();
    let mut reads = Vec::new();
    for _ in 0..4 {
        let mut options = test_options();
        options.shared_budget = Some(budget.clone());
        let graph = Arc::new(client_for(&emu, SECRET, options));
        reads.push(tokio::spawn(async move {
            for _ in 0..2 {
                graph
                    .list_conditional_access_policies(None)
                    .await
                    .unwrap_or_else(|e| panic!("policies: {e}"));
            }
        }));
    }
    for r in reads {
        r.await.unwrap();
    }
    let stats = emu.stats();
    assert_eq!(stats.throttled_429, 0, "{:?}", stats.by_family);
    assert_eq!(
        stats.family("conditional_access"),
        8,
        "{:?}",
        stats.by_family
    );
    // Eight reads, each at least a second after the one before.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    // The job itself reads them through the same client.
    let notes = run(&emu, &stores, &[BG1]).await;
    assert!(
        posture_alerts(&recorded(&stores).await).is_empty(),
        "{notes:?}"
    );
}

conformance!(
    group_exclusions_and_phishing_resistant_policies_pass_another_group_alerts_and_resolves,
    authenticator_only_and_eligible_only_global_admin_alert_and_resolve_when_fixed,
    without_p2_a_plain_global_admin_assignment_is_permanent,
    a_policy_update_audit_rechecks_in_the_same_run,
    conditional_access_reads_never_exceed_one_a_second,
);
