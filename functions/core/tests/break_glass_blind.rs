//! `monitoring.blind` against the emulator, state on SQLite and DynamoDB: licence, permission and
//! credential failures alert at once, transient ones only after `blind_after_minutes`; once per
//! outage, a recovery note when it works again; a configured account that does not exist alerts
//! once. The window never moves while the job is blind.

mod break_glass_support;
mod state_support;

use break_glass_support::*;
use chrono::Duration;
use entrawatch_core::alert::{types, Alert, Severity};
use entrawatch_core::config::BreakGlassConfig;
use entrawatch_core::jobs::{JobError, JobReport};
use entrawatch_core::state::Stores;
use entrawatch_emulator::Emulator;
use state_support::fixtures::Fixture;

const GONE: &str = "0b000000-0000-4000-8000-0000000000b9";

fn blind(alerts: &[Alert]) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|a| a.kind == types::MONITORING_BLIND)
        .collect()
}

async fn run_with(
    emu: &Emulator,
    stores: &Stores,
    config: &BreakGlassConfig,
    secret: &str,
) -> Result<JobReport, JobError> {
    let graph = std::sync::Arc::new(client_for(emu, secret, test_options()));
    entrawatch_core::jobs::break_glass::run(&context(stores, graph, emu.clock().now()), config)
        .await
}

/// Fails twice (one alert), then a tenant that works: one recovery note resolving it.
async fn outage_then_recovery(
    stores: &Stores,
    failing: &Emulator,
    failing_secret: &str,
    working: &Emulator,
    expected_error: &str,
    reason: &str,
) {
    let config = bg_config(&[BG1, BG2], "");
    for _ in 0..2 {
        let err = run_with(failing, stores, &config, failing_secret)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), expected_error);
        assert!(!err.is_retryable(), "a person must act");
        failing.clock().advance(Duration::minutes(5));
    }
    let alerts = recorded(stores).await;
    assert_eq!(alerts.len(), 1, "once per outage");
    let outage = &alerts[0];
    assert_eq!(outage.kind, types::MONITORING_BLIND);
    assert_eq!(outage.severity, Severity::High);
    assert_eq!(outage.evidence["reason"], reason);
    assert_eq!(outage.evidence["error"], expected_error);
    assert_eq!(
        window_end(stores).await,
        None,
        "no window moves while blind"
    );

    working.clock().set(failing.clock().now());
    let report = run_with(working, stores, &config, SECRET).await.unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("Graph reads work again")),
        "{:?}",
        report.notes
    );
    let alerts = recorded(stores).await;
    let blind = blind(&alerts);
    assert_eq!(blind.len(), 2);
    let recovery = blind.iter().find(|a| a.id != outage.id).unwrap();
    assert_eq!(recovery.evidence["reason"], "recovered");
    assert_eq!(recovery.resolves.as_deref(), Some(outage.id.as_str()));
    assert_eq!(
        recovery.title,
        "Break-glass monitoring of tenant contoso works again (blind since 2026-11-22T06:00:00Z)"
    );
    assert!(window_end(stores).await.is_some());

    working.clock().advance(Duration::minutes(5));
    run_with(working, stores, &config, SECRET).await.unwrap();
    assert_eq!(
        self::blind(&recorded(stores).await).len(),
        2,
        "one recovery note"
    );
}

async fn a_tenant_without_premium_is_blind_at_once_and_recovers<F: Fixture>(f: F) {
    let failing = start(scenario(false, false, USERS)).await;
    let working = start(scenario(true, false, USERS)).await;
    let stores = Stores::new(f.open().await);
    outage_then_recovery(
        &stores,
        &failing,
        SECRET,
        &working,
        &format!(
            "tenant contoso ({TENANT}): needs Entra ID P1 or P2 (Graph answered 403 \
             Authentication_RequestFromNonPremiumTenantOrB2CTenant on /beta/auditLogs/signIns)"
        ),
        "licence",
    )
    .await;
    assert_eq!(
        blind(&recorded(&stores).await)[0].title,
        "Break-glass monitoring of tenant contoso is blind: sign-in logs need Entra ID P1 or P2"
    );
}

