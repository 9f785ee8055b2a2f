//! Workload identity routes (issue 15): app registrations and service principals with `$select`, `$filter` and
//! paging as Graph documents them, `keyCredentials` at 150 requests a minute per tenant, app role grants,
//! federated credentials, the two beta sign-in activity reports (P1, `AuditLog.Read.All`) and the generator.

mod common;

use common::*;
use entrawatch_emulator::{Emulator, Scenario};
use serde_json::Value;

/// Beside the sample's backup app and Microsoft Graph's service principal: two apps (one with a federated
/// credential), Payroll's service principal, a grant of
/// `RoleManagement.ReadWrite.Directory`, one activity row of each report; `extra` is appended to the tenant.
fn scenario(extra: &str) -> Scenario {
    sample_with(&format!(
        r#"
[[tenants.applications]]
id = "a0000000-0000-4000-8000-000000000001"
appId = "a1000000-0000-4000-8000-000000000001"
displayName = "Payroll"
passwordCredentials = [{{ keyId = "c0000000-0000-4000-8000-000000000001", endDateTime = "+20d", hint = "abc" }}]
keyCredentials = []
federatedIdentityCredentials = [{{ id = "f0000000-0000-4000-8000-000000000001", name = "github", issuer = "https://token.actions.githubusercontent.com", subject = "repo:contoso/payroll:ref:refs/heads/main", audiences = ["api://AzureADTokenExchange"] }}]

[[tenants.applications]]
id = "a0000000-0000-4000-8000-000000000002"
appId = "a1000000-0000-4000-8000-000000000002"
displayName = "Wiki"

[[tenants.service_principals]]
id = "5e000000-0000-4000-8000-0000000000a1"
appId = "a1000000-0000-4000-8000-000000000001"
displayName = "Payroll"
servicePrincipalType = "Application"

[[tenants.app_role_assignments]]
id = "grant-1"
appRoleId = "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"
principalId = "5e000000-0000-4000-8000-0000000000a1"
principalType = "ServicePrincipal"
resourceId = "5e000000-0000-4000-8000-0000000000a0"

[[tenants.app_credential_sign_in_activities]]
id = "aca-1"
keyId = "c0000000-0000-4000-8000-000000000001"
appId = "a1000000-0000-4000-8000-000000000001"
keyType = "secret"
expirationDate = "2026-12-31T00:00:00Z"

[[tenants.service_principal_sign_in_activities]]
id = "spa-1"
appId = "a1000000-0000-4000-8000-000000000001"
lastSignInActivity = {{ lastSignInDateTime = "-1d" }}
{extra}
"#
    ))
}

async fn start(s: Scenario) -> Emulator {
    Emulator::start(s).await.expect("emulator starts")
}

#[tokio::test]
async fn applications_honour_select_top_and_paging_and_refuse_unknown_properties() {
    let emu = start(scenario(
        "[tenants.workload_generator]\napplications = 2500\nservice_principals = 0\nseed = 4\n",
    ))
    .await;
    let t = token(&emu).await;
    let all = get_all(
        &emu,
        &t,
        "/v1.0/applications?$select=id,appId,keyCredentials&$top=999",
    )
    .await;
    assert_eq!(all.len(), 2503, "the sample's, these 2 and 2,500 generated");
    let first = all[0].as_object().unwrap();
    let mut keys: Vec<&str> = first.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["appId", "id", "keyCredentials"],
        "only what was selected, and id"
    );
    let (status, _, body) = get(&emu, &t, "/v1.0/applications?$top=1000").await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "BadRequest"),
        "999 at most"
    );
    let (status, _, body) = get(&emu, &t, "/v1.0/applications?$select=id,secretText").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("secretText"));
    // The navigation property is its own route, never in the entity.
    let (_, _, body) = get(&emu, &t, "/v1.0/applications").await;
    assert_eq!(
        body["value"].as_array().unwrap().len(),
        100,
        "default page 100"
    );
    assert!(body["value"][0]
        .get("federatedIdentityCredentials")
        .is_none());
    let (status, _, creds) = get(
        &emu,
        &t,
        "/v1.0/applications/a0000000-0000-4000-8000-000000000001/federatedIdentityCredentials",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(creds["value"][0]["name"], "github");
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/applications/a0000000-0000-4000-8000-0000000000ff/federatedIdentityCredentials",
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "Request_ResourceNotFound")
    );
    let (status, _, one) = get(
        &emu,
        &t,
        "/v1.0/applications/a0000000-0000-4000-8000-000000000002?$select=id,appId,displayName",
    )
    .await;
    assert_eq!(
        (status, one["appId"].as_str()),
        (200, Some("a1000000-0000-4000-8000-000000000002"))
    );
}

