//! Shared set-up for the break-glass job tests: an emulated tenant with a frozen clock, the job
//! run directly (`break_glass::run`) or through `run_jobs` (what the CLI and Lambda call), and the
//! alerts it left in the outbox. Each test body is generic over the state backend
//! (`conformance!` runs it on SQLite and on DynamoDB/moto).
#![allow(dead_code)]

pub mod crash;
mod small_pages;

pub use small_pages::SmallPages;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entrawatch_core::alert::{alert_id, Alert, Route, Severity, TenantRef};
use entrawatch_core::config::{BreakGlassConfig, Config};
use entrawatch_core::graph::{
    ClientCredential, ClientOptions, Cloud, GraphClient, GraphPort, PacingLimits, TenantConnection,
};
use entrawatch_core::jobs::{
    break_glass, run_jobs, JobContext, JobError, JobName, JobReport, JobRun, RunSummary,
};
use entrawatch_core::outbox::Outbox;
use entrawatch_core::progress::Progress;
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::Sink;
use entrawatch_core::state::Stores;
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
pub const SECRET: &str = "test-secret-not-real";
pub const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
pub const BG2: &str = "0b000000-0000-4000-8000-0000000000b2";
pub const OTHER: &str = "0a000000-0000-4000-8000-00000000000b";
pub const START: &str = "2026-11-22T06:00:00Z";

/// bg1, bg2 (drilled yesterday) and one ordinary user.
pub const USERS: &str = r#"
[[tenants.users]]
id = "0b000000-0000-4000-8000-0000000000b1"
userPrincipalName = "bg1@contoso.onmicrosoft.com"
displayName = "Break Glass 1"
createdDateTime = "-1000d"
signInActivity = { lastSuccessfulSignInDateTime = "-1d" }

[[tenants.users]]
id = "0b000000-0000-4000-8000-0000000000b2"
userPrincipalName = "bg2@contoso.onmicrosoft.com"
displayName = "Break Glass 2"
createdDateTime = "-1000d"
signInActivity = { lastSuccessfulSignInDateTime = "-1d" }

[[tenants.users]]
id = "0a000000-0000-4000-8000-00000000000b"
userPrincipalName = "someone@contoso.onmicrosoft.com"
createdDateTime = "-100d"
"#;

/// A frozen-clock tenant "contoso" at [`START`], throttling off unless `throttle`; `body` holds
/// `[[tenants.*]]` tables (users, sign_ins, audits).
pub fn scenario(premium: bool, throttle: bool, body: &str) -> Scenario {
    let toml = format!(
        "now = \"{START}\"\nfreeze_clock = true\n[throttle]\nenabled = {throttle}\n\n\
         [[tenants]]\nid = \"{TENANT}\"\nname = \"contoso\"\npremium = {premium}\n\n\
         [[tenants.apps]]\nclient_id = \"{CLIENT}\"\nsecret = \"{SECRET}\"\n\n{body}\n"
    );
    Scenario::from_toml_str(&toml).unwrap_or_else(|e| panic!("test scenario: {e}"))
}

pub async fn start(scenario: Scenario) -> Emulator {
    Emulator::start(scenario)
        .await
        .unwrap_or_else(|e| panic!("emulator starts: {e}"))
}

/// `[tenants.break_glass]` as TOML, with defaults for what `extra` does not set, but the posture checks off
/// unless `extra` sets them (they have their own tests, `break_glass_posture.rs`).
pub fn bg_config(accounts: &[&str], extra: &str) -> BreakGlassConfig {
    let posture = if extra.contains("posture") {
        ""
    } else {
        "posture = false\n"
    };
    let text = format!(
        "accounts = {}\n{posture}{extra}\n",
        serde_json::to_string(accounts).unwrap()
    );
    toml::from_str(&text).unwrap_or_else(|e| panic!("break_glass config: {e}"))
}

pub fn tenant() -> TenantRef {
    TenantRef {
        id: TENANT.into(),
        name: "contoso".into(),
    }
}

/// The id the job gives the alert of `kind` about `event_key` (a sign-in or audit id).
pub fn id_of(kind: &str, event_key: &str) -> String {
    alert_id(kind, TENANT, event_key)
}

pub fn client_for(emu: &Emulator, secret: &str, options: ClientOptions) -> GraphClient {
    let conn = TenantConnection {
        tenant_id: TENANT.into(),
        tenant_name: "contoso".into(),
        client_id: CLIENT.into(),
        credential: ClientCredential::Secret(Secret::new(secret)),
        cloud: Cloud::Global,
        graph_url: Some(emu.url()),
        login_url: Some(emu.url()),
    };
    GraphClient::new(conn, options).unwrap_or_else(|e| panic!("client: {e}"))
}

