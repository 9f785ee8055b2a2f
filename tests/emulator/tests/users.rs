//! `/users` over real HTTP: paging, $select, $top caps, $filter rules, the generator.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;

#[tokio::test]
async fn users_paging_follows_next_link_to_the_end_without_repeats() {
    let emu = entrawatch_emulator::Emulator::start(sample_with(
        "[tenants.generator]\nusers = 2500\nseed = 1\n",
    ))
    .await
    .expect("starts");
    let t = token(&emu).await;
    let all = get_all(
        &emu,
        &t,
        "/v1.0/users?$top=999&$select=id,userPrincipalName",
    )
    .await;
    let ids: HashSet<&str> = all.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(all.len(), 2516);
    assert_eq!(ids.len(), all.len(), "no user twice");
}

#[tokio::test]
async fn top_above_500_with_sign_in_activity_is_a_400() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/users?$top=999&$select=id,signInActivity").await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = get(&emu, &t, "/v1.0/users?$top=500&$select=id,signInActivity").await;
    assert_eq!(status, 200);
    let (status, _, _) = get(&emu, &t, "/v1.0/users?$top=1000").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn select_returns_only_selected_properties_plus_id() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/users?$select=displayName,userType").await;
    assert_eq!(status, 200);
    for u in body["value"].as_array().expect("value") {
        let mut keys: Vec<&str> = u
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["displayName", "id", "userType"]);
    }
    let (status, _, body) = get(&emu, &t, "/v1.0/users?$select=shoeSize").await;
    assert_eq!((status, error_code(&body)), (400, "BadRequest"));
}

#[tokio::test]
async fn the_four_never_signed_in_shapes_come_back_verbatim() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/users?$select=displayName,userPrincipalName,signInActivity",
    )
    .await;
    assert_eq!(status, 200);
    let by_upn = |p: &str| -> Value {
        body["value"]
            .as_array()
            .and_then(|v| {
                v.iter()
                    .find(|u| {
                        u["userPrincipalName"]
                            .as_str()
                            .is_some_and(|x| x.starts_with(p))
                    })
                    .cloned()
            })
            .expect("user")
    };
    assert!(by_upn("never.missing").get("signInActivity").is_none());
    assert_eq!(
        by_upn("never.empty")["signInActivity"]["lastSuccessfulSignInDateTime"],
        ""
    );
    assert_eq!(
        by_upn("never.minvalue")["signInActivity"]["lastSignInDateTime"],
        "0001-01-01T00:00:00Z"
    );
    assert!(by_upn("never.null")["signInActivity"]["lastSignInDateTime"].is_null());
    let example: HashSet<String> = example_keys("user-list.v1.0.example11-signInActivity.json")
        .into_iter()
        .collect();
    let ours: HashSet<String> = by_upn("adele")
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    assert!(ours.is_superset(&example), "{ours:?} ⊉ {example:?}");
}

#[tokio::test]
async fn sign_in_activity_filter_cannot_be_combined_with_other_properties() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/users?$filter=signInActivity/lastSignInDateTime le 2026-01-01T00:00:00Z and userType eq 'Member'").await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "Request_UnsupportedQuery")
    );
}

#[tokio::test]
async fn unsupported_filters_are_a_400_not_a_guess() {
    let emu = sample().await;
    let t = token(&emu).await;
    for f in [
        "contains(displayName,'a')",
        "department eq 'x'",
        "signInActivity/lastSignInDateTime gt 2026-01-01T00:00:00Z",
        "userType eq",
    ] {
        let (status, _, body) = get(&emu, &t, &format!("/v1.0/users?$filter={f}")).await;
        assert_eq!(status, 400, "{f}: {body}");
    }
    let (status, _, _) = get(&emu, &t, "/v1.0/users?$orderby=displayName").await;
    assert_eq!(status, 400, "unknown query option");
}

#[tokio::test]
async fn last_successful_sign_in_filter_is_beta_only() {
    let emu = sample().await;
    let t = token(&emu).await;
    let q = "$filter=signInActivity/lastSuccessfulSignInDateTime le 2026-01-01T00:00:00Z";
    let (status, _, _) = get(&emu, &t, &format!("/v1.0/users?{q}")).await;
    assert_eq!(status, 400);
    let (status, _, _) = get(&emu, &t, &format!("/beta/users?{q}")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sign_in_activity_filters_select_by_date_and_eq_null() {
    let emu = sample().await;
    let t = token(&emu).await;
    let cutoff = (emu.clock().now() - chrono::Duration::days(180)).format("%Y-%m-%dT%H:%M:%SZ");
    let (_, _, body) = get(&emu, &t, &format!("/beta/users?$select=userPrincipalName,signInActivity&$filter=signInActivity/lastSuccessfulSignInDateTime le {cutoff}")).await;
    let upns: HashSet<&str> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str())
        .collect();
    assert!(upns.contains("megan.bowen@contoso.onmicrosoft.com"));
    assert!(
        upns.contains("never.minvalue@contoso.onmicrosoft.com"),
        "0001-01-01 is a date, and an old one"
    );
    assert!(!upns.contains("adele.vance@contoso.onmicrosoft.com"));
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/users?$filter=signInActivity/lastSignInDateTime eq null",
    )
    .await;
    assert_eq!(status, 200);
    // never.missing, never.empty, never.null and the pending guest (no signInActivity at all).
    assert_eq!(body["value"].as_array().map(Vec::len), Some(4), "{body}");
}

