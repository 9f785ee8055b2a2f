//! Secrets and certificates expiring in 40, 20 and 5 days and expired ones, against the emulator, state on SQLite
//! and DynamoDB (issue 15): exactly one alert per credential and stage, high within 7 days, an expired credential
//! used after its expiry high and one not used low; a later sweep alerts the next stage; a removed credential
//! resolves its alert; Microsoft's own and excluded apps are left alone; a tenant without P1 still gets the
//! credential alerts, with a note.

mod break_glass_support;
mod state_support;
mod workloads_support;

use break_glass_support::*;
use chrono::Duration;
use entrawatch_core::alert::{types, Severity};
use entrawatch_core::state::Stores;
use state_support::fixtures::Fixture;
use workloads_support::*;

const K40: &str = "c0000000-0000-4000-8000-000000000040";
const K20: &str = "c0000000-0000-4000-8000-000000000020";
const K5: &str = "c0000000-0000-4000-8000-000000000005";
const KEXP: &str = "c0000000-0000-4000-8000-0000000000e0";
const KUSED: &str = "c0000000-0000-4000-8000-0000000000e1";
const KMS: &str = "c0000000-0000-4000-8000-0000000000f0";
const KEXCL: &str = "c0000000-0000-4000-8000-0000000000f1";

fn app_object(n: u32) -> String {
    format!("a0000000-0000-4000-8000-0000000000{n:02}")
}
fn app_id(n: u32) -> String {
    format!("a1000000-0000-4000-8000-0000000000{n:02}")
}
fn sp(n: u32) -> String {
    format!("a2000000-0000-4000-8000-0000000000{n:02}")
}

/// Five apps, one credential each (so no credential counts as another's replacement), one used 1 day ago although
/// it expired 10 days ago, a first-party service principal with an expiring certificate and an excluded app.
/// `keep_20`: whether the 20-day secret is still there.
fn body(keep_20: bool) -> String {
    let mut body = graph_service_principal();
    body += &app_with_credential(
        "Forty",
        &app_object(1),
        &app_id(1),
        &sp(1),
        K40,
        "password",
        "+40d",
    );
    if keep_20 {
        body += &app_with_credential(
            "Twenty",
            &app_object(2),
            &app_id(2),
            &sp(2),
            K20,
            "password",
            "+20d",
        );
    }
    body += &app_with_credential(
        "Five",
        &app_object(3),
        &app_id(3),
        &sp(3),
        K5,
        "certificate",
        "+5d",
    );
    body += &app_with_credential(
        "Lapsed",
        &app_object(4),
        &app_id(4),
        &sp(4),
        KEXP,
        "password",
        "-3d",
    );
    body += &app_with_credential(
        "StillUsed",
        &app_object(5),
        &app_id(5),
        &sp(5),
        KUSED,
        "certificate",
        "-10d",
    );
    body += &app_with_credential(
        "Excluded",
        &app_object(6),
        &app_id(6),
        &sp(6),
        KEXCL,
        "password",
        "+2d",
    );
    body += &format!(
        r#"
[[tenants.service_principals]]
id = "{first_party}"
appId = "a1000000-0000-4000-8000-0000000000ff"
displayName = "Office 365 Exchange Online"
servicePrincipalType = "Application"
appOwnerOrganizationId = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
accountEnabled = true
keyCredentials = [{{ keyId = "{KMS}", endDateTime = "+3d", type = "AsymmetricX509Cert", usage = "Verify" }}]

[[tenants.app_credential_sign_in_activities]]
id = "activity-used"
keyId = "{KUSED}"
appId = "{used_app}"
keyType = "certificate"
credentialOrigin = "application"
expirationDateTime = "-10d"
signInActivity = {{ lastSignInDateTime = "-1d", lastSignInRequestId = "r-used" }}

[[tenants.app_credential_sign_in_activities]]
id = "activity-lapsed"
keyId = "{KEXP}"
appId = "{lapsed_app}"
keyType = "secret"
credentialOrigin = "application"
expirationDate = "2026-11-19T06:00:00Z"
signInActivity = {{ lastSignInDateTime = "-5d" }}
"#,
        first_party = sp(9),
        used_app = app_id(5),
        lapsed_app = app_id(4),
    );
    body
}

fn excluding() -> entrawatch_core::config::WorkloadsConfig {
    config(&format!("exclude_apps = [\"{}\"]", app_id(6)))
}

/// (type, severity, keyId) of every recorded alert, sorted.
async fn credential_alerts(stores: &Stores) -> Vec<(String, Severity, String)> {
    let mut out: Vec<(String, Severity, String)> = recorded(stores)
        .await
        .into_iter()
        .filter(|a| a.kind.starts_with("workload.credential"))
        .map(|a| {
            let key = a.evidence["keyId"].as_str().unwrap_or_default().to_string();
            (a.kind, a.severity, key)
        })
        .collect();
    out.sort_by(|a, b| (a.2.as_str(), a.0.as_str()).cmp(&(b.2.as_str(), b.0.as_str())));
    out
}

fn alert(kind: &str, severity: Severity, key: &str) -> (String, Severity, String) {
    (kind.to_string(), severity, key.to_string())
}

