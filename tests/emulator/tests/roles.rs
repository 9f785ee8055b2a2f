//! Role definitions (with `isPrivileged`) and PIM for Groups eligibility schedules over real HTTP (Graph docs
//! `rbacapplication-list-roledefinitions.md`, `privilegedaccessgroup-list-eligibilityschedules.md`).

mod common;

use common::*;
use serde_json::Value;

const TIER0: &str = "06000000-0000-4000-8000-000000000001";
const GROUP_SCHEDULES: &str =
    "/v1.0/identityGovernance/privilegedAccess/group/eligibilitySchedules";

fn with_group_eligibility() -> entrawatch_emulator::Scenario {
    sample_with(&format!(
        "[[tenants.group_eligibility_schedules]]\nid = \"ges-1\"\ngroupId = \"{TIER0}\"\naccessId = \"member\"\n\
         principalId = \"0a000000-0000-4000-8000-000000000003\"\nmemberType = \"direct\"\nstatus = \"Provisioned\"\n\n\
         [[tenants.group_eligibility_schedules]]\nid = \"ges-2\"\n\
         groupId = \"06000000-0000-4000-8000-000000000002\"\naccessId = \"owner\"\n\
         principalId = \"0a000000-0000-4000-8000-000000000004\"\n"
    ))
}

#[tokio::test]
async fn role_definitions_say_which_roles_are_privileged() {
    let emu = sample().await;
    let t = token(&emu).await;
    let (status, _, body) = get(
        &emu,
        &t,
        "/v1.0/roleManagement/directory/roleDefinitions?$select=id,templateId,displayName,isPrivileged",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let by_name = |name: &str| -> Value {
        body["value"]
            .as_array()
            .expect("value")
            .iter()
            .find(|d| d["displayName"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {body}"))
    };
    assert_eq!(by_name("Global Administrator")["isPrivileged"], true);
    assert_eq!(by_name("Global Reader")["isPrivileged"], false);
    assert_eq!(
        by_name("Global Reader")["id"],
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
    );
    assert!(
        by_name("Global Reader").get("isBuiltIn").is_none(),
        "$select honoured"
    );
}

#[tokio::test]
async fn group_eligibility_needs_a_group_or_principal_filter_and_honours_it() {
    let emu = entrawatch_emulator::Emulator::start(with_group_eligibility())
        .await
        .expect("starts");
    let t = token(&emu).await;
    let (status, _, body) = get(&emu, &t, GROUP_SCHEDULES).await;
    assert_eq!(
        status, 400,
        "Graph refuses a list without the filter: {body}"
    );
    let (status, _, body) = get(
        &emu,
        &t,
        &format!("{GROUP_SCHEDULES}?$filter=groupId eq '{TIER0}'&$expand=principal"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rows = body["value"].as_array().expect("value");
    assert_eq!(rows.len(), 1, "only that group's: {body}");
    assert_eq!(rows[0]["accessId"], "member");
    assert_eq!(rows[0]["principal"]["@odata.type"], "#microsoft.graph.user");
    let (status, _, body) = get(
        &emu,
        &t,
        &format!("{GROUP_SCHEDULES}?$filter=principalId eq '0a000000-0000-4000-8000-000000000004'"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["value"][0]["accessId"], "owner", "{body}");
}

#[tokio::test]
async fn group_eligibility_without_the_permission_is_a_403() {
    let mut scenario = with_group_eligibility();
    scenario.tenants[0].apps[0]
        .permissions
        .retain(|p| p != "PrivilegedEligibilitySchedule.Read.AzureADGroup");
    let emu = entrawatch_emulator::Emulator::start(scenario)
        .await
        .expect("starts");
    let t = token(&emu).await;
    let (status, _, body) = get(
        &emu,
        &t,
        &format!("{GROUP_SCHEDULES}?$filter=groupId eq '{TIER0}'"),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (403, "Authorization_RequestDenied")
    );
}
