//! The scheduled break-glass function end to end, as Lambda runs it: the real binary polls a local
//! Lambda Runtime API, reads its configuration from the environment, reads Graph from the
//! emulator, keeps state in DynamoDB (moto) and delivers signed webhooks to a local receiver.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;
mod support;

use std::collections::HashSet;
use std::time::Duration;

use entrawatch_emulator::{Emulator, Scenario};
use entrawatch_runtime_api_double::{spawn_function, Outcome, RuntimeApi};
use outbox_support::{signature_verifies, Receiver, SECRET};
use serde_json::json;
use support::{config_toml, emf_lines, function_env, BG1, BG2, BINARY};

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_run_delivers_each_alert_once_across_invocations() {
    let emulator = Emulator::start(Scenario::sample()).await.unwrap();
    let receiver = Receiver::start(0, 200).await;
    let sdk = state_support::sdk_config().await;
    let table = state_support::fresh_table(&sdk).await;
    let api = RuntimeApi::start(Duration::from_secs(120)).await;
    let stdout = std::env::temp_dir().join(format!("entrawatch-bg-fn-{}.log", std::process::id()));
    let mut function = spawn_function(
        BINARY,
        &api,
        &function_env(
            config_toml(&emulator.url(), &[BG1, BG2], ""),
            &table,
            state_support::moto_url(),
            &receiver.url,
            SECRET,
        ),
        &stdout,
    );

    api.invoke("req-1", json!({"job": "break-glass"}));
    let first = api.outcome("req-1", Duration::from_secs(90)).await;
    let Outcome::Response(summary) = first else {
        panic!("first invocation failed: {first:?}");
    };
    let raised = summary["results"][0]["report"]["alerts_recorded"]
        .as_u64()
        .unwrap();
    assert_eq!(summary["results"][0]["outcome"], "done", "{summary}");
    assert!(
        raised >= 3,
        "the sample tenant has sign-ins and audits on its emergency accounts: {summary}"
    );
    // The sink's weekly heartbeat goes out with the first run's alerts, once.
    assert_eq!(summary["heartbeats_recorded"], 1, "{summary}");
    assert_eq!(summary["delivered"].as_u64(), Some(raised + 1), "{summary}");

    let received = receiver.received();
    assert_eq!(received.len() as u64, raised + 1);
    assert!(
        received.iter().all(signature_verifies),
        "every delivery is signed"
    );
    let bodies = receiver.accepted_bodies();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"break_glass.sign_in"), "{types:?}");
    assert!(types.contains(&"monitoring.heartbeat"), "{types:?}");
    assert!(types.contains(&"break_glass.sign_in_failed"), "{types:?}");
    assert!(
        bodies
            .iter()
            .any(|b| b["type"] == "break_glass.account_changed"
                && b["data"]["evidence"]["activity"] == "Reset password"),
        "{types:?}"
    );
    let ids: HashSet<&str> = bodies
        .iter()
        .map(|b| b["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), bodies.len(), "one delivery per alert");

    // A second scheduled invocation of the warm function: nothing new, nothing sent twice.
    api.invoke("req-2", json!({"job": "break-glass"}));
    let Outcome::Response(again) = api.outcome("req-2", Duration::from_secs(90)).await else {
        panic!("second invocation failed");
    };
    assert_eq!(
        again["results"][0]["report"]["alerts_recorded"], 0,
        "{again}"
    );
    assert_eq!(again["heartbeats_recorded"], 0, "one heartbeat per period");
    assert_eq!(receiver.received().len() as u64, raised + 1);

    // A malformed schedule input fails the invocation, says why, and is not retryable.
    api.invoke("req-3", json!({"job": "brake-glass"}));
    match api.outcome("req-3", Duration::from_secs(30)).await {
        Outcome::Error {
            error_type,
            message,
        } => {
            assert_eq!(error_type, "entrawatch.ActionRequired");
            assert_eq!(
                message,
                "scheduled input: unknown job \"brake-glass\"; expected break-glass, dormant, workloads, watch or all"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }
    function.kill().ok();
    function.wait().ok();

    let emf = emf_lines(&stdout);
    assert_eq!(emf.len(), 2, "one EMF line per completed run");
    assert_eq!(emf[0]["Job"], "break-glass");
    assert_eq!(emf[0]["RunsSucceeded"], 1);
    assert_eq!(emf[0]["AlertsRaised"].as_u64(), Some(raised));
    assert_eq!(emf[1]["AlertsRaised"], 0);
    for line in &emf {
        assert_eq!(line["SinksBroken"], 0, "{line}");
        assert_eq!(line["AlertsOverdue"], 0, "{line}");
        assert_eq!(line["OldestPendingDeliveryAge"], 0, "{line}");
    }
    let _ = std::fs::remove_file(&stdout);
    emulator.stop().await;
}
