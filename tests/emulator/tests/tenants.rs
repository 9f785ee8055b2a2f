//! One multi-tenant app registration in many tenants (issue 13): the app-wide budgets every tenant draws on
//! (Graph docs `concepts/throttling-limits.md`, "Identity and access reports service limits"), an app held
//! at 429, per-app statistics and the generated many-tenant scenario.

mod common;

use common::*;
use entrawatch_emulator::{
    many_tenants, Answered, Budget, Emulator, ManyTenants, ManyTenantsSpec, ThrottleClock,
};
use serde_json::json;
use std::time::Duration;

const SIGN_INS: &str = "/v1.0/auditLogs/signIns";
const AUDITS: &str = "/v1.0/auditLogs/directoryAudits";
const SIA: &str = "/v1.0/users?$select=id,signInActivity";
const OTHER_APP: &str = "bbbbbbbb-0000-4000-8000-000000000002";

fn budget(requests: u32, per_seconds: u64) -> Budget {
    Budget {
        requests,
        per_seconds,
    }
}

/// `tenants` generated tenants of one app, with `edit` applied to the scenario before it starts.
async fn start(tenants: u16, edit: impl FnOnce(&mut ManyTenants)) -> (Emulator, ManyTenants) {
    let mut m = many_tenants(&ManyTenantsSpec {
        tenants,
        ..Default::default()
    });
    edit(&mut m);
    let emu = Emulator::start(m.scenario.clone()).await.expect("starts");
    (emu, m)
}

/// One token per tenant, all for the same client id and secret.
async fn tokens(emu: &Emulator, m: &ManyTenants) -> Vec<String> {
    let mut out = Vec::new();
    for t in &m.tenants {
        out.push(token_of(emu, &t.id, &m.client_id, &m.client_secret).await);
    }
    out
}

async fn status(emu: &Emulator, token: &str, path: &str) -> u16 {
    get(emu, token, path).await.0
}

/// Sends each (token, path) in order and checks its status.
async fn expect_statuses(emu: &Emulator, steps: &[(&str, &str, u16)]) {
    for (n, (token, path, want)) in steps.iter().enumerate() {
        assert_eq!(status(emu, token, path).await, *want, "step {n}: {path}");
    }
}

#[tokio::test]
async fn one_client_id_and_secret_sign_in_to_every_tenant_and_read_only_it() {
    let (emu, m) = start(3, |_| {}).await;
    let tokens = tokens(&emu, &m).await;
    for (t, token) in m.tenants.iter().zip(&tokens) {
        let (code, _, body) = get(&emu, token, "/v1.0/organization").await;
        assert_eq!((code, body["value"][0]["id"].as_str()), (200, Some(&*t.id)));
    }
}

#[tokio::test]
async fn two_tenants_of_one_app_share_the_app_wide_reports_window() {
    let (emu, m) = start(2, |m| m.scenario.throttle.reports_per_app = budget(3, 10)).await;
    let t = tokens(&emu, &m).await;
    let (t0, t1) = (t[0].as_str(), t[1].as_str());
    expect_statuses(
        &emu,
        &[(t0, SIGN_INS, 200), (t0, AUDITS, 200), (t1, SIGN_INS, 200)],
    )
    .await;
    for token in &t {
        let (code, retry, body) = get(&emu, token, AUDITS).await;
        assert_eq!((code, error_code(&body)), (429, "TooManyRequests"));
        let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
        assert!((1..=10).contains(&secs), "{secs}");
    }
    assert_eq!(
        status(&emu, &t[1], "/v1.0/users").await,
        200,
        "directory reads are not reports"
    );
}

