//! `dormant.reactivated` against the emulator, state on SQLite and DynamoDB (issue 15): two accounts the dormant
//! job found dormant come back within one frequent run, one by registering a FIDO2 key, one by signing in; each
//! is alerted once (high) and its finding resolved as reactivated. A failed attempt by a third is not a
//! reactivation; a later scan that opens the account again from lagging `signInActivity` does not make the same
//! sign-in alert twice.

mod break_glass_support;
mod state_support;

use std::sync::Arc;

use break_glass_support::*;
use chrono::Duration;
use entrawatch_core::alert::{types, Severity};
use entrawatch_core::config::DormantConfig;
use entrawatch_core::graph::GraphPort;
use entrawatch_core::jobs::dormant;
use entrawatch_core::state::{Finding, FindingStatus, Stores};
use entrawatch_emulator::Emulator;
use state_support::fixtures::Fixture;

const FIDO: &str = "0d000000-0000-4000-8000-0000000000f1";
const SIGNS_IN: &str = "0d000000-0000-4000-8000-0000000000f2";
const SPRAYED: &str = "0d000000-0000-4000-8000-0000000000f3";

fn user(id: &str, upn: &str) -> String {
    format!(
        r#"
[[tenants.users]]
id = "{id}"
userPrincipalName = "{upn}@contoso.onmicrosoft.com"
displayName = "{upn}"
userType = "Member"
accountEnabled = true
createdDateTime = "-1000d"
signInActivity = {{ lastSuccessfulSignInDateTime = "-200d", lastSignInDateTime = "-200d" }}
"#
    )
}

/// Three dormant members; 2 to 4 minutes after the start one gets a FIDO2 key (Device Registration Service audit,
/// Entra docs `reference-audit-activities.md`), one signs in, one fails a password (50126).
fn body() -> String {
    let mut body = user(FIDO, "fido") + &user(SIGNS_IN, "back") + &user(SPRAYED, "sprayed");
    body += &format!(
        r#"
[[tenants.audits]]
id = "audit-fido"
category = "Device"
result = "success"
activityDisplayName = "Add FIDO2 security key"
activityDateTime = "+2m"
visible_at = "+3m"
loggedByService = "Device Registration Service"
initiatedBy = {{ user = {{ id = "{FIDO}", userPrincipalName = "fido@contoso.onmicrosoft.com" }} }}
targetResources = [{{ id = "{FIDO}", type = "User", userPrincipalName = "fido@contoso.onmicrosoft.com" }}]

[[tenants.sign_ins]]
id = "signin-back"
createdDateTime = "+3m"
visible_at = "+4m"
userId = "{SIGNS_IN}"
userPrincipalName = "back@contoso.onmicrosoft.com"
appDisplayName = "Office 365"
ipAddress = "203.0.113.9"
status = {{ errorCode = 0 }}

[[tenants.sign_ins]]
id = "signin-spray"
createdDateTime = "+3m"
visible_at = "+4m"
userId = "{SPRAYED}"
userPrincipalName = "sprayed@contoso.onmicrosoft.com"
status = {{ errorCode = 50126, failureReason = "Invalid username or password." }}
"#
    );
    body
}

fn graph(emu: &Emulator) -> Arc<dyn GraphPort> {
    Arc::new(client_for(emu, SECRET, test_options()))
}

async fn scan(emu: &Emulator, stores: &Stores) {
    let config: DormantConfig = toml::from_str("").unwrap();
    let ctx = context(stores, graph(emu), emu.clock().now());
    dormant::run(&ctx, &config, &[]).await.unwrap();
}

async fn watch(emu: &Emulator, stores: &Stores) -> dormant::reactivation::ReactivationOutcome {
    let ctx = context(stores, graph(emu), emu.clock().now());
    dormant::reactivation::watch(&ctx).await.unwrap()
}