#[tokio::test]
async fn service_principals_filter_on_app_id_and_type_and_refuse_other_filters() {
    let emu = start(scenario(
        "[tenants.workload_generator]\napplications = 10\nservice_principals = 10000\nseed = 4\n",
    ))
    .await;
    let t = token(&emu).await;
    let all = get_all(
        &emu,
        &t,
        "/v1.0/servicePrincipals?$select=id,appId,servicePrincipalType&$top=999",
    )
    .await;
    assert_eq!(
        all.len(),
        10_003,
        "the sample's 2, this one and 10,000 generated, in 11 pages"
    );
    let managed = get_all(
        &emu,
        &t,
        "/v1.0/servicePrincipals?$filter=servicePrincipalType%20eq%20'ManagedIdentity'&$top=999",
    )
    .await;
    assert!(
        !managed.is_empty()
            && managed
                .iter()
                .all(|s| s["servicePrincipalType"] == "ManagedIdentity")
    );
    let (status, _, one) = get(
        &emu,
        &t,
        "/v1.0/servicePrincipals?$filter=appId%20eq%20'00000003-0000-0000-c000-000000000000'",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["value"].as_array().unwrap().len(), 1);
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/servicePrincipals?$filter=startswith(displayName,'sp')",
    )
    .await;
    assert_eq!((status, error_code(&body)), (400, "BadRequest"));
    // Grants of Microsoft Graph's app roles, and those one service principal holds.
    let granted = get_all(
        &emu,
        &t,
        "/v1.0/servicePrincipals/5e000000-0000-4000-8000-0000000000a0/appRoleAssignedTo",
    )
    .await;
    assert_eq!(granted.len(), 1);
    assert_eq!(
        granted[0]["appRoleId"],
        "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8"
    );
    let held = get_all(
        &emu,
        &t,
        "/v1.0/servicePrincipals/5e000000-0000-4000-8000-0000000000a1/appRoleAssignments",
    )
    .await;
    assert_eq!(held.len(), 1);
    let none = get_all(
        &emu,
        &t,
        "/v1.0/servicePrincipals/5e000000-0000-4000-8000-0000000000a0/appRoleAssignments",
    )
    .await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn selecting_key_credentials_is_limited_to_150_a_minute_per_tenant() {
    let emu = start(scenario("")).await;
    let t = token(&emu).await;
    for i in 0..150 {
        let (status, _, body) = get(
            &emu,
            &t,
            "/v1.0/servicePrincipals?$select=id,keyCredentials&$top=1",
        )
        .await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let (status, retry, body) = get(
        &emu,
        &t,
        "/v1.0/applications?$select=id,keyCredentials&$top=1",
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (429, "TooManyRequests"),
        "{body}"
    );
    let wait: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (status, _, _) = get(
        &emu,
        &t,
        "/v1.0/applications?$select=id,passwordCredentials&$top=1",
    )
    .await;
    assert_eq!(
        status, 200,
        "without keyCredentials the request is not in that budget"
    );
    assert_eq!(
        emu.stats().by_family.get("key_credentials").copied(),
        Some(151)
    );
}

#[tokio::test]
async fn the_reports_are_beta_only_need_p1_and_audit_log_read() {
    let emu = start(scenario("")).await;
    let t = token(&emu).await;
    let (status, _, rows) = get(&emu, &t, "/beta/reports/appCredentialSignInActivities").await;
    assert_eq!(status, 200);
    assert_eq!(
        rows["value"][0]["expirationDate"], "2026-12-31T00:00:00Z",
        "the docs' own quirk, served as written"
    );
    assert_eq!(rows["value"][0]["keyType"], "secret");
    let (status, _, rows) = get(&emu, &t, "/beta/reports/servicePrincipalSignInActivities?$filter=appId%20eq%20'a1000000-0000-4000-8000-000000000001'").await;
    assert_eq!((status, rows["value"].as_array().unwrap().len()), (200, 1));
    let (status, _, _) = get(&emu, &t, "/v1.0/reports/servicePrincipalSignInActivities").await;
    assert_eq!(status, 404, "beta only");
    let (status, _, body) = get(
        &emu,
        &t,
        "/beta/reports/servicePrincipalSignInActivities?$filter=displayName%20eq%20'x'",
    )
    .await;
    assert_eq!((status, error_code(&body)), (400, "BadRequest"));

    let mut no_p1 = scenario("");
    no_p1.tenants[0].premium = false;
    let emu = start(no_p1).await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/beta/reports/appCredentialSignInActivities").await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
    );
    let (status, _, _) = get(&emu, &t, "/v1.0/applications").await;
    assert_eq!(status, 200, "the directory reads need no licence");
}

