//! Credentials added to privileged apps, and dormant service principals, against the emulator, state on SQLite
//! and DynamoDB (issue 15). A secret added to an app whose service principal holds
//! `RoleManagement.ReadWrite.Directory` is `workload.credential_added` (high) within one frequent run, once; the
//! same on an unprivileged app is not; the frequent schedule (`break-glass`) runs the watch. A dormant service
//! principal is in the `workload.dormant` digest, a first-party one is not, and one that signs in again is
//! resolved in the next digest.

mod break_glass_support;
mod state_support;
mod workloads_support;

use std::sync::Arc;

use break_glass_support::*;
use entrawatch_core::alert::{types, Severity};
use entrawatch_core::config::Config;
use entrawatch_core::jobs::{run_jobs, JobName, JobRun, TenantJobOutcome};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::state::Stores;
use state_support::fixtures::Fixture;
use workloads_support::*;

const PRIV_APP: &str = "b0000000-0000-4000-8000-000000000001";
const PRIV_APP_ID: &str = "b1000000-0000-4000-8000-000000000001";
const PRIV_SP: &str = "b2000000-0000-4000-8000-000000000001";
const PLAIN_APP: &str = "b0000000-0000-4000-8000-000000000002";
const PLAIN_APP_ID: &str = "b1000000-0000-4000-8000-000000000002";
const PLAIN_SP: &str = "b2000000-0000-4000-8000-000000000002";
const NEW_KEY: &str = "d0000000-0000-4000-8000-0000000000a1";

/// A "Certificates and secrets management" audit adding `NEW_KEY` to `app` two minutes ago (shaped after Graph
/// docs `directoryaudit-list.md`; Entra writes the activity with an en dash).
fn added_audit(id: &str, app: &str, name: &str) -> String {
    format!(
        r#"
[[tenants.audits]]
id = "{id}"
category = "ApplicationManagement"
correlationId = "c-{id}"
result = "success"
activityDisplayName = "Update application – Certificates and secrets management "
activityDateTime = "-2m"
loggedByService = "Core Directory"
operationType = "Update"
initiatedBy = {{ user = {{ id = "0a000000-0000-4000-8000-00000000000b", userPrincipalName = "mallory@contoso.onmicrosoft.com" }} }}
targetResources = [{{ id = "{app}", displayName = "{name}", type = "Application", modifiedProperties = [{{ displayName = "KeyDescription", oldValue = "[]", newValue = "[\"[KeyIdentifier={NEW_KEY},KeyType=Password,KeyUsage=Verify,DisplayName=<@here> click]\"]" }}] }}]
"#
    )
}

fn tenant_body() -> String {
    let mut body = graph_service_principal();
    body += &app_with_credential(
        "Automation <!channel>",
        PRIV_APP,
        PRIV_APP_ID,
        PRIV_SP,
        "d0000000-0000-4000-8000-000000000001",
        "password",
        "+300d",
    );
    body += &app_with_credential(
        "Wiki",
        PLAIN_APP,
        PLAIN_APP_ID,
        PLAIN_SP,
        "d0000000-0000-4000-8000-000000000002",
        "password",
        "+300d",
    );
    body += &grant("grant-1", PRIV_SP, ROLE_MANAGEMENT_READ_WRITE);
    body += &grant("grant-2", PLAIN_SP, USER_READ_ALL);
    body += &added_audit("audit-priv", PRIV_APP, "Automation <!channel>");
    body += &added_audit("audit-plain", PLAIN_APP, "Wiki");
    body
}

async fn a_secret_added_to_a_privileged_app_alerts_high_once_and_an_unprivileged_one_not<
    F: Fixture,
>(
    f: F,
) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &tenant_body())).await;
    // No sweep has run: the watch judges the target itself.
    let (examined, alerts) = watch(&emu, &stores).await.unwrap();
    assert_eq!((examined, alerts), (2, 1));
    let all = recorded(&stores).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let a = &all[0];
    assert_eq!(a.kind, types::WORKLOAD_CREDENTIAL_ADDED);
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.id, id_of(types::WORKLOAD_CREDENTIAL_ADDED, "audit-priv"));
    assert_eq!(a.evidence["keyId"], NEW_KEY);
    assert_eq!(
        a.evidence["privilege"][0],
        "application permission RoleManagement.ReadWrite.Directory"
    );
    assert_eq!(a.subject.as_ref().unwrap()["appId"], PRIV_APP_ID);
    // Five minutes on, the overlap re-reads both audits: nothing new.
    emu.clock().advance(chrono::Duration::minutes(5));
    let (_, again) = watch(&emu, &stores).await.unwrap();
    assert_eq!(again, 0);
    assert_eq!(recorded(&stores).await.len(), 1);
}

fn full_config(emu: &entrawatch_emulator::Emulator) -> Config {
    let text = format!(
        "[[tenants]]\nname = \"contoso\"\nid = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n\
         credential = {{ type = \"secret\", secret = \"{SECRET}\" }}\n\
         graph_url = \"{url}\"\nlogin_url = \"{url}\"\n\n[tenants.workloads]\n\n\
         [delivery]\nheartbeat_days = 0\n\n\
         [graph]\nreports_per_10s = 100000\nreports_per_tenant_per_10s = 100000\nsign_in_activity_per_minute = 100000\n",
        url = emu.url()
    );
    Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("config: {e}"))
}