#[tokio::test]
async fn per_tenant_windows_still_apply_and_their_refusals_spend_no_app_budget() {
    let (emu, m) = start(2, |m| {
        m.scenario.throttle.reports = budget(2, 10);
        m.scenario.throttle.reports_per_app = budget(3, 10);
    })
    .await;
    let t = tokens(&emu, &m).await;
    for _ in 0..2 {
        assert_eq!(status(&emu, &t[0], SIGN_INS).await, 200);
    }
    for _ in 0..3 {
        assert_eq!(
            status(&emu, &t[0], SIGN_INS).await,
            429,
            "tenant 0's window"
        );
    }
    assert_eq!(status(&emu, &t[1], SIGN_INS).await, 200, "the app's third");
    assert_eq!(status(&emu, &t[1], SIGN_INS).await, 429, "the app's window");
}

#[tokio::test]
async fn sign_in_activity_reads_share_the_app_wide_minute() {
    let (emu, m) = start(3, |m| {
        m.scenario.throttle.sign_in_activity_per_app = budget(2, 60);
    })
    .await;
    let t = tokens(&emu, &m).await;
    assert_eq!(status(&emu, &t[0], SIA).await, 200);
    assert_eq!(status(&emu, &t[1], SIA).await, 200);
    let (code, retry, _) = get(&emu, &t[2], SIA).await;
    assert_eq!(code, 429);
    let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((50..=60).contains(&secs), "{secs}");
    assert_eq!(
        status(&emu, &t[2], SIGN_INS).await,
        200,
        "the reports budget has room"
    );
}

#[tokio::test]
async fn an_app_held_at_429_is_refused_in_every_tenant_until_its_time_ends() {
    let (emu, m) = start(3, |m| {
        m.scenario.freeze_clock = true;
        m.scenario.throttle.clock = ThrottleClock::Emulated;
        m.scenario.throttle.enabled = false;
        let mut other = m.scenario.tenants[0].apps[0].clone();
        other.client_id = OTHER_APP.into();
        m.scenario.tenants[0].apps.push(other);
    })
    .await;
    let t = tokens(&emu, &m).await;
    let held = format!("/_emulator/apps/{}/throttle", m.client_id);
    let hold = json!({"for_seconds": 30, "retry_after": 7});
    assert_eq!(admin_post(&emu, &held, hold).await, 204);
    for token in &t {
        for path in [SIGN_INS, AUDITS, SIA] {
            let (code, retry, body) = get(&emu, token, path).await;
            assert_eq!(
                (code, retry.as_deref(), error_code(&body)),
                (429, Some("7"), "TooManyRequests"),
                "{path}"
            );
        }
        assert_eq!(status(&emu, token, "/v1.0/users").await, 200);
    }
    let other = token_of(&emu, &m.tenants[0].id, OTHER_APP, &m.client_secret).await;
    assert_eq!(status(&emu, &other, SIGN_INS).await, 200, "other apps run");
    emu.clock().advance(chrono::Duration::seconds(29));
    assert_eq!(status(&emu, &t[2], SIGN_INS).await, 429);
    emu.clock().advance(chrono::Duration::seconds(1));
    for token in &t {
        assert_eq!(status(&emu, token, SIGN_INS).await, 200, "the hold ended");
    }
    emu.hold_app_at_429(&m.client_id, Duration::from_secs(40), None)
        .expect("known app");
    let (_, retry, _) = get(&emu, &t[1], AUDITS).await;
    assert_eq!(retry.as_deref(), Some("40"), "the time left by default");
    assert_eq!(emu.stats().injected_faults, 3 * 3 + 1 + 1);
}

#[tokio::test]
async fn app_endpoints_refuse_unknown_apps_and_bad_bodies() {
    let (emu, m) = start(1, |_| {}).await;
    let unknown = "/_emulator/apps/00000000-0000-0000-0000-000000000000";
    let hold = json!({"for_seconds": 1});
    assert_eq!(
        admin_post(&emu, &format!("{unknown}/throttle"), hold).await,
        404
    );
    assert_eq!(admin_get(&emu, &format!("{unknown}/stats")).await.0, 404);
    assert!(emu.app_stats("nope").is_err());
    let held = format!("/_emulator/apps/{}/throttle", m.client_id);
    assert_eq!(admin_post(&emu, &held, json!({"seconds": 1})).await, 400);
}