#[tokio::test]
async fn without_application_read_all_the_listings_are_refused() {
    let mut s = scenario("");
    s.tenants[0].apps[0]
        .permissions
        .retain(|p| p != "Application.Read.All" && p != "Directory.Read.All");
    let emu = start(s).await;
    let t = token(&emu).await;
    for path in [
        "/v1.0/applications",
        "/v1.0/servicePrincipals",
        "/v1.0/servicePrincipals/x/appRoleAssignedTo",
    ] {
        let (status, _, body) = get(&emu, &t, path).await;
        assert_eq!(
            (status, error_code(&body)),
            (403, "Authorization_RequestDenied"),
            "{path}"
        );
    }
    let mut s = scenario("");
    s.tenants[0].apps[0]
        .permissions
        .retain(|p| p != "AuditLog.Read.All" && p != "Directory.Read.All");
    let emu = start(s).await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/beta/reports/servicePrincipalSignInActivities").await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authentication_MSGraphPermissionMissing")
    );
}

#[tokio::test]
async fn generated_workloads_are_deterministic_and_reported() {
    let gen =
        "[tenants.workload_generator]\napplications = 2000\nservice_principals = 3000\nseed = 7\n";
    let fixed = || {
        let mut s = scenario(gen);
        s.now = Some("2026-11-22T06:00:00Z".into());
        s
    };
    let emu = start(fixed()).await;
    let t = token(&emu).await;
    let activity = get_all(
        &emu,
        &t,
        "/beta/reports/servicePrincipalSignInActivities?$top=999",
    )
    .await;
    // One row per service principal except the dormant half without one (10% of 3,000, within 3 sigma).
    let generated = activity.len() as i64 - 1;
    assert!((2600..=2800).contains(&generated), "{generated}");
    let used: Vec<Value> = get_all(
        &emu,
        &t,
        "/beta/reports/appCredentialSignInActivities?$top=999",
    )
    .await;
    assert!(
        used.len() > 10,
        "half the expired secrets were used after expiry: {}",
        used.len()
    );
    let again = start(fixed()).await;
    let t2 = token(&again).await;
    let (_, _, a) = get(&emu, &t, "/v1.0/applications?$top=5").await;
    let (_, _, b) = get(&again, &t2, "/v1.0/applications?$top=5").await;
    assert_eq!(a["value"], b["value"], "same seed, same tenant");
}