async fn each_credential_is_alerted_once_per_stage_and_resolved_when_removed<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &body(true))).await;
    let first = sweep(&emu, &stores, &excluding()).await.unwrap();
    let expected = vec![
        alert(types::WORKLOAD_CREDENTIAL_EXPIRING, Severity::High, K5),
        alert(types::WORKLOAD_CREDENTIAL_EXPIRING, Severity::Medium, K20),
        alert(types::WORKLOAD_CREDENTIAL_EXPIRED, Severity::Low, KEXP),
        alert(types::WORKLOAD_CREDENTIAL_EXPIRED, Severity::High, KUSED),
    ];
    assert_eq!(
        credential_alerts(&stores).await,
        expected,
        "{:?}",
        first.notes
    );
    let used = recorded(&stores)
        .await
        .into_iter()
        .find(|a| a.evidence.get("keyId").is_some_and(|k| k == KUSED))
        .unwrap();
    assert_eq!(used.evidence["usedAfterExpiry"], "2026-11-21T06:00:00Z");
    assert_eq!(used.evidence["credentialType"], "certificate");
    assert_eq!(used.evidence["daysLeft"], -10);
    assert_eq!(used.subject.as_ref().unwrap()["appId"], app_id(5));
    let lapsed = recorded(&stores)
        .await
        .into_iter()
        .find(|a| a.evidence.get("keyId").is_some_and(|k| k == KEXP))
        .unwrap();
    assert_eq!(lapsed.evidence["usedAfterExpiry"], "not since expiry");
    assert_eq!(
        lapsed.evidence["hint"], "abc",
        "the hint at most, never more of a secret"
    );

    // The same day again: nothing new.
    let again = sweep(&emu, &stores, &excluding()).await.unwrap();
    assert_eq!(again.alerts_recorded, 0, "{:?}", again.notes);
    assert_eq!(credential_alerts(&stores).await, expected);

    // Fourteen days on: the 20-day secret is within 7 days (high), the 40-day one within 30 (medium), the 5-day
    // certificate has expired (unused since: low).
    emu.clock().advance(Duration::days(14));
    sweep(&emu, &stores, &excluding()).await.unwrap();
    let later = credential_alerts(&stores).await;
    assert_eq!(later.len(), 7, "{later:?}");
    assert!(later.contains(&alert(
        types::WORKLOAD_CREDENTIAL_EXPIRED,
        Severity::Low,
        K5
    )));
    assert!(later.contains(&alert(
        types::WORKLOAD_CREDENTIAL_EXPIRING,
        Severity::High,
        K20
    )));
    assert!(later.contains(&alert(
        types::WORKLOAD_CREDENTIAL_EXPIRING,
        Severity::Medium,
        K40
    )));

    // The 20-day secret removed: its alerts are resolved, once.
    let now = emu.clock().now();
    let mut removed = scenario(true, false, &body(false));
    removed.now = Some(now.to_rfc3339());
    let emu = start(removed).await;
    sweep(&emu, &stores, &excluding()).await.unwrap();
    sweep(&emu, &stores, &excluding()).await.unwrap();
    let resolutions: Vec<_> = recorded(&stores)
        .await
        .into_iter()
        .filter(|a| a.resolves.is_some())
        .collect();
    assert_eq!(resolutions.len(), 1, "{resolutions:?}");
    assert_eq!(resolutions[0].evidence["keyId"], K20);
    assert_eq!(resolutions[0].evidence["resolution"], "removed");
    assert_eq!(
        resolutions[0].resolves.as_deref(),
        Some(
            alert_id_of(
                types::WORKLOAD_CREDENTIAL_EXPIRING,
                &format!("{}#{K20}#expiring-soon", app_object(2))
            )
            .as_str()
        ),
        "it closes the last alert of that credential"
    );
}

fn alert_id_of(kind: &str, key: &str) -> String {
    id_of(kind, key)
}

async fn a_rotated_credential_is_resolved_not_alerted<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    // One app: a secret expiring in 20 days and its replacement valid for a year.
    let mut text = graph_service_principal();
    text += &app_with_credential(
        "Rotated",
        &app_object(1),
        &app_id(1),
        &sp(1),
        K20,
        "password",
        "+20d",
    );
    text = text.replace(
        "hint = \"abc\" }]",
        &format!(
            "hint = \"abc\" }}, {{ keyId = \"{K40}\", endDateTime = \"+365d\", hint = \"xyz\" }}]"
        ),
    );
    let emu = start(scenario(true, false, &text)).await;
    let report = sweep(&emu, &stores, &config("")).await.unwrap();
    assert!(
        credential_alerts(&stores).await.is_empty(),
        "{:?}",
        report.notes
    );
}

async fn without_p1_the_credential_alerts_still_come_with_a_note<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(false, false, &body(true))).await;
    let report = sweep(&emu, &stores, &excluding()).await.unwrap();
    let alerts = credential_alerts(&stores).await;
    assert_eq!(alerts.len(), 4, "{alerts:?}");
    assert!(
        alerts.contains(&alert(
            types::WORKLOAD_CREDENTIAL_EXPIRED,
            Severity::Low,
            KUSED
        )),
        "use after expiry cannot be known without the report: low, {alerts:?}"
    );
    let used = recorded(&stores)
        .await
        .into_iter()
        .find(|a| a.evidence.get("keyId").is_some_and(|k| k == KUSED))
        .unwrap();
    assert_eq!(used.evidence["usedAfterExpiry"], "unknown");
    for needle in [
        "whether expired credentials are still used is unknown: the credential activity report needs Entra ID P1 or P2",
        "dormant service principals not checked: the service principal sign-in activity report needs Entra ID P1 or P2",
    ] {
        assert!(report.notes.iter().any(|n| n == needle), "{needle:?} in {:?}", report.notes);
    }
}

conformance!(
    each_credential_is_alerted_once_per_stage_and_resolved_when_removed,
    a_rotated_credential_is_resolved_not_alerted,
    without_p1_the_credential_alerts_still_come_with_a_note,
);