async fn a_missing_permission_is_blind_at_once_and_recovers<F: Fixture>(f: F) {
    // The same tenant, its app first without AuditLog.Read.All, then with it.
    let granted = scenario(true, false, USERS);
    let mut not_granted = granted.clone();
    not_granted.tenants[0].apps[0].permissions = vec!["User.Read.All".into()];
    let failing_no_perm = start(not_granted).await;
    let working = start(granted).await;
    let stores = Stores::new(f.open().await);
    outage_then_recovery(
        &stores,
        &failing_no_perm,
        SECRET,
        &working,
        &format!(
            "tenant contoso ({TENANT}): the app lacks the Graph application permission AuditLog.Read.All \
             (Graph answered 403 Authentication_MSGraphPermissionMissing on /beta/auditLogs/signIns): grant it \
             and give admin consent"
        ),
        "permission",
    )
    .await;
}

async fn rejected_credentials_are_blind_at_once_and_recover<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, USERS)).await;
    let working = start(scenario(true, false, USERS)).await;
    let stores = Stores::new(f.open().await);
    outage_then_recovery(
        &stores,
        &emu,
        "wrong-secret",
        &working,
        &format!(
            "tenant contoso ({TENANT}): client secret rejected (AADSTS7000215): check the secret and that it \
             has not expired"
        ),
        "credentials",
    )
    .await;
}

/// Graph failing (503 after every retry) alerts only once it has lasted `blind_after_minutes`;
/// a short failure neither alerts nor notes a recovery.
async fn a_transient_outage_alerts_only_after_blind_after_minutes<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, USERS)).await;
    let stores = Stores::new(f.open().await);
    let config = bg_config(&[BG1, BG2], "blind_after_minutes = 60");
    let fail = |n| emu.faults().fail_next(503, n, Some(0));

    fail(4);
    let err = run_with(&emu, &stores, &config, SECRET).await.unwrap_err();
    assert!(err.is_retryable());
    emu.clock().advance(Duration::minutes(5));
    emu.faults().clear();
    let report = run_with(&emu, &stores, &config, SECRET).await.unwrap();
    assert_eq!(
        report.alerts_recorded, 0,
        "a short failure is not an outage alert"
    );
    assert!(recorded(&stores).await.is_empty());

    let started = emu.clock().now();
    for (minutes, alerts) in [(0, 0), (30, 0), (59, 0), (61, 1), (70, 1)] {
        emu.clock().set(started + Duration::minutes(minutes));
        fail(4);
        let err = run_with(&emu, &stores, &config, SECRET).await.unwrap_err();
        // Each run's first request is the token request: Entra ID is down as much as Graph.
        assert_eq!(
            err.to_string(),
            format!(
                "tenant contoso ({TENANT}): gave up on /oauth2/v2.0/token after 4 attempts (last: status 503)"
            )
        );
        assert_eq!(recorded(&stores).await.len(), alerts, "after {minutes} min");
    }
    let outage = recorded(&stores).await.remove(0);
    assert_eq!(outage.evidence["reason"], "graph_unavailable");
    assert_eq!(
        outage.title,
        "Break-glass monitoring of tenant contoso is blind: Graph has been failing"
    );
    emu.faults().clear();
    emu.clock().advance(Duration::minutes(5));
    run_with(&emu, &stores, &config, SECRET).await.unwrap();
    let alerts = recorded(&stores).await;
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[1].resolves.as_deref(), Some(outage.id.as_str()));
}

async fn a_configured_account_that_does_not_exist_is_alerted_once<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, USERS)).await;
    let stores = Stores::new(f.open().await);
    let config = bg_config(&[BG1, GONE], "");
    for hours in [0, 2, 5] {
        emu.clock()
            .set(START.parse::<chrono::DateTime<chrono::Utc>>().unwrap() + Duration::hours(hours));
        run_with(&emu, &stores, &config, SECRET).await.unwrap();
    }
    let alerts = recorded(&stores).await;
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.kind, types::MONITORING_BLIND);
    assert_eq!(a.evidence["reason"], "account_missing");
    assert_eq!(a.evidence["accountId"], GONE);
    assert_eq!(
        a.title,
        format!(
            "Emergency account {GONE} does not exist in tenant contoso: check break_glass.accounts or restore the account"
        )
    );
}

conformance!(
    a_tenant_without_premium_is_blind_at_once_and_recovers,
    a_missing_permission_is_blind_at_once_and_recovers,
    rejected_credentials_are_blind_at_once_and_recover,
    a_transient_outage_alerts_only_after_blind_after_minutes,
    a_configured_account_that_does_not_exist_is_alerted_once,
);
