//! The admin surface, unknown paths, loopback-only binding and tenant-bound tokens.

mod common;

use common::*;
use entrawatch_emulator::{Emulator, Scenario};
use serde_json::{json, Value};

#[tokio::test]
async fn admin_endpoints_steer_clock_faults_stats_and_tokens() {
    let emu = sample().await;
    let c = http();
    let r = c
        .post(format!("{}/_emulator/clock", emu.url()))
        .json(&json!({"now": "2030-01-01T00:00:00Z", "frozen": true}))
        .send()
        .await
        .expect("clock");
    assert_eq!(r.status().as_u16(), 200);
    c.post(format!("{}/_emulator/clock", emu.url()))
        .json(&json!({"advance_seconds": 60}))
        .send()
        .await
        .expect("clock");
    assert_eq!(emu.clock().now().to_rfc3339(), "2030-01-01T00:01:00+00:00");
    let r = c
        .post(format!("{}/_emulator/faults", emu.url()))
        .json(&json!({"fail_next": {"status": 503, "count": 1, "retry_after": 2}}))
        .send()
        .await
        .expect("faults");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        token_for(&emu, TENANT, CLIENT, SECRET)
            .await
            .status()
            .as_u16(),
        503
    );
    let (_, stats) = admin_get(&emu, "/_emulator/stats").await;
    assert_eq!(stats["injected_faults"], 1);
    assert_eq!(stats["requests_total"], 1);
    let minted: Value = c
        .post(format!("{}/_emulator/tenants/{TENANT}/tokens", emu.url()))
        .json(&json!({"claims": {"aud": "api://x"}, "version": "v1"}))
        .send()
        .await
        .expect("mint")
        .json()
        .await
        .expect("json");
    assert_eq!(
        minted["access_token"]
            .as_str()
            .map(|t| t.split('.').count()),
        Some(3)
    );
    let rotated: Value = c
        .post(format!(
            "{}/_emulator/tenants/{TENANT}/keys/rotate",
            emu.url()
        ))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    assert!(rotated["kid"].is_string());
    let r = c
        .post(format!("{}/_emulator/faults", emu.url()))
        .json(&json!({"bogus": 1}))
        .send()
        .await
        .expect("faults");
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn unknown_paths_are_graph_shaped_404s() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/me/messages").await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "Request_ResourceNotFound")
    );
}

#[tokio::test]
async fn non_loopback_addresses_are_refused() {
    let err = Emulator::start_on(Scenario::sample(), "0.0.0.0:0".parse().expect("addr"))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("loopback"), "{err}");
}

#[tokio::test]
async fn graph_tokens_are_bound_to_their_tenant() {
    let mut s = Scenario::sample();
    let mut other = s.tenants[0].clone();
    other.id = "22222222-3333-4444-5555-666666666666".into();
    other.name = "fabrikam".into();
    other.domain = "fabrikam.onmicrosoft.com".into();
    other.users.truncate(1);
    s.tenants.push(other);
    let emu = Emulator::start(s).await.expect("starts");
    let body: Value = token_for(&emu, "fabrikam.onmicrosoft.com", CLIENT, SECRET)
        .await
        .json()
        .await
        .expect("json");
    let t = body["access_token"].as_str().expect("token");
    let all = get_all(&emu, t, "/v1.0/users").await;
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn graph_tokens_expire_after_the_configured_lifetime() {
    let mut s = Scenario::sample();
    s.token_lifetime_seconds = Some(1);
    let emu = Emulator::start(s).await.expect("starts");
    let body: Value = token_for(&emu, TENANT, CLIENT, SECRET)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(body["expires_in"], 1);
    let t = body["access_token"].as_str().expect("token");
    assert_eq!(get(&emu, t, "/v1.0/users").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _, body) = get(&emu, t, "/v1.0/users").await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "InvalidAuthenticationToken")
    );
}

#[tokio::test]
async fn throttle_priority_header_is_accepted_and_counted() {
    let emu = sample().await;
    let t = token(&emu).await;
    let resp = http()
        .get(format!("{}/v1.0/users", emu.url()))
        .bearer_auth(&t)
        .header("x-ms-throttle-priority", "High")
        .header("client-request-id", "abc-123")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()
            .get("client-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("abc-123")
    );
    assert_eq!(emu.stats().throttle_priority_requests, 1);
}

#[tokio::test]
async fn graph_refuses_missing_and_unknown_tokens() {
    let emu = sample().await;
    let (status, _, body) = get(&emu, "", "/v1.0/users").await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "InvalidAuthenticationToken")
    );
    assert_eq!(body["error"]["message"], "Access token is empty.");
    let (status, _, body) = get(&emu, "not-a-token", "/v1.0/users").await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "InvalidAuthenticationToken")
    );
    for k in ["date", "request-id", "client-request-id"] {
        assert!(body["error"]["innerError"].get(k).is_some(), "{k}");
    }
}

#[tokio::test]
async fn malformed_paging_and_query_values_are_400s_not_crashes() {
    let emu = sample().await;
    emu.faults().set_throttle(false);
    let t = token(&emu).await;
    for path in [
        "/v1.0/users?$skiptoken=%%%",
        "/v1.0/users?$skiptoken=dXNlcnM6OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
        "/v1.0/auditLogs/signIns?$skiptoken=bm9wZQ",
        "/v1.0/auditLogs/directoryAudits?$top=-1",
        "/v1.0/groups/06000000-0000-4000-8000-000000000001/transitiveMembers?$skiptoken=eA",
        "/v1.0/roleManagement/directory/roleAssignments?$expand=roleDefinition",
        "/v1.0/users?$filter=(((",
        "/v1.0/users?$top=99999999999999999999999",
        "/v2.0/users",
    ] {
        let (status, _, body) = get(&emu, &t, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["error"]["code"].is_string(), "{path}");
    }
    let huge = "dHJhbnNpdGl2ZU1lbWJlcnM6MTg0NDY3NDQwNzM3MDk1NTE2MTU"; // transitiveMembers:u64::MAX
    let (status, _, _) = get(
        &emu,
        &t,
        &format!(
            "/v1.0/groups/06000000-0000-4000-8000-000000000001/transitiveMembers?$skiptoken={huge}"
        ),
    )
    .await;
    assert_eq!(status, 200);
}