#[tokio::test]
async fn the_lossy_eq_null_fault_skips_users_without_the_success_property() {
    let emu = sample().await;
    let t = token(&emu).await;
    let path = "/beta/users?$select=userPrincipalName,signInActivity\
                &$filter=signInActivity/lastSuccessfulSignInDateTime eq null";
    let upns = |body: &Value| -> Vec<String> {
        let mut v: Vec<String> = body["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter_map(|u| {
                u["userPrincipalName"]
                    .as_str()
                    .map(|s| s.split('@').next().unwrap_or(s).to_string())
            })
            .collect();
        v.sort();
        v
    };
    let (_, _, honest) = get(&emu, &t, path).await;
    let missing = "never.missing".to_string();
    assert!(upns(&honest).contains(&missing), "{honest}");
    let status = admin_post(
        &emu,
        "/_emulator/faults",
        serde_json::json!({"null_filter_skips_missing": true}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, lossy) = get(&emu, &t, path).await;
    assert_eq!(status, 200, "Graph still accepts the filter");
    let lossy_upns = upns(&lossy);
    assert!(!lossy_upns.contains(&missing), "{lossy}");
    assert!(
        !lossy_upns.iter().any(|u| u.starts_with("pending.partner")),
        "no signInActivity at all"
    );
    assert!(
        lossy_upns.contains(&"never.null".to_string()),
        "an explicit null still matches"
    );
    assert!(lossy_upns.len() < upns(&honest).len());
    emu.faults().clear();
    let (_, _, again) = get(&emu, &t, path).await;
    assert_eq!(upns(&again), upns(&honest), "clear ends the fault");
}

#[tokio::test]
async fn ordinary_user_filters_combine_with_and() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/users?$filter=userType eq 'Guest' and startswith(userPrincipalName,'pending')&$select=externalUserState").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["value"][0]["externalUserState"], "PendingAcceptance");
    let (_, _, body) = get(&emu, &t, "/v1.0/users?$filter=accountEnabled eq false").await;
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1));
    let (_, _, body) = get(
        &emu,
        &t,
        &format!("/v1.0/users?$filter=id in ('{BG1}','{BG2}')"),
    )
    .await;
    assert_eq!(body["value"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn one_user_by_id_or_404() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(
        &emu,
        &t,
        &format!("/v1.0/users/{BG1}?$select=displayName,signInActivity"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["displayName"], "Break Glass 1");
    assert!(body["signInActivity"]["lastSuccessfulSignInDateTime"].is_string());
    let (status, _, body) = get(&emu, &t, "/v1.0/users/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "Request_ResourceNotFound")
    );
}

#[tokio::test]
async fn generator_is_deterministic_and_pages_ten_thousand_users_quickly() {
    let scenario = || sample_with("[tenants.generator]\nusers = 12000\nseed = 42\n");
    let mut s1 = scenario();
    s1.now = Some("2026-11-22T06:00:00Z".into());
    let mut s2 = s1.clone();
    s2.throttle.enabled = false;
    let a = entrawatch_emulator::Emulator::start(s1)
        .await
        .expect("starts");
    let b = entrawatch_emulator::Emulator::start(s2)
        .await
        .expect("starts");
    let (ta, tb) = (token(&a).await, token(&b).await);
    let started = std::time::Instant::now();
    let all = get_all(
        &a,
        &ta,
        "/v1.0/users?$top=999&$select=id,userType,accountEnabled,createdDateTime",
    )
    .await;
    assert_eq!(all.len(), 12016);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let id = all[9000]["id"].as_str().expect("id");
    let (_, _, mut ua) = get(
        &a,
        &ta,
        &format!("/v1.0/users/{id}?$select=userPrincipalName,signInActivity,createdDateTime"),
    )
    .await;
    let (_, _, mut ub) = get(
        &b,
        &tb,
        &format!("/v1.0/users/{id}?$select=userPrincipalName,signInActivity,createdDateTime"),
    )
    .await;
    for u in [&mut ua, &mut ub] {
        u.as_object_mut().expect("object").remove("@odata.context");
    }
    assert_eq!(ua, ub);
    assert!(ua["userPrincipalName"].is_string());
}

#[tokio::test]
async fn user_count_is_text_and_only_an_advanced_query() {
    let emu = entrawatch_emulator::Emulator::start(sample_with(
        "[tenants.generator]\nusers = 2500\nseed = 1\n",
    ))
    .await
    .expect("starts");
    let t = token(&emu).await;
    let count = |eventual: bool| {
        let mut request = http()
            .get(format!("{}/v1.0/users/$count", emu.url()))
            .bearer_auth(&t);
        if eventual {
            request = request.header("ConsistencyLevel", "eventual");
        }
        request.send()
    };
    let resp = count(true).await.expect("count");
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(
        resp.text().await.unwrap(),
        "2516",
        "sample users and generated ones"
    );
    let refused = count(false).await.expect("count");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(error_code(&body), "Request_BadRequest");
    assert_eq!(
        body["error"]["message"],
        "$count is not currently supported."
    );
}
