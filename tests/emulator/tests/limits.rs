//! Throttling, licences, permissions, injected faults and the admin surface.

mod common;

use common::*;
use entrawatch_emulator::{Emulator, Scenario};

fn scenario_with(edit: impl FnOnce(&mut Scenario)) -> Scenario {
    let mut s = Scenario::sample();
    edit(&mut s);
    s
}

#[tokio::test]
async fn sixth_report_call_in_the_window_gets_429_with_retry_after() {
    let emu = sample().await;
    let t = token(&emu).await;
    for _ in 0..5 {
        let (status, _, _) = get(&emu, &t, "/v1.0/auditLogs/signIns").await;
        assert_eq!(status, 200);
    }
    let (status, retry, body) = get(&emu, &t, "/v1.0/auditLogs/directoryAudits").await;
    assert_eq!((status, error_code(&body)), (429, "TooManyRequests"));
    let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=10).contains(&secs));
    assert_eq!(emu.stats().throttled_429, 1);
    let (status, _, _) = get(&emu, &t, "/v1.0/users").await;
    assert_eq!(status, 200, "directory reads are not in the reports budget");
}

#[tokio::test]
async fn sign_in_activity_pages_count_against_their_own_budget() {
    let emu = Emulator::start(scenario_with(|s| {
        s.throttle.reports.requests = 100;
        s.throttle.sign_in_activity.requests = 2;
    }))
    .await
    .expect("starts");
    let t = token(&emu).await;
    for _ in 0..2 {
        assert_eq!(
            get(&emu, &t, "/v1.0/users?$select=id,signInActivity")
                .await
                .0,
            200
        );
    }
    let (status, retry, _) = get(&emu, &t, "/v1.0/users?$select=id,signInActivity").await;
    assert_eq!(status, 429);
    assert!(retry.is_some());
    assert_eq!(emu.stats().family("sign_in_activity"), 3);
    assert_eq!(
        emu.stats().family("reports"),
        3,
        "signInActivity reads are report calls too"
    );
}

#[tokio::test]
async fn tenant_without_premium_answers_the_licence_error() {
    let emu = Emulator::start(scenario_with(|s| s.tenants[0].premium = false))
        .await
        .expect("starts");
    let t = token(&emu).await;
    for path in [
        "/v1.0/auditLogs/signIns",
        "/v1.0/users?$select=id,signInActivity",
    ] {
        let (status, _, body) = get(&emu, &t, path).await;
        assert_eq!(
            (status, error_code(&body)),
            (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant"),
            "{path}"
        );
        assert_eq!(
            body["error"]["message"],
            "Neither tenant is B2C or tenant doesn't have premium license"
        );
    }
    assert_eq!(get(&emu, &t, "/v1.0/users").await.0, 200);
}

#[tokio::test]
async fn tenant_without_p2_refuses_eligibility_schedules() {
    let emu = Emulator::start(scenario_with(|s| s.tenants[0].p2 = false))
        .await
        .expect("starts");
    let t = token(&emu).await;
    let (status, _, _) = get(
        &emu,
        &t,
        "/v1.0/roleManagement/directory/roleEligibilitySchedules",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        get(&emu, &t, "/v1.0/roleManagement/directory/roleAssignments")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn missing_permissions_answer_403_with_graph_codes() {
    let emu = Emulator::start(scenario_with(|s| {
        s.tenants[0].apps[0].permissions = vec!["User.Read.All".into()]
    }))
    .await
    .expect("starts");
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/auditLogs/signIns").await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authentication_MSGraphPermissionMissing")
    );
    let (status, _, body) = get(&emu, &t, "/v1.0/roleManagement/directory/roleAssignments").await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authorization_RequestDenied")
    );
    assert_eq!(
        body["error"]["message"],
        "Insufficient privileges to complete the operation."
    );
}

#[tokio::test]
async fn injected_faults_answer_first_then_clear() {
    let emu = sample().await;
    let t = token(&emu).await;
    emu.faults().fail_next(503, 2, Some(2));
    for _ in 0..2 {
        let (status, retry, body) = get(&emu, &t, "/v1.0/users").await;
        assert_eq!(
            (status, retry.as_deref(), error_code(&body)),
            (503, Some("2"), "ServiceUnavailable")
        );
    }
    assert_eq!(get(&emu, &t, "/v1.0/users").await.0, 200);
    let stats = emu.stats();
    assert_eq!(stats.injected_faults, 2);
    assert_eq!(stats.family("token"), 1);
    assert_eq!(stats.family("directory"), 3);
}

#[tokio::test]
async fn role_assignments_expand_principals_with_their_types() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/roleManagement/directory/roleAssignments?$expand=principal",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let types: Vec<&str> = body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|a| a["principal"]["@odata.type"].as_str())
        .collect();
    for ty in [
        "#microsoft.graph.user",
        "#microsoft.graph.group",
        "#microsoft.graph.servicePrincipal",
    ] {
        assert!(types.contains(&ty), "{ty}");
    }
    let example =
        example_keys("rbacapplication-list-roleassignments.v1.0.example1-expand-principal.json");
    for k in &example {
        assert!(body["value"][0].get(k).is_some(), "{k}");
    }
    let (_, _, body) = get(
        &emu,
        &t,
        &format!("/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '{BG1}'"),
    )
    .await;
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1));
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/roleManagement/directory/roleEligibilitySchedules?$expand=principal",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["value"][0]["principal"]["@odata.type"],
        "#microsoft.graph.user"
    );
    assert_eq!(
        body["value"][0]["scheduleInfo"]["expiration"]["type"],
        "afterDateTime"
    );
}

#[tokio::test]
async fn transitive_members_walk_nested_groups_once_despite_cycles() {
    let emu = sample().await;
    let t = token(&emu).await;
    let all = get_all(
        &emu,
        &t,
        "/v1.0/groups/06000000-0000-4000-8000-000000000001/transitiveMembers?$top=1",
    )
    .await;
    let ids: Vec<&str> = all.iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "0a000000-0000-4000-8000-00000000000e",
            "06000000-0000-4000-8000-000000000002",
            "0a000000-0000-4000-8000-000000000001"
        ]
    );
    assert_eq!(all[1]["@odata.type"], "#microsoft.graph.group");
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/groups/00000000-0000-0000-0000-000000000000/transitiveMembers",
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "Request_ResourceNotFound")
    );
}