#[tokio::test]
async fn app_stats_count_what_was_answered_per_family_and_tenant() {
    let (emu, m) = start(2, |m| m.scenario.throttle.reports = budget(1, 10)).await;
    let t = tokens(&emu, &m).await;
    let (t0, t1) = (t[0].as_str(), t[1].as_str());
    let steps = [
        (t0, SIGN_INS, 200),
        (t0, AUDITS, 429),
        (t1, SIA, 200),
        (t1, "/v1.0/users", 200),
    ];
    expect_statuses(&emu, &steps).await;
    let (_, body) = admin_get(&emu, &format!("/_emulator/apps/{}/stats", m.client_id)).await;
    let n = |requests, throttled_429| json!({"requests": requests, "throttled_429": throttled_429});
    assert_eq!(
        body,
        json!({
            "client_id": m.client_id,
            "requests": 4,
            "throttled_429": 1,
            "by_family": {"reports": n(3, 1), "sign_in_activity": n(1, 0), "directory": n(1, 0)},
            "by_tenant": {m.tenants[0].id.clone(): n(2, 1), m.tenants[1].id.clone(): n(2, 0)},
        })
    );
    let s = emu.app_stats(&m.client_id).expect("known app");
    assert_eq!(
        s.family("reports"),
        Answered {
            requests: 3,
            throttled_429: 1
        }
    );
    emu.reset_stats();
    let s = emu.app_stats(&m.client_id).expect("known app");
    assert_eq!((s.requests, s.throttled_429), (0, 0));
}

#[tokio::test]
async fn generated_tenants_serve_their_break_glass_sign_ins_and_dormant_members() {
    let spec = ManyTenantsSpec {
        tenants: 3,
        sign_ins_per_break_glass: 2,
        users: 6,
        dormant_users: 2,
        ..Default::default()
    };
    let mut m = many_tenants(&spec);
    m.scenario.throttle.enabled = false;
    let emu = Emulator::start(m.scenario.clone()).await.expect("starts");
    let t = tokens(&emu, &m).await;
    let year_ago = (emu.clock().now() - chrono::Duration::days(365)).format("%Y-%m-%dT%H:%M:%SZ");
    for (tenant, token) in m.tenants.iter().zip(&t) {
        let mut seen = Vec::new();
        for bg in &tenant.break_glass {
            let path = format!("{SIGN_INS}?$filter=userId eq '{bg}'");
            for s in get_all(&emu, token, &path).await {
                assert_eq!(s["status"]["errorCode"], 0);
                seen.push(s["id"].as_str().expect("id").to_string());
            }
        }
        seen.sort();
        let mut expected = tenant.break_glass_sign_ins.clone();
        expected.sort();
        assert_eq!(seen, expected, "{}", tenant.id);
        let path = format!(
            "/beta/users?$select=id,signInActivity&$filter=signInActivity/lastSuccessfulSignInDateTime le {year_ago}"
        );
        let dormant: Vec<String> = get_all(&emu, token, &path)
            .await
            .iter()
            .map(|u| u["id"].as_str().expect("id").to_string())
            .collect();
        assert_eq!(dormant, tenant.dormant_users);
        assert_eq!(get_all(&emu, token, "/v1.0/users").await.len(), 2 + 6);
    }
}

/// Issue 13's scale: building and serving a thousand tenants takes a few seconds in a debug build.
#[tokio::test]
async fn a_thousand_tenants_of_one_app_start_and_answer() {
    let m = many_tenants(&ManyTenantsSpec {
        tenants: 1000,
        users: 20,
        ..Default::default()
    });
    let emu = Emulator::start(m.scenario.clone()).await.expect("starts");
    for t in [&m.tenants[0], &m.tenants[999]] {
        let token = token_of(&emu, &t.id, &m.client_id, &m.client_secret).await;
        assert_eq!(get_all(&emu, &token, "/v1.0/users").await.len(), 2 + 20);
    }
}
