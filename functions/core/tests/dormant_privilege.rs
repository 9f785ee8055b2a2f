//! Privilege means privileged (issue 14), through the emulator's `roleDefinitions` (with `isPrivileged`) and PIM
//! for Groups `eligibilitySchedules`: a read-only role holder keeps the member threshold, a user eligible for
//! membership of a role-assignable group holding Global Administrator gets the privileged one, and an app without
//! the PIM for Groups permission still runs the job, with a note.

mod dormant_support;
mod state_support;

use std::sync::Arc;

use dormant_support::*;
use entrawatch_core::graph::GraphPort;
use entrawatch_core::jobs::dormant;
use entrawatch_core::jobs::JobReport;
use entrawatch_core::state::Stores;
use state_support::fixtures::Fixture;

/// Global Reader (REFERENCE.md §3 lists it nowhere; Entra ID marks it `isPrivileged: false`).
const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
/// "Tier0 Admins", role-assignable, holds Global Administrator in the scenario.
const TIER0: &str = "0e000000-0000-4000-8000-000000000001";

/// The rule tenant plus: account 02 (a dormant member) holds Global Reader; account 25 (a member active 60 days
/// ago: not dormant as a member, dormant as privileged) is eligible for membership of Tier0 Admins.
fn scenario(app_permissions: Option<&str>) -> String {
    let mut text = scenario_text();
    if let Some(permissions) = app_permissions {
        text = text.replace(
            "secret = \"test-secret-not-real\"\n",
            &format!("secret = \"test-secret-not-real\"\npermissions = {permissions}\n"),
        );
    }
    text.push_str(&format!(
        "\n[[tenants.role_assignments]]\nid = \"ra-reader\"\nroleDefinitionId = \"{GLOBAL_READER}\"\n\
         principalId = \"{}\"\n\n[[tenants.group_eligibility_schedules]]\nid = \"ges-tier0-member\"\n\
         groupId = \"{TIER0}\"\naccessId = \"member\"\nprincipalId = \"{}\"\nmemberType = \"direct\"\n\
         status = \"Provisioned\"\n",
        uid(2),
        uid(25)
    ));
    text
}

async fn run(text: &str) -> (JobReport, Stores) {
    let emu = emulator(text).await;
    let stores = Stores::new(state_support::fixtures::sqlite().await.open().await);
    let report = dormant::run(
        &ctx(client(&emu) as Arc<dyn GraphPort>, stores.clone(), now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    emu.stop().await;
    assert!(report.complete, "{report:?}");
    (report, stores)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_role_is_not_privileged_and_pim_for_groups_eligibility_is() {
    let (report, stores) = run(&scenario(None)).await;
    let findings = open_findings(&stores).await;
    let reader = &findings[&uid(2)]["evidence"];
    assert_eq!(reader["population"], "member", "{reader}");
    assert!(
        !reader["reasons"].to_string().contains("privileged"),
        "{reader}"
    );
    let eligible = &findings
        .get(&uid(25))
        .unwrap_or_else(|| panic!("25 is privileged: {:?}", findings.keys()))["evidence"];
    assert_eq!(eligible["population"], "privileged");
    assert_eq!(
        eligible["reasons"][1],
        "privileged: eligible through PIM for Groups for membership of group Tier0 Admins, which holds a \
         privileged role"
    );
    assert_eq!(report.notes[0], "scan started (signInActivity filter plan)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_pim_for_groups_permission_the_job_runs_and_says_so() {
    let permissions = "[\"User.Read.All\", \"AuditLog.Read.All\", \"Directory.Read.All\", \
                       \"RoleManagement.Read.Directory\", \"GroupMember.Read.All\"]";
    let (report, stores) = run(&scenario(Some(permissions))).await;
    assert!(
        report.notes[0].starts_with(
            "PIM for Groups eligibility not read (Graph answered 403: the app needs \
             PrivilegedEligibilitySchedule.Read.AzureADGroup"
        ),
        "{:?}",
        report.notes
    );
    let findings = open_findings(&stores).await;
    assert!(!findings.contains_key(&uid(25)), "not known to be eligible");
    assert_eq!(findings[&uid(14)]["evidence"]["population"], "privileged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_definitions_without_is_privileged_are_judged_by_the_template_list() {
    // The scenario declares its definitions without `isPrivileged`, as an older Graph would send them.
    let mut text = scenario(None);
    for (id, name) in [
        (
            "62e90394-69f5-4237-9190-012177145e10",
            "Global Administrator",
        ),
        (
            "e8611ab8-c189-46e8-94e1-60213ab1f814",
            "Privileged Role Administrator",
        ),
        ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
        (GLOBAL_READER, "Global Reader"),
    ] {
        text.push_str(&format!(
            "\n[[tenants.role_definitions]]\nid = \"{id}\"\ntemplateId = \"{id}\"\ndisplayName = \"{name}\"\n"
        ));
    }
    let (report, stores) = run(&text).await;
    assert!(
        report.notes[0].starts_with("4 role definitions carry no isPrivileged"),
        "{:?}",
        report.notes
    );
    let findings = open_findings(&stores).await;
    assert_eq!(findings[&uid(2)]["evidence"]["population"], "member");
    assert_eq!(findings[&uid(15)]["evidence"]["population"], "privileged");
}
