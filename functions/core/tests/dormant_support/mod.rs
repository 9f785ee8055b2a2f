//! Shared set-up for the dormant job tests: the rule tenant (`tests/emulator/scenarios/dormant.toml`), a Graph
//! client against the emulator, a job context over a state fixture, and readers for findings and alerts.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use entrawatch_core::alert::{Alert, Route, Severity, TenantRef};
use entrawatch_core::config::DormantConfig;
use entrawatch_core::graph::{
    ClientCredential, ClientOptions, Cloud, GraphClient, GraphPort, PacingLimits, TenantConnection,
};
use entrawatch_core::jobs::JobContext;
use entrawatch_core::outbox::Outbox;
use entrawatch_core::progress::Progress;
use entrawatch_core::state::{FindingStatus, Stores};
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};
use serde_json::Value;

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
pub const SECRET: &str = "test-secret-not-real";
pub const SINK: &str = "pd";

/// The object id of rule account `n` of the scenario.
pub fn uid(n: u32) -> String {
    format!("0d000000-0000-4000-8000-0000000000{n:02}")
}

/// The scenario's frozen `now`.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap()
}

pub fn scenario_text() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/emulator/scenarios/dormant.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The scenario with user `n`'s block passed through `edit` (return "" to delete the user).
pub fn edit_user(text: &str, n: u32, edit: impl Fn(&str) -> String) -> String {
    let marker = "[[tenants.users]]\n";
    let id_line = format!("id = \"{}\"", uid(n));
    let mut parts: Vec<String> = text.split(marker).map(str::to_string).collect();
    let hit = parts
        .iter()
        .position(|p| p.starts_with(&id_line))
        .unwrap_or_else(|| panic!("user {n} not in scenario"));
    // The last user's block runs into the groups section: keep that tail.
    let (block, tail) = match parts[hit].find("\n# ----------") {
        Some(i) => (
            parts[hit][..i + 1].to_string(),
            parts[hit][i + 1..].to_string(),
        ),
        None => (parts[hit].clone(), String::new()),
    };
    let edited = edit(&(marker.to_string() + &block));
    let mut out = parts[..hit].join(marker);
    out.push_str(&edited);
    out.push_str(&tail);
    parts.drain(..=hit);
    if !parts.is_empty() {
        out.push_str(marker);
        out.push_str(&parts.join(marker));
    }
    out
}

/// The scenario with its frozen `now` moved by `days`, so relative dates move with the job's clock.
pub fn shifted(text: &str, days: i64) -> String {
    let at = now() + chrono::Duration::days(days);
    text.replace(
        "now = \"2026-11-22T06:00:00Z\"",
        &format!("now = \"{}\"", at.format("%Y-%m-%dT%H:%M:%SZ")),
    )
}

pub async fn emulator(text: &str) -> Emulator {
    let scenario = Scenario::from_toml_str(text).unwrap_or_else(|e| panic!("scenario: {e}"));
    Emulator::start(scenario)
        .await
        .unwrap_or_else(|e| panic!("emulator starts: {e}"))
}

pub fn options(pacing: PacingLimits) -> ClientOptions {
    ClientOptions {
        pacing,
        run_deadline: Duration::from_secs(120),
        max_retries: 5,
        ..ClientOptions::default()
    }
}

pub fn client_with(emu: &Emulator, options: ClientOptions) -> Arc<GraphClient> {
    connect(emu, SECRET, options)
}

/// An unpaced client of an app with another secret (the sample tenant's).
pub fn client_with_secret(emu: &Emulator, secret: &str) -> Arc<dyn GraphPort> {
    connect(emu, secret, options(PacingLimits::unlimited()))
}

fn connect(emu: &Emulator, secret: &str, options: ClientOptions) -> Arc<GraphClient> {
    let conn = TenantConnection {
        tenant_id: TENANT.into(),
        tenant_name: "contoso".into(),
        client_id: CLIENT.into(),
        credential: ClientCredential::Secret(Secret::new(secret)),
        cloud: Cloud::Global,
        graph_url: Some(emu.url()),
        login_url: Some(emu.url()),
    };
    Arc::new(GraphClient::new(conn, options).unwrap_or_else(|e| panic!("client: {e}")))
}

/// No pacing: for tests that are not about pacing.
pub fn client(emu: &Emulator) -> Arc<GraphClient> {
    client_with(emu, options(PacingLimits::unlimited()))
}

/// The rule tenant's exclusions on top of the defaults, then `extra` TOML lines.
pub fn config(extra: &str) -> DormantConfig {
    let text = format!(
        "exclude_users = [\"{}\"]\nexclude_groups = [\"0e000000-0000-4000-8000-000000000002\"]\n\
         exclude_upn_patterns = [\"svc-*@contoso.onmicrosoft.com\"]\n{extra}",
        uid(20)
    );
    toml::from_str(&text).unwrap_or_else(|e| panic!("config: {e}"))
}

pub fn break_glass() -> Vec<String> {
    vec![uid(19)]
}

/// A job context whose outbox routes every alert to one sink named [`SINK`].
pub fn ctx(graph: Arc<dyn GraphPort>, stores: Stores, now: DateTime<Utc>) -> JobContext {
    let route = Route {
        sink: SINK.into(),
        min_severity: Severity::Info,
        types: vec![],
        tenants: vec![],
    };
    JobContext {
        tenant: TenantRef {
            id: TENANT.into(),
            name: "contoso".into(),
        },
        graph,
        outbox: Outbox::new(stores.outbox.clone(), vec![route]),
        stores,
        now,
        progress: Progress::none(),
    }
}

/// Open findings: object id → stored data.
pub async fn open_findings(stores: &Stores) -> BTreeMap<String, Value> {
    stores
        .findings
        .list_findings(TENANT, "dormant")
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.status == FindingStatus::Open)
        .map(|f| (f.key, f.data))
        .collect()
}

/// Alerts recorded since the last call, oldest first (marks them delivered).
pub async fn take_alerts(stores: &Stores) -> Vec<Alert> {
    let due = stores.outbox.due(i64::MAX / 2, 100_000).await.unwrap();
    let mut alerts = Vec::new();
    for d in due {
        let key = entrawatch_core::state::DeliveryKey {
            alert_id: d.alert_id.clone(),
            sink: d.sink.clone(),
        };
        let now = i64::MAX / 2;
        let claimed = stores.outbox.claim(&key, "test", now, now).await.unwrap();
        assert!(claimed.is_some());
        stores.outbox.mark_sent(&key, "test", 0).await.unwrap();
        alerts.push(Alert::from_json(&d.alert).unwrap());
    }
    alerts
}
