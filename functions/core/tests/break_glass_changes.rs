//! Changes to the emergency accounts and drill reminders against the emulator, state on SQLite
//! and DynamoDB: one `break_glass.account_changed` per audit id, one `break_glass.drill_overdue`
//! per account and period.

mod break_glass_support;
mod state_support;

use std::sync::Arc;

use break_glass_support::*;
use chrono::Duration;
use entrawatch_core::alert::{types, Severity};
use entrawatch_core::graph::{
    wall_epoch_ms, ClientOptions, Family, GraphPort, SharedBudget, SharedLimits,
};
use entrawatch_core::jobs::break_glass;
use entrawatch_core::state::budget::{Priority, Take};
use entrawatch_core::state::Stores;
use state_support::fixtures::Fixture;

fn audit(id: &str, activity: &str, target: &str, ago: &str) -> String {
    format!(
        "[[tenants.audits]]\nid = \"{id}\"\nactivityDisplayName = \"{activity}\"\ncategory = \"UserManagement\"\n\
         activityDateTime = \"{ago}\"\nresult = \"success\"\n\
         initiatedBy = {{ user = {{ id = \"{OTHER}\", userPrincipalName = \"admin@contoso.onmicrosoft.com\", ipAddress = \"198.51.100.20\" }} }}\n\
         targetResources = [{{ id = \"{target}\", type = \"User\", userPrincipalName = \"x@contoso.onmicrosoft.com\", \
         modifiedProperties = [{{ displayName = \"Role.DisplayName\", oldValue = \"@null\", newValue = \"\\\"Global Administrator\\\"\" }}] }}]\n"
    )
}

async fn each_change_to_an_emergency_account_is_alerted_once<F: Fixture>(f: F) {
    let body = [
        USERS.to_string(),
        audit("aud-reset", "Reset password (by admin)", BG1, "-3h"),
        audit("aud-role", "Add member to role", BG1, "-2h"),
        audit("aud-disable", "Disable account", BG2, "-1h"),
        audit("aud-mfa", "User deleted security info", BG2, "-50m"),
        // A name in no list (the account's sessions were revoked) and a known name in lower case: both changes.
        audit(
            "aud-revoke",
            "Update StsRefreshTokenValidFrom Timestamp",
            BG1,
            "-40m",
        ),
        audit("aud-enable", "enable account", BG1, "-35m"),
        audit("aud-other", "Reset password (by admin)", OTHER, "-30m"),
        // Visible only after the first run, inside the look-back of the next one.
        audit("aud-late", "Delete user", BG2, "+1m").replace(
            "result = \"success\"",
            "result = \"success\"\nvisible_at = \"+20m\"",
        ),
    ]
    .concat();
    let emu = start(scenario(true, false, &body)).await;
    let stores = Stores::new(f.open().await);
    let config = bg_config(&[BG1, BG2], "");
    let first = run_once(&emu, &stores, &config).await.unwrap();
    assert_eq!(first.alerts_recorded, 6);
    for _ in 0..6 {
        emu.clock().advance(Duration::minutes(5));
        run_once(&emu, &stores, &config).await.unwrap();
    }
    let alerts = recorded(&stores).await;
    let expected: Vec<String> = [
        "aud-reset",
        "aud-role",
        "aud-disable",
        "aud-mfa",
        "aud-revoke",
        "aud-enable",
        "aud-late",
    ]
    .iter()
    .map(|a| id_of(types::BREAK_GLASS_ACCOUNT_CHANGED, a))
    .collect();
    assert_eq!(ids(&alerts), sorted(expected));
    let role = alerts
        .iter()
        .find(|a| a.evidence["auditId"] == "aud-role")
        .unwrap();
    assert_eq!(role.kind, types::BREAK_GLASS_ACCOUNT_CHANGED);
    assert_eq!(role.severity, Severity::High);
    assert_eq!(role.evidence["activity"], "Add member to role");
    assert_eq!(
        role.evidence["initiatedBy"],
        "admin@contoso.onmicrosoft.com"
    );
    assert_eq!(role.evidence["modifiedProperties"][0], "Role.DisplayName");
    assert_eq!(
        role.title,
        "Emergency account x@contoso.onmicrosoft.com changed: Add member to role by admin@contoso.onmicrosoft.com"
    );
    assert_eq!(role.subject.as_ref().unwrap()["id"], BG1);
    assert_eq!(role.links[0].text, "Audit log");
    let known = |audit: &str| {
        alerts
            .iter()
            .find(|a| a.evidence["auditId"] == audit)
            .map(|a| a.evidence["knownActivity"].clone())
    };
    assert_eq!(known("aud-revoke"), Some(serde_json::json!(false)));
    assert_eq!(known("aud-enable"), Some(serde_json::json!(true)));
}

async fn audit_changes_off_reads_no_audits<F: Fixture>(f: F) {
    let body = [
        USERS.to_string(),
        audit("aud-reset", "Reset password", BG1, "-3h"),
    ]
    .concat();
    let emu = start(scenario(true, false, &body)).await;
    let stores = Stores::new(f.open().await);
    emu.reset_stats();
    let report = run_once(
        &emu,
        &stores,
        &bg_config(&[BG1, BG2], "audit_changes = false"),
    )
    .await
    .unwrap();
    assert_eq!(report.alerts_recorded, 0);
    // One sign-in request (both kinds, beta) and one account lookup for both accounts (`id in (...)`); no
    // audit request.
    assert_eq!(emu.stats().family("reports"), 2);
}

