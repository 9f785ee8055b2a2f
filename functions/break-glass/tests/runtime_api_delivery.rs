//! The scheduled function when delivery breaks, as Lambda runs it (real binary, local Runtime
//! API, emulator, DynamoDB on moto): a sink whose URL secret does not resolve is down, not fatal
//! (the run succeeds, the healthy sink delivers and hears `delivery.failing`), and the EMF line
//! reports the broken sink, the alert that has reached no sink for too long and the age of the
//! oldest pending delivery, which the template's alarms read.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;
mod support;

use std::sync::Arc;
use std::time::Duration;

use entrawatch_core::outbox::Outbox;
use entrawatch_core::state::dynamodb::DynamoStore;
use entrawatch_emulator::{Emulator, Scenario};
use entrawatch_runtime_api_double::{spawn_function, Outcome, RuntimeApi};
use outbox_support::{alert, Receiver, SECRET};
use serde_json::{json, Value};
use support::{config_toml, emf_lines, function_env, BG1, BINARY};

/// A Slack sink whose URL secret was deleted.
const CHAT_SINK: &str = r#"
[[sinks]]
name = "chat"
type = "slack"
url = "env:CHAT_WEBHOOK_URL_DELETED"
types = ["break_glass.*"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_sink_and_an_overdue_alert_are_in_the_emf_line_and_the_run_goes_on() {
    let emulator = Emulator::start(Scenario::sample()).await.unwrap();
    let receiver = Receiver::start(0, 200).await;
    let sdk = state_support::sdk_config().await;
    let table = state_support::fresh_table(&sdk).await;
    // An alert recorded 20 minutes ago for the chat sink only: it has reached no sink since.
    let store = Arc::new(DynamoStore::from_sdk_config(&sdk, table.clone()));
    let stuck = alert("stuck-since-the-secret-was-deleted");
    let recorded = chrono::Utc::now().timestamp() - 20 * 60;
    Outbox::new(store, vec![])
        .record_to(&stuck, &["chat".to_string()], recorded)
        .await
        .unwrap();

    let api = RuntimeApi::start(Duration::from_secs(120)).await;
    let stdout = std::env::temp_dir().join(format!("entrawatch-bg-dl-{}.log", std::process::id()));
    let mut function = spawn_function(
        BINARY,
        &api,
        &function_env(
            config_toml(&emulator.url(), &[BG1], CHAT_SINK),
            &table,
            state_support::moto_url(),
            &receiver.url,
            SECRET,
        ),
        &stdout,
    );
    api.invoke("req-1", json!({"job": "break-glass"}));
    let outcome = api.outcome("req-1", Duration::from_secs(90)).await;
    function.kill().ok();
    function.wait().ok();
    let Outcome::Response(summary) = outcome else {
        panic!("a broken sink must not fail the invocation: {outcome:?}");
    };
    assert_eq!(summary["results"][0]["outcome"], "done", "{summary}");

    let bodies = receiver.accepted_bodies();
    let failing: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["type"] == "delivery.failing")
        .collect();
    assert_eq!(failing.len(), 1, "{bodies:?}");
    assert_eq!(failing[0]["data"]["evidence"]["sink"], "chat");
    let reason = failing[0]["data"]["evidence"]["lastError"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains("CHAT_WEBHOOK_URL_DELETED"),
        "names the reference: {reason}"
    );
    assert!(
        bodies.iter().any(|b| b["type"] == "break_glass.sign_in"),
        "the healthy sink delivers the run's alerts"
    );

    let emf = emf_lines(&stdout);
    assert_eq!(emf.len(), 1);
    let line = &emf[0];
    let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    for name in ["SinksBroken", "AlertsOverdue", "OldestPendingDeliveryAge"] {
        assert!(declared.contains(&name), "{name} is declared: {line}");
    }
    assert_eq!(line["RunsSucceeded"], 1, "the jobs ran: {line}");
    assert_eq!(line["SinksBroken"], 1, "{line}");
    assert_eq!(line["SinksBrokenNames"], json!(["chat"]), "{line}");
    assert_eq!(line["AlertsOverdue"], 1, "{line}");
    assert_eq!(line["OverdueOnSinks"], json!(["chat"]), "{line}");
    let age = line["OldestPendingDeliveryAge"].as_i64().unwrap();
    assert!((20 * 60..30 * 60).contains(&age), "{line}");
    let _ = std::fs::remove_file(&stdout);
    emulator.stop().await;
}
