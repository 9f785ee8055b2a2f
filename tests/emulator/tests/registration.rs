//! `reports/authenticationMethods/userRegistrationDetails` (issue 16): one row per enabled user with its methods,
//! paging with `@odata.nextLink`, filters on the UPN and the booleans, `AuditLog.Read.All` and Entra ID P1/P2
//! (Graph docs `authenticationmethodsroot-list-userregistrationdetails.md`), rows for a million generated users.

mod common;

use common::*;
use entrawatch_emulator::Emulator;
use serde_json::Value;

const PATH: &str = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

fn find<'a>(rows: &'a [Value], id: &str) -> Option<&'a Value> {
    rows.iter().find(|r| r["id"] == id)
}

#[tokio::test]
async fn every_enabled_user_has_one_row_with_its_methods_and_flags() {
    let mut scenario = sample_with(
        r##"
[[tenants.users]]
id = "0a000000-0000-4000-8000-0000000000f1"
userPrincipalName = "passkey.user@contoso.onmicrosoft.com"
displayName = "Passkey User"
userType = "Member"
accountEnabled = true
methodsRegistered = ["passKeyDeviceBound"]

[[tenants.users]]
id = "0a000000-0000-4000-8000-0000000000f2"
userPrincipalName = "phone.only@contoso.onmicrosoft.com"
displayName = "Phone Only"
userType = "Member"
accountEnabled = true
authenticationMethods = [{ "@odata.type" = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod" }]
"##,
    );
    scenario.throttle.enabled = false;
    let emu = Emulator::start(scenario).await.expect("emulator starts");
    let t = token(&emu).await;
    let users = get_all(&emu, &t, "/v1.0/users?$select=id,accountEnabled&$top=999").await;
    let rows = get_all(&emu, &t, &format!("{PATH}?$top=5")).await;
    let enabled = users
        .iter()
        .filter(|u| u["accountEnabled"] != false)
        .count();
    assert_eq!(
        rows.len(),
        enabled,
        "one row per enabled user, over pages of 5"
    );
    assert!(
        find(&rows, "0a000000-0000-4000-8000-000000000006").is_none(),
        "the disabled user has no row (\"doesn't work for disabled users\")"
    );
    let passkey = find(&rows, "0a000000-0000-4000-8000-0000000000f1").expect("row");
    assert_eq!(
        passkey["methodsRegistered"],
        serde_json::json!(["passKeyDeviceBound"])
    );
    assert_eq!(passkey["isMfaRegistered"], true);
    assert_eq!(passkey["isPasswordlessCapable"], true);
    assert_eq!(passkey["userDisplayName"], "Passkey User");
    let phone = find(&rows, "0a000000-0000-4000-8000-0000000000f2").expect("row");
    assert_eq!(
        phone["methodsRegistered"],
        serde_json::json!(["microsoftAuthenticatorPush"])
    );
    assert_eq!(phone["isPasswordlessCapable"], false);
    let admin = find(&rows, BG1).expect("emergency account row");
    assert_eq!(admin["isAdmin"], true, "an active role assignment");
    for key in [
        "userPrincipalName",
        "userType",
        "isMfaCapable",
        "lastUpdatedDateTime",
    ] {
        assert!(admin.get(key).is_some(), "{key}");
    }

    let (status, _, one) = get(
        &emu,
        &t,
        &format!("{PATH}?$filter=userPrincipalName%20eq%20'passkey.user@contoso.onmicrosoft.com'"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["value"].as_array().map(Vec::len), Some(1));
    let registered = get_all(
        &emu,
        &t,
        &format!("{PATH}?$filter=isMfaRegistered%20eq%20true"),
    )
    .await;
    assert!(registered.iter().all(|r| r["isMfaRegistered"] == true));
    let passkeys = get_all(
        &emu,
        &t,
        &format!("{PATH}?$filter=methodsRegistered/any(m:m%20eq%20'passKeyDeviceBound')"),
    )
    .await;
    assert!(find(&passkeys, "0a000000-0000-4000-8000-0000000000f1").is_some());
    assert!(passkeys.iter().all(|r| r["methodsRegistered"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x == "passKeyDeviceBound"))));
    assert!(!registered.is_empty() && registered.len() < rows.len());
    let (status, _, body) = get(
        &emu,
        &t,
        &format!("{PATH}?$filter=lastUpdatedDateTime%20eq%20'x'"),
    )
    .await;
    assert_eq!((status, error_code(&body)), (400, "BadRequest"));
    let (status, _, body) = get(&emu, &t, &format!("{PATH}?$top=1000")).await;
    assert_eq!((status, error_code(&body)), (400, "BadRequest"));
}

#[tokio::test]
async fn the_report_needs_audit_log_read_all_and_a_premium_licence() {
    let mut s = sample_with("");
    s.tenants[0].apps[0]
        .permissions
        .retain(|p| p != "AuditLog.Read.All" && p != "Directory.Read.All");
    let emu = Emulator::start(s).await.expect("emulator starts");
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, PATH).await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authentication_MSGraphPermissionMissing")
    );
    let mut s = sample_with("");
    s.tenants[0].premium = false;
    let emu = Emulator::start(s).await.expect("emulator starts");
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, PATH).await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant")
    );
}

#[tokio::test]
async fn the_report_counts_against_the_reports_budget() {
    let emu = sample().await;
    let t = token(&emu).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(get(&emu, &t, PATH).await.0);
    }
    assert_eq!(
        statuses,
        vec![200, 200, 200, 200, 200, 429],
        "5 reports requests per 10 s"
    );
}

#[tokio::test]
async fn a_million_generated_users_have_rows_computed_on_demand() {
    let emu = Emulator::start(sample_with(
        "[tenants.generator]\nusers = 1000000\nseed = 16\n",
    ))
    .await
    .expect("emulator starts");
    let t = token(&emu).await;
    let (status, _, first) = get(&emu, &t, &format!("{PATH}?$top=999")).await;
    assert_eq!(status, 200);
    let page = first["value"].as_array().expect("rows");
    assert!(page.len() > 900, "a full page, less disabled users");
    assert!(first["@odata.nextLink"].as_str().is_some());
    let methods: std::collections::BTreeSet<String> = page
        .iter()
        .flat_map(|r| {
            r["methodsRegistered"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    assert!(methods.contains("passKeyDeviceBound") && methods.contains("mobilePhone"));
    let unregistered = page
        .iter()
        .filter(|r| r["isMfaRegistered"] == false)
        .count();
    assert!(unregistered > 100, "about a third have no second factor");
    // The same rows on a second read: a pure function of the user.
    let (_, _, again) = get(&emu, &t, &format!("{PATH}?$top=999")).await;
    assert_eq!(
        first["value"][10]["methodsRegistered"],
        again["value"][10]["methodsRegistered"]
    );
}