async fn the_frequent_schedule_runs_the_watch_for_a_workloads_tenant<F: Fixture>(f: F) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &tenant_body())).await;
    let config = full_config(&emu);
    let resolver = SecretResolver::new();
    let jobs = JobName::scheduled("break-glass").unwrap();
    let summary = run_jobs(JobRun {
        config: &config,
        jobs: &jobs,
        tenants: None,
        stores: stores.clone(),
        resolver: &resolver,
        sinks: Vec::<Arc<dyn entrawatch_core::sinks::Sink>>::new(),
        now: emu.clock().now(),
        owner: "test-frequent".into(),
        deadline: std::time::Duration::from_secs(60),
        graph_options: Default::default(),
    })
    .await;
    let jobs_run: Vec<&str> = summary.results.iter().map(|r| r.job).collect();
    assert_eq!(
        jobs_run,
        vec!["watch"],
        "no break-glass section, so only the watch"
    );
    assert!(
        matches!(&summary.results[0].outcome, TenantJobOutcome::Done { report } if report.alerts_recorded == 1),
        "{:?}",
        summary.results[0].outcome
    );
}

/// Service principal sign-in activity rows (beta `servicePrincipalSignInActivities`).
fn activity(app_id: &str, last: &str) -> String {
    format!(
        r#"
[[tenants.service_principal_sign_in_activities]]
id = "spa-{app_id}"
appId = "{app_id}"
lastSignInActivity = {{ lastSignInDateTime = "{last}", lastSignInRequestId = "r-{app_id}" }}
applicationAuthenticationClientSignInActivity = {{ lastSignInDateTime = "{last}" }}
"#
    )
}

fn dormancy_body(wiki_last: &str) -> String {
    let mut body = tenant_body();
    body += &activity(PRIV_APP_ID, "-1d");
    body += &activity(PLAIN_APP_ID, wiki_last);
    // A first-party service principal with no sign-in on record, and a managed identity idle for 120 days.
    body += r#"
[[tenants.service_principals]]
id = "b2000000-0000-4000-8000-0000000000f1"
appId = "b1000000-0000-4000-8000-0000000000f1"
displayName = "Microsoft Teams Services"
servicePrincipalType = "Application"
appOwnerOrganizationId = "72f988bf-86f1-41af-91ab-2d7cd011db47"
accountEnabled = true

[[tenants.service_principals]]
id = "b2000000-0000-4000-8000-0000000000e1"
appId = "b1000000-0000-4000-8000-0000000000e1"
displayName = "vm-build-01"
servicePrincipalType = "ManagedIdentity"
accountEnabled = true
"#;
    body += &activity("b1000000-0000-4000-8000-0000000000e1", "-120d");
    body
}

async fn a_dormant_service_principal_is_in_the_digest_and_a_first_party_one_is_not<F: Fixture>(
    f: F,
) {
    let stores = Stores::new(f.open().await);
    let emu = start(scenario(true, false, &dormancy_body("-200d"))).await;
    sweep(&emu, &stores, &config("")).await.unwrap();
    let digests: Vec<_> = recorded(&stores)
        .await
        .into_iter()
        .filter(|a| a.kind == types::WORKLOAD_DORMANT)
        .collect();
    assert_eq!(digests.len(), 1);
    let d = &digests[0];
    assert_eq!(d.severity, Severity::Low);
    let mut names: Vec<(String, String)> = d.extra["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["subject"]["displayName"].as_str().unwrap().to_string(),
                f["evidence"]["population"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("Wiki".to_string(), "application".to_string()),
            ("vm-build-01".to_string(), "managed_identity".to_string())
        ],
        "not Microsoft Graph nor Teams (first party), not the app that signed in yesterday"
    );
    // Again the same day: no news, no digest.
    sweep(&emu, &stores, &config("")).await.unwrap();
    assert_eq!(
        recorded(&stores)
            .await
            .iter()
            .filter(|a| a.kind == types::WORKLOAD_DORMANT)
            .count(),
        1
    );
    // The wiki signs in again: the next digest resolves it.
    let mut back = scenario(true, false, &dormancy_body("-1h"));
    back.now = Some((emu.clock().now() + chrono::Duration::minutes(1)).to_rfc3339());
    let emu = start(back).await;
    sweep(&emu, &stores, &config("")).await.unwrap();
    let digests: Vec<_> = recorded(&stores)
        .await
        .into_iter()
        .filter(|a| a.kind == types::WORKLOAD_DORMANT)
        .collect();
    assert_eq!(digests.len(), 2);
    let last = digests
        .iter()
        .find(|d| d.extra["totals"]["resolved"] == 1)
        .expect("a resolving digest");
    assert_eq!(last.extra["resolved"][0]["subject"]["displayName"], "Wiki");
    assert_eq!(last.extra["totals"]["open"], 1);
}

conformance!(
    a_secret_added_to_a_privileged_app_alerts_high_once_and_an_unprivileged_one_not,
    the_frequent_schedule_runs_the_watch_for_a_workloads_tenant,
    a_dormant_service_principal_is_in_the_digest_and_a_first_party_one_is_not,
);
