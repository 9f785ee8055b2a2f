//! Emergency-account posture routes (issue 16): Conditional Access policies (`Policy.Read.All`, one request a
//! second per tenant for all apps, 429 without `Retry-After`), a user's transitive groups, a user's authentication
//! methods (`UserAuthenticationMethod.Read.All`) and PIM's role assignment instances (P2), from the sample tenant.

mod common;

use common::*;
use entrawatch_emulator::Emulator;

const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";

#[tokio::test]
async fn conditional_access_policies_are_one_a_second_per_tenant_and_429_without_retry_after() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, "/v1.0/identity/conditionalAccess/policies").await;
    assert_eq!(status, 200, "{body}");
    let policies = body["value"].as_array().unwrap();
    assert_eq!(policies.len(), 3);
    assert_eq!(
        policies[0]["conditions"]["users"]["includeRoles"][0],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    // At once again: Graph's Conditional Access limit, and no Retry-After to say how long.
    let (status, retry, body) = get(&emu, &t, "/v1.0/identity/conditionalAccess/policies").await;
    assert_eq!(
        (status, retry, error_code(&body)),
        (429, None, "TooManyRequests")
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, _, _) = get(&emu, &t, "/v1.0/identity/conditionalAccess/policies").await;
    assert_eq!(status, 200, "a second later");
    assert_eq!(emu.stats().family("conditional_access"), 3);
}

#[tokio::test]
async fn without_policy_read_all_or_the_methods_permission_graph_refuses() {
    let mut s = sample_with("");
    s.tenants[0].apps[0]
        .permissions
        .retain(|p| p != "Policy.Read.All" && p != "UserAuthenticationMethod.Read.All");
    let emu = Emulator::start(s).await.unwrap();
    let t = token(&emu).await;
    for path in [
        "/v1.0/identity/conditionalAccess/policies".to_string(),
        format!("/v1.0/users/{BG1}/authentication/methods"),
    ] {
        let (status, _, body) = get(&emu, &t, &path).await;
        assert_eq!(
            (status, error_code(&body)),
            (403, "Authorization_RequestDenied"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn methods_groups_and_standing_roles_of_a_user() {
    let emu = sample().await;
    emu.faults().set_throttle(false);
    let t = token(&emu).await;
    let (status, _, body) = get(
        &emu,
        &t,
        &format!("/v1.0/users/{BG1}/authentication/methods"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let methods = body["value"].as_array().unwrap();
    assert_eq!(methods.len(), 1);
    assert_eq!(
        methods[0]["@odata.type"],
        "#microsoft.graph.fido2AuthenticationMethod"
    );
    assert!(
        methods[0].get("userId").is_none(),
        "the scenario's owner field is not Graph's"
    );
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/users/0b000000-0000-4000-8000-0000000000ff/authentication/methods",
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "Request_ResourceNotFound")
    );
    // Nested groups: Tier 0 Operators holds Tier 0 Administrators, which holds the user; both are listed.
    let groups = get_all(
        &emu,
        &t,
        "/v1.0/users/0a000000-0000-4000-8000-00000000000e/transitiveMemberOf/microsoft.graph.group?$select=id,displayName",
    )
    .await;
    let mut names: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["displayName"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["Tier 0 Administrators", "Tier 0 Operators"]);
    assert!(groups
        .iter()
        .all(|g| g["@odata.type"] == "#microsoft.graph.group"));
    let instances = get_all(
        &emu,
        &t,
        &format!("/v1.0/roleManagement/directory/roleAssignmentScheduleInstances?$filter=principalId%20eq%20'{BG1}'"),
    )
    .await;
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0]["assignmentType"], "Assigned");
}