async fn an_account_not_exercised_is_reminded_once_per_period<F: Fixture>(f: F) {
    let body = USERS.replace(
        "id = \"0b000000-0000-4000-8000-0000000000b2\"\nuserPrincipalName = \"bg2@contoso.onmicrosoft.com\"\ndisplayName = \"Break Glass 2\"\ncreatedDateTime = \"-1000d\"\nsignInActivity = { lastSuccessfulSignInDateTime = \"-1d\" }",
        "id = \"0b000000-0000-4000-8000-0000000000b2\"\nuserPrincipalName = \"bg2@contoso.onmicrosoft.com\"\ndisplayName = \"Break Glass 2\"\ncreatedDateTime = \"-1000d\"\nsignInActivity = { lastSuccessfulSignInDateTime = \"-100d\" }",
    );
    assert_ne!(body, USERS);
    let emu = start(scenario(true, false, &body)).await;
    let stores = Stores::new(f.open().await);
    let config = bg_config(&[BG1, BG2], "drill_max_age_days = 90");
    for hours in [0, 2, 24, 24 * 30] {
        emu.clock()
            .set(START.parse::<chrono::DateTime<chrono::Utc>>().unwrap() + Duration::hours(hours));
        run_once(&emu, &stores, &config).await.unwrap();
    }
    let alerts = recorded(&stores).await;
    assert_eq!(
        alerts.len(),
        1,
        "bg1 was drilled yesterday; bg2 once in this period"
    );
    let a = &alerts[0];
    assert_eq!(a.kind, types::BREAK_GLASS_DRILL_OVERDUE);
    assert_eq!(a.severity, Severity::Medium);
    assert_eq!(a.subject.as_ref().unwrap()["id"], BG2);
    assert_eq!(
        a.title,
        "Emergency account bg2@contoso.onmicrosoft.com has not been exercised since 2026-08-14T06:00:00Z (drill every 90 days)"
    );
    assert_eq!(a.evidence["daysSinceLastSuccess"], 100);
    // 91 days on: bg2 is in its next period (one more reminder) and bg1's drill of the day
    // before the start is now 92 days old (its first). Still once each.
    for days in [91, 92] {
        emu.clock()
            .set(START.parse::<chrono::DateTime<chrono::Utc>>().unwrap() + Duration::days(days));
        run_once(&emu, &stores, &config).await.unwrap();
    }
    let alerts = recorded(&stores).await;
    let subjects: Vec<&str> = alerts
        .iter()
        .map(|a| a.subject.as_ref().unwrap()["id"].as_str().unwrap())
        .collect();
    assert_eq!(alerts.len(), 3);
    assert_eq!(subjects.iter().filter(|s| **s == BG2).count(), 2);
    assert_eq!(subjects.iter().filter(|s| **s == BG1).count(), 1);
}

/// The app's `signInActivity` budget is spent (by other tenants' lookups): the run still reads the sign-ins and
/// audits and alerts the sign-in, sends no lookup, notes the deferral, and the next run with room does the lookup.
async fn an_account_lookup_the_shared_budget_cannot_afford_waits_for_a_later_run<F: Fixture>(f: F) {
    let body = USERS.replace(
        "signInActivity = { lastSuccessfulSignInDateTime = \"-1d\" }",
        "signInActivity = { lastSuccessfulSignInDateTime = \"-100d\" }",
    );
    let emu = start(scenario(true, false, &body)).await;
    let stores = Stores::new(f.open().await);
    let shared = SharedBudget::new(stores.budget.clone(), SharedLimits::default());
    let lookup = shared.windows(CLIENT, TENANT, &[Family::SignInActivity]);
    let spent = stores
        .budget
        .take(&lookup, Priority::Urgent, 10, wall_epoch_ms())
        .await
        .unwrap();
    assert_eq!(spent, Take::Granted { count: 10 });
    let options = ClientOptions {
        shared_budget: Some(shared),
        ..test_options()
    };
    let config = bg_config(&[BG1, BG2], "drill_max_age_days = 90");
    let run = |options: ClientOptions| {
        let graph: Arc<dyn GraphPort> = Arc::new(client_for(&emu, SECRET, options));
        let ctx = context(&stores, graph, emu.clock().now());
        let config = config.clone();
        async move { break_glass::run(&ctx, &config).await.unwrap() }
    };
    emu.reset_stats();
    let report = run(options.clone()).await;
    assert_eq!(emu.stats().family("sign_in_activity"), 0, "no lookup sent");
    assert!(
        emu.stats().family("reports") >= 2,
        "the sign-ins and audits were read"
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("account lookup deferred")),
        "notes: {:?}",
        report.notes
    );
    assert!(
        recorded(&stores).await.is_empty(),
        "no drill reminder without the lookup"
    );
    // The next run, when the app's window has room again (here: a client without the shared budget, rather
    // than waiting out the minute), does the lookup.
    let report = run(test_options()).await;
    assert!(report.notes.iter().all(|n| !n.contains("deferred")));
    assert_eq!(
        emu.stats().family("sign_in_activity"),
        1,
        "one lookup for both accounts"
    );
    let alerts = recorded(&stores).await;
    assert_eq!(
        alerts.len(),
        2,
        "both accounts' last success is 100 days old"
    );
    assert!(alerts
        .iter()
        .all(|a| a.kind == types::BREAK_GLASS_DRILL_OVERDUE));
}

conformance!(
    an_account_lookup_the_shared_budget_cannot_afford_waits_for_a_later_run,
    each_change_to_an_emergency_account_is_alerted_once,
    audit_changes_off_reads_no_audits,
    an_account_not_exercised_is_reminded_once_per_period,
);