/// No pacing, few retries, 20 s deadline, high priority as the runner sets it.
pub fn test_options() -> ClientOptions {
    ClientOptions {
        pacing: PacingLimits::unlimited(),
        run_deadline: Duration::from_secs(20),
        max_retries: 3,
        high_priority: true,
        ..ClientOptions::default()
    }
}

/// Every alert to one sink named "capture" (never delivered: tests read the outbox).
pub fn capture_route() -> Route {
    Route {
        sink: "capture".into(),
        min_severity: Severity::Info,
        types: vec![],
        tenants: vec![],
    }
}

/// An outbox routing every alert to the "capture" sink.
pub fn outbox(stores: &Stores) -> Outbox {
    Outbox::new(stores.outbox.clone(), vec![capture_route()])
}

pub fn context(stores: &Stores, graph: Arc<dyn GraphPort>, now: DateTime<Utc>) -> JobContext {
    JobContext {
        tenant: tenant(),
        graph,
        stores: stores.clone(),
        outbox: outbox(stores),
        now,
        progress: Progress::none(),
    }
}

/// One run of the job at the emulator's current time, through `break_glass::run`.
pub async fn run_once(
    emu: &Emulator,
    stores: &Stores,
    config: &BreakGlassConfig,
) -> Result<JobReport, JobError> {
    let graph: Arc<dyn GraphPort> = Arc::new(client_for(emu, SECRET, test_options()));
    break_glass::run(&context(stores, graph, emu.clock().now()), config).await
}

/// Every alert recorded and not yet delivered, oldest first (the capture sink never delivers).
pub async fn recorded(stores: &Stores) -> Vec<Alert> {
    let due = stores
        .outbox
        .due(i64::MAX / 4, 1000)
        .await
        .unwrap_or_else(|e| panic!("outbox due: {e}"));
    due.iter()
        .map(|d| Alert::from_json(&d.alert).unwrap_or_else(|e| panic!("stored alert: {e}")))
        .collect()
}

/// Sorted alert ids.
pub fn ids(alerts: &[Alert]) -> Vec<String> {
    let mut ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    ids.sort();
    ids
}

pub fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The stored window end (`None` before the first complete run).
pub async fn window_end(stores: &Stores) -> Option<String> {
    let value = stores
        .cursors
        .get_cursor(TENANT, "break-glass")
        .await
        .unwrap_or_else(|e| panic!("cursor: {e}"))?;
    value["windowEnd"].as_str().map(str::to_string)
}

/// A whole configuration for `run_jobs`: the emulated tenant with `break_glass` and one webhook
/// sink named "secops" (its URL is not used: the test passes the sink itself), no heartbeat (these
/// tests count the break-glass alerts).
pub fn full_config(emu: &Emulator, secret: &str, break_glass: &str) -> Config {
    let text = format!(
        "[[tenants]]\nname = \"contoso\"\nid = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n\
         credential = {{ type = \"secret\", secret = \"{secret}\" }}\n\
         graph_url = \"{url}\"\nlogin_url = \"{url}\"\n\n[tenants.break_glass]\n{posture}{break_glass}\n\n\
         [[sinks]]\nname = \"secops\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/unused\"\n\
         secret = \"whsec_dGVzdC1zaWduaW5nLWtleS1mb3ItZW50cmF3YXRjaC0zMmI=\"\nmin_severity = \"info\"\n\n\
         [delivery]\nheartbeat_days = 0\n\n\
         # These tests jump the emulated clock between runs; the shared Graph budget is kept on the wall\n\
         # clock, so its windows are opened wide here (the multi-tenant tests enforce the real ones).\n\
         [graph]\nreports_per_10s = 100000\nreports_per_tenant_per_10s = 100000\nsign_in_activity_per_minute = 100000\n",
        url = emu.url(),
        // The posture checks have their own tests (`break_glass_posture.rs`).
        posture = if break_glass.contains("posture") { "" } else { "posture = false\n" },
    );
    Config::from_toml_str(&text, "test.toml").unwrap_or_else(|e| panic!("config: {e}"))
}

/// `entrawatch run break-glass` as a function: the job under its lease, then delivery.
pub async fn run_all(
    config: &Config,
    stores: &Stores,
    sinks: Vec<Arc<dyn Sink>>,
    now: DateTime<Utc>,
    deadline: Duration,
) -> RunSummary {
    let resolver = SecretResolver::new();
    run_jobs(JobRun {
        config,
        jobs: &[JobName::BreakGlass],
        tenants: None,
        stores: stores.clone(),
        resolver: &resolver,
        sinks,
        now,
        owner: format!("test-{}", uuid::Uuid::new_v4().simple()),
        deadline,
        graph_options: Default::default(),
    })
    .await
}