async fn a_new_fido2_key_and_a_sign_in_each_reactivate_once<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &body())).await;
    scan(&emu, &stores).await;
    let open = stores
        .findings
        .list_findings(TENANT, dormant::JOB)
        .await
        .unwrap();
    assert_eq!(open.len(), 3, "the scan found the three dormant");
    let quiet = watch(&emu, &stores).await;
    assert_eq!(quiet.alerts, 0, "nothing has happened yet");

    emu.clock().advance(Duration::minutes(5));
    let first = watch(&emu, &stores).await;
    assert_eq!(first.alerts, 2, "{first:?}");
    let alerts: Vec<_> = recorded(&stores)
        .await
        .into_iter()
        .filter(|a| a.kind == types::DORMANT_REACTIVATED)
        .collect();
    assert_eq!(alerts.len(), 2);
    for a in &alerts {
        assert_eq!(a.severity, Severity::High);
    }
    let by = |id: &str| {
        alerts
            .iter()
            .find(|a| a.subject.as_ref().unwrap()["id"] == id)
            .unwrap_or_else(|| panic!("no alert for {id}"))
    };
    assert_eq!(by(FIDO).evidence["trigger"], "security_info");
    assert_eq!(by(FIDO).evidence["activity"], "Add FIDO2 security key");
    assert_eq!(by(SIGNS_IN).evidence["trigger"], "sign_in");
    assert_eq!(by(SIGNS_IN).evidence["signInId"], "signin-back");
    assert_eq!(by(SIGNS_IN).evidence["ipAddress"], "203.0.113.9");
    assert_eq!(by(SIGNS_IN).evidence["population"], "member");
    for id in [FIDO, SIGNS_IN] {
        let f = stores
            .findings
            .get_finding(TENANT, dormant::JOB, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(f.status, FindingStatus::Resolved);
        assert_eq!(f.data["resolution"], "reactivated");
    }
    let sprayed = stores
        .findings
        .get_finding(TENANT, dormant::JOB, SPRAYED)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        sprayed.status,
        FindingStatus::Open,
        "a failed attempt is not a reactivation"
    );

    // signInActivity still says 200 days (it lags): the daily scan opens both again; the watch's overlap re-reads
    // the same sign-in and audit, which count once.
    emu.clock().advance(Duration::minutes(5));
    scan(&emu, &stores).await;
    let again = watch(&emu, &stores).await;
    assert_eq!(again.alerts, 0, "{again:?}");
    assert_eq!(
        recorded(&stores)
            .await
            .iter()
            .filter(|a| a.kind == types::DORMANT_REACTIVATED)
            .count(),
        2
    );
}

async fn with_more_findings_than_fit_in_memory_each_account_that_comes_back_is_looked_up<
    F: Fixture,
>(
    f: F,
) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &body())).await;
    scan(&emu, &stores).await;
    // Findings of other accounts, enough that the watch stops reading them all.
    for i in 0..=dormant::reactivation::FINDINGS_IN_MEMORY {
        let key = format!("0e000000-0000-4000-8000-{i:012x}");
        stores
            .findings
            .put_finding(&Finding {
                tenant: TENANT.into(),
                job: dormant::JOB.into(),
                key: key.clone(),
                status: FindingStatus::Open,
                first_seen: 0,
                last_notified: Some(0),
                resolved_at: None,
                data: serde_json::json!({"subject": {"id": key}, "evidence": {}}),
                expires_at: None,
            })
            .await
            .unwrap();
    }
    emu.clock().advance(Duration::minutes(5));
    let outcome = watch(&emu, &stores).await;
    assert!(outcome.open_findings > dormant::reactivation::FINDINGS_IN_MEMORY);
    assert_eq!(outcome.alerts, 2, "{outcome:?}");
    let sprayed = stores
        .findings
        .get_finding(TENANT, dormant::JOB, SPRAYED)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sprayed.status, FindingStatus::Open);
}

async fn without_open_findings_the_watch_sends_nothing<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &body())).await;
    emu.clock().advance(Duration::minutes(5));
    let before = emu.stats().requests_total;
    let outcome = watch(&emu, &stores).await;
    assert_eq!(outcome.requests, 0);
    assert_eq!(emu.stats().requests_total, before, "not even a token");
}

conformance!(
    a_new_fido2_key_and_a_sign_in_each_reactivate_once,
    with_more_findings_than_fit_in_memory_each_account_that_comes_back_is_looked_up,
    without_open_findings_the_watch_sends_nothing,
);
